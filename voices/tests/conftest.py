"""Fixtures of the voices tests: no speech engine unless a test asks for one, espeak-ng."""

import os
import shutil

import pytest
from django_tasks_db.models import DBTaskResult

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


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


@pytest.fixture
def queued_tasks(settings):
    """Queue tasks in the database, as production does, instead of running them at once."""
    settings.TASKS = DB_TASKS
    return lambda path: list(
        DBTaskResult.objects.filter(task_path=path, status="READY")
        .order_by("enqueued_at")
        .values_list("args_kwargs", flat=True)
    )
