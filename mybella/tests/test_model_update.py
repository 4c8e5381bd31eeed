"""`model_update`: the one way services change a row, with no write when nothing changed."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.tests.factories import MemoryFactory
from memory.models import ConversationMemory
from mybella.core.services import model_update, service, service_calls
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db

PERSONA_FIELDS = ("name", "tagline", "bio", "owner", "communication_style")


def _updated_columns(queries: list[dict]) -> list[str]:
    """Return the columns each UPDATE statement of `queries` sets."""
    updates = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1, updates
    set_clause = re.search(r"\bSET\b(.*)\bWHERE\b", updates[0], re.S).group(1)
    return re.findall(r'"(\w+)"\s*=', set_clause)


def test_unchanged_data_is_not_validated_nor_saved(user, django_assert_num_queries):
    """Nothing differs: `(instance, False)`, and not a single query (no read of the owner)."""
    persona = PersonaProfile.objects.get(pk=PersonaFactory(owner=user).pk)
    data = {"name": persona.name, "tagline": persona.tagline, "owner": user}
    with django_assert_num_queries(0):
        result, changed = model_update(instance=persona, fields=PERSONA_FIELDS, data=data)
    assert result is persona
    assert changed is False


def test_only_changed_columns_and_updated_at_are_written(user):
    persona = PersonaFactory(owner=user, name="Ada", tagline="Old tagline.")
    before = persona.updated_at
    # Someone else changes the bio meanwhile: saving our stale copy must not undo it.
    PersonaProfile.objects.filter(pk=persona.pk).update(
        bio="Written elsewhere.", updated_at=before - timedelta(minutes=1)
    )
    with CaptureQueriesContext(connection) as queries:
        _, changed = model_update(
            instance=persona,
            fields=PERSONA_FIELDS,
            data={"name": "Ada", "tagline": "New tagline.", "owner": user},
        )
    assert changed is True
    assert sorted(_updated_columns(queries.captured_queries)) == ["tagline", "updated_at"]
    stored = PersonaProfile.objects.get(pk=persona.pk)
    assert stored.tagline == "New tagline."
    assert stored.bio == "Written elsewhere."
    assert stored.updated_at > before - timedelta(minutes=1)
    assert stored.updated_at <= timezone.now()


def test_a_foreign_key_changes_by_instance(user):
    memory = MemoryFactory(user=user)
    other = PersonaFactory(owner=user)
    _, changed = model_update(instance=memory, fields=("persona",), data={"persona": other})
    assert changed is True
    assert ConversationMemory.objects.get(pk=memory.pk).persona_id == other.pk


def test_a_model_without_updated_at_writes_only_what_changed(user):
    """The user model has no `updated_at`: update_fields lists only the changed column."""
    with CaptureQueriesContext(connection) as queries:
        _, changed = model_update(
            instance=user,
            fields=("first_name", "last_name"),
            data={"first_name": "Alice", "last_name": user.last_name},
        )
    assert changed is True
    assert _updated_columns(queries.captured_queries) == ["first_name"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "x" * 81}, "name"),  # the field's max_length
        ({"communication_style": "shouting"}, "communication_style"),  # not a choice
        ({"name": "TAKEN"}, "__all__"),  # the per-owner unique constraint, case-insensitive
    ],
)
def test_invalid_data_raises_and_nothing_is_saved(user, data, field):
    PersonaFactory(owner=user, name="Taken")
    persona = PersonaFactory(owner=user, name="Ada", tagline="Kept.")
    with pytest.raises(ValidationError) as raised:
        model_update(instance=persona, fields=PERSONA_FIELDS, data={"tagline": "New.", **data})
    assert field in raised.value.message_dict
    stored = PersonaProfile.objects.get(pk=persona.pk)
    assert (stored.name, stored.tagline) == ("Ada", "Kept.")
    # The caller's instance is as it was too, ready to be shown again.
    assert (persona.name, persona.tagline) == ("Ada", "Kept.")


def test_a_check_constraint_is_validated(user):
    memory = MemoryFactory(user=user, importance=5)
    with pytest.raises(ValidationError):
        model_update(instance=memory, fields=("importance",), data={"importance": 11})
    assert ConversationMemory.objects.get(pk=memory.pk).importance == 5
    assert memory.importance == 5


def test_a_stored_value_a_newer_rule_refuses_does_not_block_other_changes(user):
    """Only the changed fields' own rules run: an old row stays editable."""
    persona = PersonaFactory(owner=user)
    PersonaProfile.objects.filter(pk=persona.pk).update(communication_style="retired-style")
    persona.refresh_from_db()
    _, changed = model_update(instance=persona, fields=PERSONA_FIELDS, data={"tagline": "Hi."})
    assert changed is True
    assert PersonaProfile.objects.get(pk=persona.pk).tagline == "Hi."


def test_keys_outside_the_fields_are_refused(user):
    """A server-set field can never slip in through the data."""
    persona = PersonaFactory(owner=user)
    with pytest.raises(ValueError, match="is_custom"):
        model_update(instance=persona, fields=("name",), data={"name": "B", "is_custom": False})
    assert PersonaProfile.objects.get(pk=persona.pk).is_custom is True


def test_many_to_many_fields_are_refused(user):
    memory = MemoryFactory(user=user)
    with pytest.raises(ValueError, match="source_messages"):
        model_update(instance=memory, fields=("source_messages",), data={"source_messages": []})


def test_service_counts_its_calls():
    @service
    def thing_do(*, value: int) -> int:
        """Do the thing."""
        return value * 2

    before = service_calls()
    assert thing_do(value=2) == 4
    assert thing_do(value=3) == 6
    assert service_calls() == before + 2
    assert thing_do.__name__ == "thing_do"
    assert thing_do.__doc__ == "Do the thing."
