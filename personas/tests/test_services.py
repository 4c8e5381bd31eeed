"""The persona services: the one write path of pages, API, admin and card imports."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mybella.core import limits
from personas import selectors, services
from personas.models import PersonaProfile
from personas.tests.api.test_uploads import stored_files, v2_card
from personas.tests.factories import PersonaFactory, SystemPersonaFactory
from personas.tests.images import image_bytes

pytestmark = pytest.mark.django_db


def upload(color: str = "red") -> SimpleUploadedFile:
    return SimpleUploadedFile("a.png", image_bytes("PNG", (64, 64), color))


def data_queries(queries: CaptureQueriesContext) -> list[str]:
    """Return the statements that read or write data.

    Inside a test's transaction `atomic` sets savepoints; outside one (a real request) it
    sends nothing until a statement runs, so they are left out.
    """
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"].upper()]


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


# ---------------------------------------------------------------- traits: one rule per way in


def test_create_and_update_clean_traits_strictly(user):
    """Explicit traits are cleaned (strip, dedupe), and too many is an error, not a cut."""
    persona = services.persona_create(
        owner=user, fields={"name": "Nova", "traits": [" warm ", "Warm", "curious", ""]}
    )
    assert persona.traits == ["warm", "curious"]
    services.persona_update(persona=persona, user=user, fields={"traits": ["bold ", "BOLD"]})
    persona.refresh_from_db()
    assert persona.traits == ["bold"]
    too_many = [f"t{n}" for n in range(limits.PERSONA_TRAITS_MAX + 1)]
    for call in (
        lambda: services.persona_create(owner=user, fields={"name": "Many", "traits": too_many}),
        lambda: services.persona_update(persona=persona, user=user, fields={"traits": too_many}),
    ):
        with pytest.raises(ValidationError) as error:
            call()
        assert "traits" in error.value.message_dict
    persona.refresh_from_db()
    assert persona.traits == ["bold"]


def test_a_foreign_card_has_its_guessed_traits_cut_leniently(user):
    """Tags of another tool's card are guesses: too many are cut, one too long skipped."""
    tags = ["x" * (limits.PERSONA_TRAIT_MAX_CHARS + 1), *[f"tag{n}" for n in range(15)]]
    card = v2_card(personality="Long prose. She is kind, and wise.", tags=tags)
    persona = services.persona_import_card(owner=user, data=json.dumps(card).encode())
    assert persona.traits == [f"tag{n}" for n in range(limits.PERSONA_TRAITS_MAX)]


def test_a_mybella_card_has_its_traits_checked_strictly(user):
    """MyBella's own card extension says what the traits are: too many is refused."""
    card = v2_card()
    card["data"]["extensions"]["mybella"] = {
        "traits": [f"t{n}" for n in range(limits.PERSONA_TRAITS_MAX + 1)]
    }
    with pytest.raises(ValidationError) as error:
        services.persona_import_card(owner=user, data=json.dumps(card).encode())
    assert "more than 12 traits" in " ".join(error.value.message_dict["card"])
    assert not PersonaProfile.objects.filter(owner=user).exists()


# ---------------------------------------------------------------- text limits: every way in


@pytest.mark.parametrize(
    ("field", "card_key"),
    [("bio", "description"), ("greeting", "first_mes"), ("system_prompt", "system_prompt")],
)
def test_text_limits_hold_for_create_update_and_import_alike(user, field, card_key):
    limit = limits.PERSONA_FIELD_MAX_CHARS[field]
    too_long = "x" * (limit + 1)
    with pytest.raises(ValidationError) as error:
        services.persona_create(owner=user, fields={"name": "Long", field: too_long})
    assert field in error.value.message_dict
    persona = PersonaFactory(owner=user)
    with pytest.raises(ValidationError) as error:
        services.persona_update(persona=persona, user=user, fields={field: too_long})
    assert field in error.value.message_dict
    card = json.dumps(v2_card(**{card_key: too_long})).encode()
    with pytest.raises(ValidationError) as error:
        services.persona_import_card(owner=user, data=card)
    assert str(limit) in " ".join(error.value.message_dict["card"])
    assert list(PersonaProfile.objects.filter(owner=user)) == [persona]


# ---------------------------------------------------------------- update: no write when unchanged


def test_an_unchanged_update_runs_no_query_and_keeps_updated_at(user):
    persona = PersonaFactory(owner=user, name="Nova", traits=["kind"])
    before = persona.updated_at
    same = {field: getattr(persona, field) for field in PersonaProfile.EDITABLE_FIELDS}
    for fields in (same, {}, {"traits": [" kind", "Kind"]}):
        with CaptureQueriesContext(connection) as queries:
            services.persona_update(persona=persona, user=user, fields=fields)
        assert data_queries(queries) == []
    persona.refresh_from_db()
    assert persona.updated_at == before


def test_an_update_writes_only_what_changed(user):
    persona = PersonaFactory(owner=user, name="Nova", tagline="Old")
    with CaptureQueriesContext(connection) as queries:
        services.persona_update(
            persona=persona, user=user, fields={"name": "Nova", "tagline": "New"}
        )
    [update] = writes(queries)
    assert "tagline" in update and '"name"' not in update and "bio" not in update
    persona.refresh_from_db()
    assert persona.tagline == "New"


def test_a_refused_update_leaves_the_persona_as_it_was(user):
    persona = PersonaFactory(owner=user, name="Nova", tagline="Old")
    with pytest.raises(ValidationError):
        services.persona_update(
            persona=persona,
            user=user,
            fields={"tagline": "New", "bio": "x" * (limits.PERSONA_BIO_MAX_CHARS + 1)},
        )
    assert persona.tagline == "Old"
    persona.refresh_from_db()
    assert persona.tagline == "Old"


def test_unknown_fields_are_a_programming_error(user):
    persona = PersonaFactory(owner=user)
    with pytest.raises(TypeError):
        services.persona_create(owner=user, fields={"name": "X", "owner": user})
    with pytest.raises(TypeError):
        services.persona_update(persona=persona, user=user, fields={"is_custom": False})


# ---------------------------------------------------------------- avatars


def test_set_avatar_replaces_then_removes_the_file_on_commit(
    user, settings, django_capture_on_commit_callbacks
):
    persona = PersonaFactory(owner=user)
    with django_capture_on_commit_callbacks(execute=True):
        services.persona_set_avatar(persona=persona, user=user, upload=upload("red"))
    first = persona.avatar.name
    assert stored_files(settings) == [first]
    with django_capture_on_commit_callbacks(execute=True):
        services.persona_set_avatar(persona=persona, user=user, upload=upload("blue"))
    assert stored_files(settings) == [persona.avatar.name] != [first]
    with django_capture_on_commit_callbacks(execute=True):
        services.persona_set_avatar(persona=persona, user=user, upload=None)
    persona.refresh_from_db()
    assert not persona.avatar
    assert stored_files(settings) == []


def test_removing_no_avatar_runs_no_query(user):
    persona = PersonaFactory(owner=user)
    with CaptureQueriesContext(connection) as queries:
        services.persona_set_avatar(persona=persona, user=user, upload=None)
    assert data_queries(queries) == []


def test_a_file_is_removed_only_once_the_change_is_committed(
    user, settings, django_capture_on_commit_callbacks
):
    persona = PersonaFactory(owner=user)
    with django_capture_on_commit_callbacks(execute=True):
        services.persona_set_avatar(persona=persona, user=user, upload=upload())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.persona_set_avatar(persona=persona, user=user, upload=None)
    assert len(stored_files(settings)) == 1  # still there until the commit
    for callback in callbacks:
        callback()
    assert stored_files(settings) == []


def test_update_with_remove_avatar_deletes_the_file(
    user, settings, django_capture_on_commit_callbacks
):
    persona = PersonaFactory(owner=user)
    with django_capture_on_commit_callbacks(execute=True):
        services.persona_update(persona=persona, user=user, fields={}, avatar=upload())
    assert stored_files(settings) == [persona.avatar.name]
    with django_capture_on_commit_callbacks(execute=True):
        services.persona_update(persona=persona, user=user, fields={}, remove_avatar=True)
    persona.refresh_from_db()
    assert not persona.avatar and stored_files(settings) == []


def test_a_refused_update_stores_no_avatar(user, settings):
    persona = PersonaFactory(owner=user)
    with pytest.raises(ValidationError):
        services.persona_update(
            persona=persona, user=user, fields={"tagline": "x" * 500}, avatar=upload()
        )
    persona.refresh_from_db()
    assert not persona.avatar and stored_files(settings) == []


def test_someone_elses_persona_gets_no_avatar(user, other_user, settings):
    persona = PersonaFactory(owner=other_user)
    with pytest.raises(PermissionDenied):
        services.persona_set_avatar(persona=persona, user=user, upload=upload())
    assert stored_files(settings) == []


# ---------------------------------------------------------------- card export (D12)


@pytest.mark.parametrize("fmt", ["xml", "", "JSON", "gif"])
def test_export_refuses_an_unknown_format(user, fmt):
    persona = PersonaFactory(owner=user)
    with pytest.raises(ValidationError) as error:
        services.persona_export_card(persona=persona, fmt=fmt)
    assert "format" in error.value.message_dict


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("json", "application/json"), ("png", "image/png")]
)
def test_export_knows_json_and_png(user, fmt, content_type):
    persona = PersonaFactory(owner=user, name="Nova")
    _, answered, filename = services.persona_export_card(persona=persona, fmt=fmt)
    assert (answered, filename) == (content_type, f"nova.card.{fmt}")


# ---------------------------------------------------------------- selection


def test_select_writes_nothing_when_already_current(user):
    luna = PersonaProfile.objects.get(slug="luna")
    services.persona_select(user=user, persona=luna)
    with CaptureQueriesContext(connection) as queries:
        services.persona_select(user=user, persona=luna)
    assert writes(queries) == []
    assert selectors.persona_get_current(user=user) == luna


def test_select_refuses_an_inactive_or_someone_elses_persona(user, other_user):
    inactive = SystemPersonaFactory(is_active=False)
    theirs = PersonaFactory(owner=other_user)
    for persona in (inactive, theirs):
        with pytest.raises(PermissionDenied):
            services.persona_select(user=user, persona=persona)
    assert selectors.persona_get_current(user=user).slug == "isabella"


# ---------------------------------------------------------------- staff and system personas


def test_staff_create_a_system_persona(staff_user):
    persona = services.persona_create_system(
        user=staff_user,
        fields={"name": "Nora", "traits": ["bright ", "Bright"]},
        staff_fields={"slug": "nora", "position": 70, "is_active": False},
        avatar=upload(),
    )
    assert (persona.is_custom, persona.owner, persona.slug) == (False, None, "nora")
    assert (persona.position, persona.is_active, persona.traits) == (70, False, ["bright"])
    assert persona.avatar.name.endswith(".webp")


def test_only_staff_create_system_personas(user):
    with pytest.raises(PermissionDenied):
        services.persona_create_system(user=user, fields={"name": "Nora"})
    assert not PersonaProfile.objects.filter(name="Nora").exists()


def test_a_system_name_is_unique(staff_user):
    with pytest.raises(ValidationError):
        services.persona_create_system(user=staff_user, fields={"name": "luna"})


def test_staff_fields_only_for_staff_on_system_personas(user, staff_user):
    luna = PersonaProfile.objects.get(slug="luna")
    services.persona_update(
        persona=luna, user=staff_user, fields={}, staff_fields={"position": 3, "slug": "moon"}
    )
    luna.refresh_from_db()
    assert (luna.position, luna.slug) == (3, "moon")
    mine = PersonaFactory(owner=user)
    with pytest.raises(PermissionDenied):
        services.persona_update(persona=mine, user=user, fields={}, staff_fields={"position": 1})
    with pytest.raises(PermissionDenied):
        services.persona_update(persona=luna, user=user, fields={}, staff_fields={"position": 1})
    with pytest.raises(TypeError):
        services.persona_update(
            persona=luna, user=staff_user, fields={}, staff_fields={"owner": user}
        )


def test_set_active_changes_system_personas_only_and_counts_changes(user, staff_user):
    luna = PersonaProfile.objects.get(slug="luna")
    maya = PersonaProfile.objects.get(slug="maya")
    mine = PersonaFactory(owner=user)
    changed = services.persona_set_active(
        user=staff_user, personas=[luna, maya, mine], active=False
    )
    assert changed == 2
    assert services.persona_set_active(user=staff_user, personas=[luna], active=False) == 0
    luna.refresh_from_db()
    mine.refresh_from_db()
    assert (luna.is_active, mine.is_active) == (False, True)
    with pytest.raises(PermissionDenied):
        services.persona_set_active(user=user, personas=[luna], active=True)


def test_delete_removes_the_avatar_file_on_commit(
    staff_user, settings, django_capture_on_commit_callbacks
):
    persona = services.persona_create_system(
        user=staff_user, fields={"name": "Nora"}, avatar=upload()
    )
    assert len(stored_files(settings)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.persona_delete(persona=persona, user=staff_user)
    assert stored_files(settings) == []


def test_duplicate_is_for_staff_and_system_personas(user, staff_user):
    luna = PersonaProfile.objects.get(slug="luna")
    copy = services.persona_duplicate(persona=luna, user=staff_user)
    assert (copy.name, copy.is_active, copy.is_custom) == ("Luna (copy)", False, False)
    with pytest.raises(PermissionDenied):
        services.persona_duplicate(persona=luna, user=user)
    with pytest.raises(PermissionDenied):
        services.persona_duplicate(persona=PersonaFactory(owner=user), user=staff_user)
