"""Rules the database itself enforces, and the system personas it ships with."""

import pytest
from django.db import IntegrityError, transaction

from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory, SystemPersonaFactory

pytestmark = pytest.mark.django_db


def test_six_system_personas_ship_with_distinct_characters():
    system = list(PersonaProfile.objects.system().order_by("position"))
    assert [p.name for p in system] == ["Isabella", "Alex", "Luna", "Maya", "Sam", "Ethan"]
    for field in ["bio", "greeting", "tagline", "system_prompt"]:
        values = [getattr(p, field) for p in system]
        assert all(values) and len(set(values)) == 6, field
    assert len({tuple(p.traits) for p in system}) == 6
    assert len({p.communication_style for p in system}) == 6
    assert all(p.owner is None and p.is_active and not p.is_custom for p in system)


def _violates(**kwargs) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonaProfile.objects.create(**kwargs)


def test_custom_persona_needs_an_owner(user):
    _violates(name="Orphan", slug="orphan", is_custom=True, owner=None)


def test_system_persona_has_no_owner(user):
    _violates(name="Owned", slug="owned", is_custom=False, owner=user)


def test_custom_names_unique_per_owner_ignoring_case(user, other_user):
    PersonaFactory(owner=user, name="Nova")
    PersonaFactory(owner=other_user, name="Nova")  # another owner may use it
    _violates(name="NOVA", slug="nova-2", is_custom=True, owner=user)


def test_system_names_unique(db):
    SystemPersonaFactory(name="Zed")
    _violates(name="zed", slug="zed-2", is_custom=False)


def test_slugs_unique(user):
    _violates(name="Another Isabella", slug="isabella", is_custom=True, owner=user)


def test_deleting_a_user_deletes_their_personas(user, other_user):
    PersonaFactory.create_batch(2, owner=user)
    PersonaFactory(owner=other_user)
    user.delete()
    assert PersonaProfile.objects.custom().count() == 1
    assert PersonaProfile.objects.system().count() == 6
