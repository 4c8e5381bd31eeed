"""Persona reads are scoped to the user asking."""

import pytest

from mybella.core.errors import NotFound
from mybella.tests.instances import assert_same_instance
from personas import selectors, services
from personas.models import PersonaProfile, PersonaSelection
from personas.tests.factories import PersonaFactory, SystemPersonaFactory

pytestmark = pytest.mark.django_db


def test_visible_is_active_system_plus_own(user, other_user, django_assert_num_queries):
    mine = PersonaFactory(owner=user)
    PersonaFactory(owner=other_user)
    PersonaProfile.objects.filter(slug="sam").update(is_active=False)
    with django_assert_num_queries(1):
        visible = list(selectors.persona_list_visible(user=user))
    assert mine in visible
    assert {p.slug for p in visible if not p.is_custom} == {
        "isabella",
        "alex",
        "luna",
        "maya",
        "ethan",
    }
    assert all(p.owner in (None, user) for p in visible)


def test_owned_is_only_own(user, other_user):
    mine = PersonaFactory(owner=user)
    PersonaFactory(owner=other_user)
    assert list(selectors.persona_list_owned(user=user)) == [mine]


def test_current_ignores_someone_elses_persona(user, other_user):
    """A selection of another user's persona (set by staff, say) falls back."""
    theirs = PersonaFactory(owner=other_user)
    PersonaSelection.objects.create(user=user, persona=theirs)
    assert selectors.persona_get_current(user=user).slug == "isabella"


def test_default_falls_back_to_first_active_system_persona(user, settings):
    settings.DEFAULT_PERSONA_SLUG = "nobody"
    assert selectors.persona_get_current(user=user).slug == "isabella"
    PersonaProfile.objects.filter(slug="isabella").update(is_active=False)
    assert selectors.persona_get_current(user=user).slug == "alex"


def test_current_without_a_selection_is_the_default(user, django_assert_num_queries):
    """No row until the user picks a persona; then the pick, in one query."""
    assert not PersonaSelection.objects.filter(user=user).exists()
    assert selectors.persona_get_current(user=user).slug == "isabella"
    luna = PersonaProfile.objects.get(slug="luna")
    services.persona_select(user=user, persona=luna)
    with django_assert_num_queries(1):
        assert selectors.persona_get_current(user=user) == luna
    with django_assert_num_queries(1):  # the same again: read, nothing written
        services.persona_select(user=user, persona=luna)
    PersonaProfile.objects.filter(pk=luna.pk).delete()
    assert not PersonaSelection.objects.filter(user=user).exists()  # back to the default


def test_get_visible_raises_not_found(user, other_user):
    theirs = PersonaFactory(owner=other_user)
    inactive = SystemPersonaFactory(is_active=False)
    for pk in (theirs.pk, inactive.pk, 999_999, "abc", 2**63, 0, None):
        with pytest.raises(NotFound):
            selectors.persona_get_visible(user=user, pk=pk)
    luna = PersonaProfile.objects.get(slug="luna")
    assert selectors.persona_get_visible(user=user, pk=str(luna.pk)) == luna


def test_get_owned_is_only_the_callers_own(user, other_user):
    mine = PersonaFactory(owner=user)
    theirs = PersonaFactory(owner=other_user)
    luna = PersonaProfile.objects.get(slug="luna")
    assert selectors.persona_get_owned(user=user, pk=mine.pk) == mine
    for pk in (theirs.pk, luna.pk, 999_999, "abc"):
        with pytest.raises(NotFound):
            selectors.persona_get_owned(user=user, pk=pk)


def test_get_visible_reads_what_the_orm_reads(user, other_user, django_assert_num_queries):
    """The statement compiled once gives the instance `.get()` gives, every field converted."""
    mine = PersonaFactory(owner=user)
    luna = PersonaProfile.objects.get(slug="luna")
    for persona in (mine, luna):
        expected = selectors.persona_list_visible(user=user).get(pk=persona.pk)
        with django_assert_num_queries(1):
            found = selectors.persona_get_visible(user=user, pk=persona.pk)
        assert_same_instance(found, expected)
        found.save(update_fields=["name"])  # a saved instance of this database
    with pytest.raises(NotFound):
        selectors.persona_get_visible(user=other_user, pk=mine.pk)
