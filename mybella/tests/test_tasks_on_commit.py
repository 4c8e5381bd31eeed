"""`mybella.core.db.tasks.enqueue_on_commit`: a task runs only once the transaction that
asked for it commits; with the database backend its row is written in that transaction."""

import pytest
from django.db import transaction
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from mybella.core.db.tasks import enqueue_on_commit

pytestmark = pytest.mark.django_db(transaction=True)  # real commits and rollbacks

RAN: list[str] = []


@task()
def note(text: str) -> None:
    RAN.append(text)


class Boom(Exception):
    pass


@transaction.atomic
def queue_and_fail() -> None:
    enqueue_on_commit(note, "hello")
    raise Boom


@pytest.fixture
def database_backend(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


@pytest.fixture
def ran():
    RAN.clear()
    yield RAN
    RAN.clear()


def queued() -> list[str]:
    return list(DBTaskResult.objects.values_list("task_path", flat=True))


@pytest.mark.usefixtures("database_backend")
def test_the_database_backend_queues_in_the_transaction():
    """The row is written in the transaction (no commit, no callback of its own)."""
    with transaction.atomic():
        enqueue_on_commit(note, "hello")
        assert queued() == [note.module_path]
        assert transaction.get_connection().run_on_commit == []


@pytest.mark.usefixtures("database_backend")
def test_the_database_backend_queues_nothing_on_a_rollback():
    with pytest.raises(Boom):
        queue_and_fail()
    assert queued() == []


def test_another_backend_runs_it_on_commit(ran):
    """The tests' immediate backend: not run inside the transaction, run as it commits."""
    with transaction.atomic():
        enqueue_on_commit(note, "hello")
        assert ran == []
    assert ran == ["hello"]


def test_another_backend_never_runs_it_after_a_rollback(ran):
    with pytest.raises(Boom):
        queue_and_fail()
    assert ran == []


def test_outside_a_transaction_it_is_queued_at_once(ran):
    enqueue_on_commit(note, "hello")
    assert ran == ["hello"]
