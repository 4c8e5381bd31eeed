"""The custom-persona limit holds when many creates arrive at once."""

import sqlite3
import threading
from contextlib import closing

import pytest
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections

from personas import services
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 20


@pytest.fixture
def share_with_threads(tmp_path):
    """Return a function that lets threads share the test database as processes share one.

    SQLite's test database lives in memory with a shared cache, where a second writer fails
    at once ("table is locked") instead of waiting its turn as on a file. On SQLite the
    function copies the data so far to a file that the threads then open with the project's
    settings (WAL, IMMEDIATE transactions); on PostgreSQL the database already is shared.
    """
    original = connections.settings[DEFAULT_DB_ALIAS]

    def share() -> None:
        if connection.vendor != "sqlite":
            return
        path = tmp_path / "threads.sqlite3"
        connection.ensure_connection()
        with closing(sqlite3.connect(path)) as target:
            connection.connection.backup(target)
        connections.settings[DEFAULT_DB_ALIAS] = {**original, "NAME": str(path)}

    yield share
    connections.settings[DEFAULT_DB_ALIAS] = original


def _race(target, count: int) -> list[str]:
    """Run `target(n)` in `count` threads released together; return how each ended."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(number: int) -> None:
        try:
            barrier.wait()
            target(number)
            outcome = "created"
        except ValidationError as error:
            outcome = " ".join(error.messages)
        except Exception as error:  # any other failure is reported, not lost in a thread
            outcome = f"{type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _in_thread(target):
    """Return `target()` run in a thread, with that thread's own database connection."""
    result = []
    thread = threading.Thread(target=lambda: (result.append(target()), connections.close_all()))
    thread.start()
    thread.join()
    return result[0]


def _owned(owner) -> int:
    return _in_thread(lambda: PersonaProfile.objects.filter(owner=owner).count())


def _created_and_refused(outcomes: list[str]) -> tuple[int, int]:
    refused = [o for o in outcomes if "at most 50 custom personas" in o]
    created = [o for o in outcomes if o == "created"]
    assert len(created) + len(refused) == len(outcomes), outcomes
    return len(created), len(refused)


def test_concurrent_creates_stop_at_the_limit(settings, share_with_threads):
    """Twenty creates at once for an owner with 40 personas make exactly 50, no more."""
    settings.PERSONAS_MAX_PER_USER = 50
    owner = UserFactory()
    PersonaFactory.create_batch(40, owner=owner)
    share_with_threads()

    outcomes = _race(lambda n: services.persona_create(owner=owner, name=f"Racer {n}"), RACERS)

    assert _created_and_refused(outcomes) == (10, 10)
    assert _owned(owner) == 50


def test_concurrent_card_imports_stop_at_the_limit(settings, share_with_threads):
    """Card imports are held to the same limit: one free place, one new persona."""
    settings.PERSONAS_MAX_PER_USER = 50
    owner = UserFactory()
    PersonaFactory.create_batch(49, owner=owner)
    share_with_threads()

    def import_card(number: int) -> None:
        card = f'{{"spec": "chara_card_v2", "data": {{"name": "Card {number}"}}}}'
        services.persona_import_card(owner=owner, data=card.encode())

    outcomes = _race(import_card, RACERS)

    assert _created_and_refused(outcomes) == (1, 19)
    assert _owned(owner) == 50


@pytest.mark.django_db
def test_card_import_at_the_limit_is_a_400(auth_api_client, user, settings):
    """Importing a card with no room left says so, as a 400 naming the card."""
    settings.PERSONAS_MAX_PER_USER = 2
    PersonaFactory.create_batch(2, owner=user)
    card = {"spec": "chara_card_v2", "data": {"name": "One too many"}}
    response = auth_api_client.post("/api/v1/personas/import/", card, format="json")
    assert response.status_code == 400, response.content
    assert "at most 2 custom personas" in response.json()["card"][0]
    assert PersonaProfile.objects.filter(owner=user).count() == 2
