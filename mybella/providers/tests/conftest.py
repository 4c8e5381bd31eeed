"""Fixtures of the provider tests; the fake model and ElevenLabs servers come from the root."""

import os
import shutil

import pytest


@pytest.fixture(autouse=True)
def _no_speech_by_default(settings):
    """Start every test without ElevenLabs; tests opt into an engine."""
    settings.ELEVENLABS_API_KEY = ""
    settings.SPEECH_ENGINE = "none"


@pytest.fixture
def espeak(settings):
    """Speak with espeak-ng; missing espeak-ng fails under CI and skips elsewhere."""
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is missing; .ci/run must install it")
        pytest.skip("espeak-ng is not installed")
    settings.SPEECH_ENGINE = "espeak"
    settings.ESPEAK_BINARY = "espeak-ng"
