"""The persona's voice as a section of the persona (`personas.sections`).

The persona page, the persona API and the admin take the voice with the persona's own
fields and save both in one transaction; a duplicated persona gets the voice too.
Imported once, from the app's `AppConfig.ready()`.
"""

from typing import Any

from mybella.providers.speech import cloning_available, speech_available
from personas.models import PersonaProfile
from personas.sections import PersonaSection, persona_sections
from voices.api.serializers import PersonaVoiceInputSerializer
from voices.forms import PersonaVoiceForm
from voices.selectors import PERSONA_VOICE_RELATED, persona_voice_of
from voices.services import persona_voice_copy, persona_voice_set_from_input


def represent(persona: PersonaProfile) -> dict[str, Any]:
    """Return the voice as the persona API has always shown it: flat `voice_*` keys."""
    voice = persona_voice_of(persona)
    return {
        "voice_preset": voice.preset_id,
        "custom_voice": voice.custom_voice_id,
        "voice_stability": voice.stability,
        "voice_similarity": voice.similarity,
        "voice_style": voice.style,
        "voice_speed": voice.speed,
        "voice_model_id": voice.model_id,
    }


def copy(source: PersonaProfile, target: PersonaProfile) -> None:
    persona_voice_copy(source=source, target=target)


VOICE_SECTION = persona_sections.register(
    PersonaSection(
        name="voice",
        form_class=PersonaVoiceForm,
        template="voices/_persona_voice_section.html",
        serializer_class=PersonaVoiceInputSerializer,
        represent=represent,
        save=persona_voice_set_from_input,
        copy=copy,
        initial=PersonaVoiceForm.initial_for,
        select_related=PERSONA_VOICE_RELATED,
        # The voice picker says whether the server speaks and can clone.
        render_key=lambda: [speech_available(), cloning_available()],
    )
)
