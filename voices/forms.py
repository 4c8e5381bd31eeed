from typing import Any

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from mybella.providers.speech import speech_available
from mybella.users.models import User
from personas.models import PersonaProfile
from voices import rules, selectors
from voices.audio import sample_help_text
from voices.models import CustomVoice, VoicePreset
from voices.services import default_line, preset_preview_text


class VoiceUploadForm(forms.Form):
    """A recording to clone a voice from, and what to call it."""

    name = forms.CharField(
        label=_("Voice name"), max_length=CustomVoice._meta.get_field("name").max_length
    )
    sample = forms.FileField(
        label=_("Recording"),
        allow_empty_file=True,  # the sample check gives the friendlier message
        help_text=lazy(sample_help_text, str)(),  # read from settings when shown
        widget=forms.FileInput(attrs={"accept": "audio/*,.mp3,.wav,.ogg,.m4a,.flac"}),
    )


class PersonaVoiceForm(forms.Form):
    """The voice part of the persona page's form (the persona section "voice").

    Bound with the persona being edited (None for a new one), so the presets offered are
    the active ones plus the one it has. Its `cleaned_data` is the section's input in the
    API's shape: only what was sent (a preset or voice left out stays as it is), the
    cloned voice by id, and the settings under their own names.
    """

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
        required=False,
        initial=rules.VOICE_SETTINGS["speed"][2],
        widget=forms.NumberInput(attrs={"type": "range", "step": "0.05"}),
        **rules.setting_bounds("speed"),
    )
    voice_stability = forms.FloatField(
        label=_("Stability"),
        required=False,
        initial=rules.VOICE_SETTINGS["stability"][2],
        widget=forms.NumberInput(attrs={"type": "range", "step": "0.05"}),
        help_text=_("Lower is more expressive, higher more even."),
        **rules.setting_bounds("stability"),
    )

    # form field: (section input key, sent only when present in the data)
    INPUT = {
        "voice_preset": ("voice_preset", True),
        "custom_voice": ("custom_voice", True),
        "voice_speed": ("speed", False),
        "voice_stability": ("stability", False),
    }

    def __init__(
        self,
        *args: object,
        user: User | None = None,
        persona: PersonaProfile | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.presets = selectors.preset_choices(user=user, persona=persona)
        self.custom_voices = selectors.custom_voice_list(user=user)
        self.fields["voice_preset"].queryset = self.presets
        # Only the user's own voices are choices: anyone else's fails like an unknown id.
        self.fields["custom_voice"].queryset = self.custom_voices
        if persona is not None and not persona.is_custom:
            del self.fields["custom_voice"]  # system personas speak with presets only

    @property
    def preset_options(self) -> list[tuple[VoicePreset, str]]:
        """Return each preset offered with the line its preview says (the browser says it
        when the server cannot)."""
        return [(preset, preset_preview_text(preset)) for preset in self.presets]

    @property
    def speech_available(self) -> bool:
        """Whether the server speaks at all (else the page tests voices in the browser)."""
        return speech_available()

    @staticmethod
    def initial_for(persona: PersonaProfile) -> dict[str, Any]:
        """Return the form's values for `persona` (the page's edit modal)."""
        voice = selectors.persona_voice_of(persona)
        return {
            "voice_preset": voice.preset_id or "",
            "custom_voice": voice.custom_voice_id or "",
            "voice_speed": voice.speed,
            "voice_stability": voice.stability,
            # Not a field: what "Test voice" says, for the browser when the server can't.
            "voice_test_line": default_line(persona),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        sent = set(self.data) if self.is_bound else set()
        section: dict[str, Any] = {}
        for name, (key, only_if_sent) in self.INPUT.items():
            if name not in self.fields or name not in cleaned:
                continue
            value = cleaned[name]
            if only_if_sent and name not in sent:
                continue
            if not only_if_sent and value is None:
                continue
            section[key] = value.pk if isinstance(value, CustomVoice) else value
        return section
