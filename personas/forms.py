from django import forms
from django.utils.translation import gettext_lazy as _

from mybella.core import limits
from mybella.users.models import User
from personas.models import CommunicationStyle, PersonaProfile
from voices.models import CustomVoice, VoicePreset
from voices.selectors import custom_voice_list, preset_list

VOICE_FIELDS = ("voice_preset", "custom_voice", "voice_speed", "voice_stability")


class PersonaForm(forms.Form):
    """The persona modal: identity, personality and advanced sections."""

    name = forms.CharField(label=_("Name"), max_length=PersonaProfile.NAME_MAX_LENGTH)
    tagline = forms.CharField(
        label=_("Tagline"),
        max_length=limits.PERSONA_TAGLINE_MAX_CHARS,
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
        label=_("Bio"),
        max_length=limits.PERSONA_BIO_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
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
        max_length=limits.PERSONA_NOTES_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Anything else about how they talk."),
    )
    greeting = forms.CharField(
        label=_("Greeting"),
        max_length=limits.PERSONA_GREETING_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The first thing they say in a new conversation."),
    )
    system_prompt = forms.CharField(
        label=_("System prompt"),
        max_length=limits.PERSONA_SYSTEM_PROMPT_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Extra instructions for the AI model."),
    )
    example_dialogue = forms.CharField(
        label=_("Example dialogue"),
        max_length=limits.PERSONA_EXAMPLE_DIALOGUE_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A few lines in their voice. Use {{user}} and {{char}} for the speakers."),
    )

    voice_preset = forms.ModelChoiceField(
        label=_("Preset voice"),
        queryset=VoicePreset.objects.none(),
        required=False,
        empty_label=_("Default voice"),
        help_text=_("Who speaks when no cloned voice of yours is ready."),
    )
    custom_voice = forms.ModelChoiceField(
        label=_("Your voice"),
        queryset=CustomVoice.objects.none(),
        required=False,
        empty_label=_("None: use the preset"),
        error_messages={"invalid_choice": _("Choose one of your own voices.")},
    )
    voice_speed = forms.FloatField(
        label=_("Speed"),
        min_value=0.7,
        max_value=1.2,
        required=False,
        initial=1.0,
        widget=forms.NumberInput(attrs={"type": "range", "step": "0.05"}),
    )
    voice_stability = forms.FloatField(
        label=_("Stability"),
        min_value=0,
        max_value=1,
        required=False,
        initial=0.5,
        widget=forms.NumberInput(attrs={"type": "range", "step": "0.05"}),
        help_text=_("Lower is more expressive, higher more even."),
    )

    def __init__(self, *args: object, user: User | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Only the presets on offer and the user's own cloned voices are valid choices:
        # anyone else's voice id fails validation like an unknown one.
        self.fields["voice_preset"].queryset = preset_list()
        self.fields["custom_voice"].queryset = custom_voice_list(user=user)

    def clean_custom_voice(self) -> CustomVoice | None:
        voice = self.cleaned_data["custom_voice"]
        if voice is not None and voice.status == CustomVoice.Status.FAILED:
            raise forms.ValidationError(_("This voice failed to clone; try it again first."))
        return voice

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
        for name in VOICE_FIELDS:
            data.pop(name, None)
        return data

    def voice_fields(self) -> dict:
        """Return the voice choices `persona_set_voice` takes; fields not sent stay as they are."""
        sent = set(self.data) if self.is_bound else set()
        data, changes = self.cleaned_data, {}
        if "voice_preset" in sent:
            changes["preset"] = data["voice_preset"]
        if "custom_voice" in sent:
            changes["custom_voice"] = data["custom_voice"]
        if data.get("voice_speed") is not None:
            changes["speed"] = data["voice_speed"]
        if data.get("voice_stability") is not None:
            changes["stability"] = data["voice_stability"]
        return changes

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
            "voice_preset": persona.voice_preset_id or "",
            "custom_voice": persona.custom_voice_id or "",
            "voice_speed": persona.voice_speed,
            "voice_stability": persona.voice_stability,
        }


class CardImportForm(forms.Form):
    card = forms.FileField(
        label=_("Character card"),
        help_text=_("A .png or .json Character Card (V1, V2 or V3)."),
        widget=forms.FileInput(attrs={"accept": ".png,.json,image/png,application/json"}),
    )
