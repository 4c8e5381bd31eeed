"""The lorebook: which entries join a prompt, and every way entries are changed."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mybella.tests.instances import assert_same_instance
from personas import lorebook, selectors, services
from personas.lorebook import lorebook_prompt, lorebook_set
from personas.models import LorebookEntry, PersonaProfile
from personas.tests.factories import PersonaFactory
from personas.tests.test_admin import NO_LOREBOOK, change_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def persona(user) -> PersonaProfile:
    return PersonaFactory(owner=user, name="Mira")


def entry(persona, **fields) -> LorebookEntry:
    return LorebookEntry.objects.create(persona=persona, **{"keys": ["key"], **fields})


def lore(persona, *recent: str, user: str = "Sam") -> tuple[str, str]:
    return lorebook_prompt(persona=persona, recent=list(recent), char=persona.name, user=user)


# ---------------------------------------------------------------- what joins the prompt


def test_a_key_in_the_recent_messages_triggers_its_entry_case_insensitively(persona):
    entry(persona, keys=["Lighthouse"], content="{{char}} keeps the lighthouse for {{user}}.")
    assert lore(persona, "where is the LIGHTHOUSE?") == ("Mira keeps the lighthouse for Sam.", "")
    assert lore(persona, "where is the harbour?") == ("", "")


def test_a_case_sensitive_entry_needs_the_exact_case(persona):
    entry(persona, keys=["Ash"], content="Ash is a person.", case_sensitive=True)
    assert lore(persona, "the ash tree") == ("", "")
    assert lore(persona, "Ash said hi") == ("Ash is a person.", "")


def test_constant_entries_always_join_and_disabled_ones_never(persona):
    entry(persona, keys=[], content="Always.", constant=True)
    entry(persona, keys=["key"], content="Never.", enabled=False)
    assert lore(persona, "the key") == ("Always.", "")


def test_only_the_scan_depth_of_messages_is_read(persona):
    persona.extensions = {"card": {"character_book": {"scan_depth": 2}}}
    persona.save()
    entry(persona, keys=["dragon"], content="Dragons exist.")
    assert lore(persona, "hello", "a dragon!") == ("Dragons exist.", "")
    assert lore(persona, "hello", "there", "a dragon!") == ("", "")


@pytest.mark.parametrize(
    ("logic", "text", "joins"),
    [
        (None, "the key and the door", True),  # AND ANY, the spec's own selective
        (None, "the key alone", False),
        (0, "the key and the window", True),
        (1, "the key, the door and the window", False),  # NOT ALL
        (1, "the key and the door", True),
        (2, "the key and the door", False),  # NOT ANY
        (2, "the key alone", True),
        (3, "the key and the door", False),  # AND ALL
        (3, "the key, the door and the window", True),
    ],
)
def test_selective_entries_need_their_secondary_keys(persona, logic, text, joins):
    extra = {} if logic is None else {"extensions": {"selectiveLogic": logic}}
    entry(
        persona,
        keys=["key"],
        secondary_keys=["door", "window"],
        selective=True,
        content="Selective.",
        extra=extra,
    )
    assert lore(persona, text) == (("Selective." if joins else ""), "")


def test_insertion_order_position_and_token_budget_are_honoured(persona):
    persona.extensions = {"card": {"character_book": {"token_budget": 10}}}
    persona.save()
    entry(persona, content="B" * 16, insertion_order=20)  # 4 tokens
    entry(persona, content="A" * 16, insertion_order=10)  # 4 tokens
    entry(persona, content="C" * 16, insertion_order=5)  # 4 tokens: over the budget, lowest order
    entry(persona, content="AFTER", insertion_order=30, position="after_char", keys=["other"])
    assert lore(persona, "key") == ("A" * 16 + "\n" + "B" * 16, "")
    assert lore(persona, "key other")[1] == "AFTER"


def test_only_the_personas_own_entries_are_read(persona, other_user):
    theirs = PersonaFactory(owner=other_user)
    entry(theirs, content="Not Mira's.")
    assert lore(persona, "key") == ("", "")


# ---------------------------------------------------------------- changing entries


def test_set_adds_changes_and_removes_entries_keeping_card_fields(persona, user):
    kept = entry(persona, content="Old.", extra={"priority": 3})
    gone = entry(persona, content="Gone.")
    saved = lorebook_set(
        persona=persona,
        user=user,
        entries=[
            {"id": kept.pk, "content": "New.", "keys": [" moon ", ""]},
            {"keys": ["sun"], "content": "Hot."},
        ],
    )
    kept.refresh_from_db()
    assert (kept.content, kept.keys, kept.extra) == ("New.", ["moon"], {"priority": 3})
    assert not LorebookEntry.objects.filter(pk=gone.pk).exists()
    assert [e.content for e in saved] == ["New.", "Hot."]


def test_set_refuses_an_entry_of_another_persona_and_changes_nothing(persona, user, other_user):
    theirs = entry(PersonaFactory(owner=other_user), content="Theirs.")
    mine = entry(persona, content="Mine.")
    with pytest.raises(ValidationError):
        lorebook_set(persona=persona, user=user, entries=[{"id": theirs.pk, "content": "Hacked"}])
    theirs.refresh_from_db()
    assert theirs.content == "Theirs."
    assert LorebookEntry.objects.filter(pk=mine.pk).exists()


def test_set_refuses_someone_elses_persona(persona, other_user):
    with pytest.raises(PermissionDenied):
        lorebook_set(persona=persona, user=other_user, entries=[])


def test_set_refuses_an_invalid_entry(persona, user):
    with pytest.raises(ValidationError, match="Entry 1"):
        lorebook_set(persona=persona, user=user, entries=[{"keys": ["x"], "content": ""}])
    assert not persona.lorebook_entries.exists()


def test_a_duplicated_system_persona_gets_a_copy_of_the_lorebook(admin_user):
    luna = PersonaProfile.objects.get(slug="luna")
    entry(luna, content="Moon lore.", extra={"id": 4})
    copy = services.persona_duplicate(persona=luna, user=admin_user)
    assert [(e.content, e.extra) for e in copy.lorebook_entries.all()] == [
        ("Moon lore.", {"id": 4})
    ]


# ---------------------------------------------------------------- API


def test_api_shows_and_replaces_the_lorebook(auth_api_client, persona):
    old = entry(persona, content="Old.")
    url = f"/api/v1/personas/{persona.pk}/"
    assert auth_api_client.get(url).json()["lorebook"]["entries"][0]["content"] == "Old."
    response = auth_api_client.patch(
        url,
        {"lorebook": {"entries": [{"keys": ["tide"], "content": "The tide is high."}]}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    entries = response.json()["lorebook"]["entries"]
    assert [(e["keys"], e["content"], e["enabled"]) for e in entries] == [
        (["tide"], "The tide is high.", True)
    ]
    assert not LorebookEntry.objects.filter(pk=old.pk).exists()


@pytest.mark.parametrize(
    "entries",
    [
        [{"keys": ["x"] * 51, "content": "Too many keys."}],
        [{"keys": ["x"], "content": "y" * 10_001}],
        [{"keys": ["x"], "content": "Bad position.", "position": "middle"}],
        [{"id": 2**70, "content": "Huge id."}],
        "not a list",
    ],
)
def test_api_refuses_bad_entries_with_a_400_and_changes_nothing(auth_api_client, persona, entries):
    entry(persona, content="Kept.")
    response = auth_api_client.patch(
        f"/api/v1/personas/{persona.pk}/", {"lorebook": {"entries": entries}}, format="json"
    )
    assert response.status_code == 400
    assert [e.content for e in persona.lorebook_entries.all()] == ["Kept."]


def test_api_cannot_touch_another_users_entry(auth_api_client, persona, other_user):
    theirs = entry(PersonaFactory(owner=other_user), content="Theirs.")
    response = auth_api_client.patch(
        f"/api/v1/personas/{persona.pk}/",
        {"lorebook": {"entries": [{"id": theirs.pk, "content": "Mine now"}]}},
        format="json",
    )
    assert response.status_code == 400
    theirs.refresh_from_db()
    assert theirs.content == "Theirs."


# ---------------------------------------------------------------- the persona modal


def modal_data(persona, rows: list[dict]) -> dict:
    data = {
        "name": persona.name,
        "communication_style": persona.communication_style,
        "lorebook-TOTAL_FORMS": str(len(rows)),
        "lorebook-INITIAL_FORMS": "0",
    }
    defaults = {"enabled": "on", "insertion_order": "100", "position": "before_char"}
    for index, row in enumerate(rows):
        fields = {**defaults, **row}
        data.update({f"lorebook-{index}-{key}": value for key, value in fields.items()})
    return data


def test_the_modal_adds_edits_and_removes_entries(client, user, persona):
    client.force_login(user)
    old = entry(persona, content="Old.")
    gone = entry(persona, content="Gone.")
    rows = [
        {"id": str(old.pk), "keys": "harbour, Boats", "content": "Changed."},
        {"id": str(gone.pk), "keys": "x", "content": "Gone.", "DELETE": "on"},
        {"keys": "lamp", "content": "New.", "constant": "on", "comment": "A lamp"},
        {},  # a row added and left blank
    ]
    response = client.post(reverse("personas:edit", args=[persona.pk]), modal_data(persona, rows))
    assert response.status_code == 302
    assert [(e.keys, e.content, e.constant, e.comment) for e in persona.lorebook_entries.all()] == [
        (["harbour", "Boats"], "Changed.", False, ""),
        (["lamp"], "New.", True, "A lamp"),
    ]


def test_a_bad_modal_entry_reopens_the_modal_with_the_error_and_saves_nothing(
    client, user, persona
):
    client.force_login(user)
    rows = [{"keys": "lamp", "content": ""}]
    response = client.post(reverse("personas:edit", args=[persona.pk]), modal_data(persona, rows))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Check the lorebook entries." in html
    assert 'name="lorebook-0-keys" value="lamp"' in html
    assert not persona.lorebook_entries.exists()


def test_a_modal_post_without_the_lorebook_leaves_it_alone(client, user, persona):
    client.force_login(user)
    entry(persona, content="Kept.")
    data = {"name": "Mira 2", "communication_style": "warm"}
    assert client.post(reverse("personas:edit", args=[persona.pk]), data).status_code == 302
    assert [e.content for e in persona.lorebook_entries.all()] == ["Kept."]


def test_the_page_reads_no_lorebook_the_modal_asks_for_one_personas(client, user, persona):
    """A lorebook can hold megabytes (200 entries of 10,000 characters): the page carries
    none, and the edit dialog reads the persona's from the API when it opens."""
    client.force_login(user)
    entry(persona, keys=["a", "b"], content="Lore of the harbour.")
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("personas:settings"))
    data = page.content.decode()
    assert "Lore of the harbour." not in data
    assert not [q for q in queries if "lorebook" in q["sql"].lower()]
    assert 'id="lore-entry-template"' in data
    assert 'data-persona-url="/api/v1/personas/0/"' in data
    read = client.get(f"/api/v1/personas/{persona.pk}/").json()["lorebook"]["entries"]
    assert [(e["keys"], e["content"]) for e in read] == [(["a", "b"], "Lore of the harbour.")]


# ---------------------------------------------------------------- admin


def test_admin_inline_edits_a_system_personas_lorebook_through_the_service(
    admin_client, monkeypatch
):
    luna = PersonaProfile.objects.get(slug="luna")
    calls = []
    real = lorebook.lorebook_set

    def spy(**kwargs):
        calls.append(kwargs["entries"])
        return real(**kwargs)

    monkeypatch.setattr(lorebook, "lorebook_set", spy)
    data = {
        **change_data(luna),
        **NO_LOREBOOK,
        "lorebook_entries-TOTAL_FORMS": "1",
        "lorebook_entries-0-keys": "moon, tides",
        "lorebook_entries-0-content": "The moon pulls the tides.",
        "lorebook_entries-0-enabled": "on",
        "lorebook_entries-0-insertion_order": "100",
        "lorebook_entries-0-position": "before_char",
    }
    response = admin_client.post(
        reverse("admin:personas_personaprofile_change", args=[luna.pk]), data
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert calls and calls[0][0]["keys"] == ["moon", "tides"]
    assert [e.content for e in luna.lorebook_entries.all()] == ["The moon pulls the tides."]


def test_admin_change_page_shows_the_entries_keywords_as_a_line(admin_client):
    luna = PersonaProfile.objects.get(slug="luna")
    entry(luna, keys=["moon", "tides"], content="Lore.")
    page = admin_client.get(reverse("admin:personas_personaprofile_change", args=[luna.pk]))
    assert page.status_code == 200
    assert 'value="moon, tides"' in page.content.decode()


def test_the_prompts_entries_are_the_enabled_ones_as_the_orm_gives_them(persona, user):
    """`lorebook_entry_list_enabled` runs a statement compiled once: the same entries, field
    by field and type by type, as the ORM's query."""
    first = entry(persona, keys=["a", "b"], content="One.", comment="c", constant=True)
    entry(persona, content="Off.", enabled=False)
    last = entry(persona, keys=["z"], content="Two.", secondary_keys=["y"])
    entry(PersonaFactory(owner=user, name="Other"), content="Not hers.")

    compiled = selectors.lorebook_entry_list_enabled(persona=persona)

    orm = list(LorebookEntry.objects.filter(persona=persona, enabled=True).order_by("id"))
    assert [e.pk for e in compiled] == [first.pk, last.pk] == [e.pk for e in orm]
    for mine, theirs in zip(compiled, orm, strict=True):
        assert_same_instance(mine, theirs)
    assert selectors.lorebook_entry_list_enabled(persona=PersonaFactory(owner=user)) == []
