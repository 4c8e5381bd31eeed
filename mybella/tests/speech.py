"""The espeak-ng fixture, for every test that wants the offline speech engine."""

import os
import shutil

import pytest


@pytest.fixture
def espeak(settings):
    """Speak with espeak-ng; missing espeak-ng fails under CI and skips elsewhere."""
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is missing; .ci/run must install it")
        pytest.skip("espeak-ng is not installed")
    settings.SPEECH_ENGINE = "espeak"
    settings.ESPEAK_BINARY = "espeak-ng"
