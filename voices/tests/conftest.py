"""Fixtures of the voices tests: no speech engine unless a test asks for one; queued tasks."""

import pytest
from django_tasks_db.models import DBTaskResult

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture(autouse=True)
def _no_speech_by_default(settings):
    """Start every test without ElevenLabs; tests opt into an engine."""
    settings.ELEVENLABS_API_KEY = ""
    settings.SPEECH_ENGINE = "none"


@pytest.fixture
def queued_tasks(settings):
    """Queue tasks in the database, as production does, instead of running them at once."""
    settings.TASKS = DB_TASKS
    return lambda path: list(
        DBTaskResult.objects.filter(task_path=path, status="READY")
        .order_by("enqueued_at")
        .values_list("args_kwargs", flat=True)
    )
