"""What the voices templates ask of the rules: whether cloning works here, and retrying."""

from django import template

from mybella.providers.speech import cloning_available as _cloning_available
from voices.models import CustomVoice
from voices.services import custom_voice_can_retry

register = template.Library()


@register.simple_tag
def cloning_available() -> bool:
    """Return whether the server can clone voices (it has an ElevenLabs key)."""
    return _cloning_available()


@register.simple_tag
def can_retry(voice: CustomVoice) -> bool:
    """Return whether a Retry of `voice` can work (it failed and a key is set)."""
    return custom_voice_can_retry(voice)
