"""The per-persona preference limit holds when many new keys arrive at once."""

import pytest
from django.conf import settings as django_settings

from memory.models import UserPreference
from memory.services import preference_set
from mybella.core import limits
from mybella.tests.concurrency import in_thread, race
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_new_preferences_stop_at_the_limit(user, system_personas, share_with_threads):
    """Ten new keys at once with two places left store exactly two."""
    persona = PersonaProfile.objects.get(slug=django_settings.DEFAULT_PERSONA_SLUG)
    for number in range(limits.PREFERENCES_MAX_PER_PERSONA - 2):
        preference_set(user=user, persona=persona, key=f"existing_{number}", value="v")
    share_with_threads()

    outcomes = race(
        lambda n: preference_set(user=user, persona=persona, key=f"racer_{n}", value="v"), 10
    )

    assert outcomes.count("created") == 2, outcomes
    stored = in_thread(lambda: UserPreference.objects.filter(user=user, persona=persona).count())
    assert stored == limits.PREFERENCES_MAX_PER_PERSONA
