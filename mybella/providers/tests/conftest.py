"""Fixtures of the provider tests; the fake model and ElevenLabs servers come from the root."""

import pytest


@pytest.fixture(autouse=True)
def _no_speech_by_default(settings):
    """Start every test without ElevenLabs; tests opt into an engine."""
    settings.ELEVENLABS_API_KEY = ""
    settings.SPEECH_ENGINE = "none"
