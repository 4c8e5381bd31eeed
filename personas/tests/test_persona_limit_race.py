"""The custom-persona limit holds when many creates arrive at once."""

import pytest

from mybella.tests.concurrency import in_thread, race
from personas import services
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 20


def _owned(owner) -> int:
    return in_thread(lambda: PersonaProfile.objects.filter(owner=owner).count())


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

    outcomes = race(
        lambda n: services.persona_create(owner=owner, fields={"name": f"Racer {n}"}), RACERS
    )

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

    outcomes = race(import_card, RACERS)

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
