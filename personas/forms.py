from django import forms
from django.utils.translation import gettext_lazy as _

from personas.models import CommunicationStyle, PersonaProfile


class PersonaForm(forms.Form):
    """The persona modal: identity, personality and advanced sections."""

    name = forms.CharField(label=_("Name"), max_length=PersonaProfile.NAME_MAX_LENGTH)
    tagline = forms.CharField(
        label=_("Tagline"),
        max_length=140,
        required=False,
        help_text=_("One line that sums them up."),
    )
    avatar = forms.FileField(
        label=_("Avatar"),
        required=False,
        help_text=_("PNG, JPEG, WebP or GIF; cropped to a square."),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}),
    )
    remove_avatar = forms.BooleanField(label=_("Remove the current avatar"), required=False)
    bio = forms.CharField(
        label=_("Bio"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    traits = forms.CharField(
        label=_("Personality traits"),
        max_length=600,
        required=False,
        help_text=_("Separated by commas, e.g. warm, curious, witty."),
    )
    communication_style = forms.ChoiceField(
        label=_("Communication style"),
        choices=CommunicationStyle.choices,
        initial=CommunicationStyle.WARM,
    )
    communication_notes = forms.CharField(
        label=_("Style notes"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Anything else about how they talk."),
    )
    greeting = forms.CharField(
        label=_("Greeting"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The first thing they say in a new conversation."),
    )
    system_prompt = forms.CharField(
        label=_("System prompt"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Extra instructions for the AI model."),
    )
    example_dialogue = forms.CharField(
        label=_("Example dialogue"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A few lines in their voice. Use {{user}} and {{char}} for the speakers."),
    )

    def clean_traits(self) -> list[str]:
        traits: list[str] = []
        for trait in self.cleaned_data["traits"].split(","):
            trait = trait.strip()
            if len(trait) > PersonaProfile.TRAIT_MAX_LENGTH:
                raise forms.ValidationError(
                    _("“%(trait)s” is too long: keep each trait under %(max)d characters."),
                    params={"trait": trait[:20] + "…", "max": PersonaProfile.TRAIT_MAX_LENGTH},
                )
            if trait and trait.lower() not in {t.lower() for t in traits}:
                traits.append(trait)
        if len(traits) > PersonaProfile.TRAITS_MAX:
            raise forms.ValidationError(
                _("Give at most %(max)d traits."), params={"max": PersonaProfile.TRAITS_MAX}
            )
        return traits

    def persona_fields(self) -> dict:
        """Return the cleaned values the persona services take."""
        data = dict(self.cleaned_data)
        data.pop("avatar", None)
        data.pop("remove_avatar", None)
        return data

    @classmethod
    def initial_for(cls, persona: PersonaProfile) -> dict:
        return {
            "name": persona.name,
            "tagline": persona.tagline,
            "bio": persona.bio,
            "traits": ", ".join(persona.traits),
            "communication_style": persona.communication_style,
            "communication_notes": persona.communication_notes,
            "greeting": persona.greeting,
            "system_prompt": persona.system_prompt,
            "example_dialogue": persona.example_dialogue,
        }


class CardImportForm(forms.Form):
    card = forms.FileField(
        label=_("Character card"),
        help_text=_("A .png or .json Character Card (V1, V2 or V3)."),
        widget=forms.FileInput(attrs={"accept": ".png,.json,image/png,application/json"}),
    )
