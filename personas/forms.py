import re

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from mybella.core import limits
from mybella.users.models import User
from personas import rules
from personas.models import PersonaProfile
from voices.models import CustomVoice, VoicePreset
from voices.selectors import custom_voice_list, preset_list

VOICE_FIELDS = ("voice_preset", "custom_voice", "voice_speed", "voice_stability")


class TraitsTextField(forms.CharField):
    """Traits typed as one line separated by commas, cleaned strictly (`personas.rules`).

    Too many traits or one too long is an error, never a silent cut.
    """

    def __init__(self, **kwargs: object) -> None:
        # Room for the most traits at their longest, with their separators.
        kwargs.setdefault(
            "max_length", limits.PERSONA_TRAITS_MAX * (limits.PERSONA_TRAIT_MAX_CHARS + 2)
        )
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("Separated by commas, e.g. warm, curious, witty."))
        super().__init__(**kwargs)

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value: object) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):  # the stored value, when Django compares
            return rules.clean_traits(list(value), mode="strict")
        text = super().to_python(value)
        if self.max_length is not None:
            MaxLengthValidator(self.max_length)(text)
        return rules.traits_from_text(text, mode="strict")

    def run_validators(self, value: object) -> None:
        # CharField's validators are about text; the text was checked in to_python, and
        # the traits themselves by the rules.
        return None


class GreetingsTextField(forms.CharField):
    """Alternate greetings typed in one box, each separated from the next by a line of ---."""

    SEPARATOR = "---"

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        kwargs.setdefault(
            "help_text",
            _("Other ways they may open a new conversation. Put a line of --- between two."),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list | tuple):
            return f"\n{self.SEPARATOR}\n".join(str(item) for item in value)
        return value

    def to_python(self, value: object) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):  # the stored value, when Django compares
            return list(value)
        text = super().to_python(value)
        greetings = re.split(rf"(?m)^[ \t]*{re.escape(self.SEPARATOR)}[ \t]*$", text)
        return [greeting.strip() for greeting in greetings if greeting.strip()]

    def run_validators(self, value: object) -> None:
        limits.validate_alternate_greetings(value)


def bound_text_lengths(form: forms.BaseForm) -> None:
    """Put each persona text field's limit on its widget, read from the model field.

    The browser then stops typing at the limit; the model's validators still check it.
    """
    for name in PersonaProfile.EDITABLE_FIELDS:
        field = form.fields.get(name)
        limit = rules.field_max_chars(name)
        if limit and isinstance(field, forms.CharField) and not isinstance(field, TraitsTextField):
            field.widget.attrs.setdefault("maxlength", str(limit))


class PersonaForm(forms.ModelForm):
    """The persona modal: identity, personality and advanced sections.

    The fields, their limits and choices come from the model. The form is always bound
    to a new, unsaved instance (never the persona being edited): model validation runs on
    that copy, and `persona_fields()` goes to `persona_create`/`persona_update`, which
    write only what changed. Uniqueness of the name is the services' rule (they know the
    owner).
    """

    traits = TraitsTextField(label=_("Personality traits"))
    alternate_greetings = GreetingsTextField(label=_("Alternate greetings"))
    avatar = forms.FileField(
        label=_("Avatar"),
        required=False,
        help_text=_("PNG, JPEG, WebP or GIF; cropped to a square."),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}),
    )
    remove_avatar = forms.BooleanField(label=_("Remove the current avatar"), required=False)

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

    class Meta:
        model = PersonaProfile
        fields = PersonaProfile.EDITABLE_FIELDS
        # The page's own wording; labels, limits and choices are the model's.
        help_texts = {
            "tagline": _("One line that sums them up."),
            "bio": "",
            "communication_notes": _("Anything else about how they talk."),
            "greeting": _("The first thing they say in a new conversation."),
            "system_prompt": _("Extra instructions for the AI model."),
            "example_dialogue": _(
                "A few lines in their voice. Use {{user}} and {{char}} for the speakers."
            ),
            "creator_notes": _("Notes for people using this character; the AI never sees them."),
        }
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 4}),
            "communication_notes": forms.Textarea(attrs={"rows": 2}),
            "greeting": forms.Textarea(attrs={"rows": 2}),
            "system_prompt": forms.Textarea(attrs={"rows": 3}),
            "example_dialogue": forms.Textarea(attrs={"rows": 3}),
            "creator_notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: object, user: User | None = None, **kwargs: object) -> None:
        if kwargs.get("instance") is not None:
            raise TypeError("PersonaForm validates a copy: pass no instance.")
        super().__init__(*args, **kwargs)
        bound_text_lengths(self)
        # Only the presets on offer and the user's own cloned voices are valid choices:
        # anyone else's voice id fails validation like an unknown one.
        self.fields["voice_preset"].queryset = preset_list()
        self.fields["custom_voice"].queryset = custom_voice_list(user=user)

    def clean_custom_voice(self) -> CustomVoice | None:
        voice = self.cleaned_data["custom_voice"]
        if voice is not None and voice.status == CustomVoice.Status.FAILED:
            raise forms.ValidationError(_("This voice failed to clone; try it again first."))
        return voice

    def persona_fields(self) -> dict:
        """Return the cleaned values the persona services take as `fields`."""
        return {name: self.cleaned_data[name] for name in PersonaProfile.EDITABLE_FIELDS}

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
            "creator_notes": persona.creator_notes,
            "alternate_greetings": GreetingsTextField().prepare_value(persona.alternate_greetings),
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
