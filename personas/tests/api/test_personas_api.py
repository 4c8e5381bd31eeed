"""The persona REST API: create, change, select, list, filter."""

import pytest

from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory, SystemPersonaFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PERSONA = {
    "name": "Nova",
    "tagline": "Stargazer",
    "bio": "Loves telescopes.",
    "traits": ["curious", " dreamy ", "Curious", ""],
    "communication_style": "playful",
    "greeting": "Look up!",
}


def test_create_custom_persona(auth_api_client, user):
    """POST creates a custom persona owned by the caller, with cleaned traits."""
    response = auth_api_client.post("/api/v1/personas/", NEW_PERSONA, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["is_custom"] is True
    assert body["kind"] == "custom"
    assert body["traits"] == ["curious", "dreamy"]
    persona = PersonaProfile.objects.get(pk=body["id"])
    assert persona.owner == user
    assert persona.slug.startswith("nova-")


@pytest.mark.parametrize(
    "extra",
    [
        {"is_custom": False},
        {"owner": "OTHER"},
        {"id": 1},
        {"slug": "isabella"},
        {"is_active": False},
        {"extensions": {"evil": True}},
    ],
)
def test_server_set_fields_are_never_read_from_input(auth_api_client, user, other_user, extra):
    """Mass assignment: is_custom, owner, id, slug and friends come from the server."""
    if extra.get("owner") == "OTHER":
        extra = {"owner": other_user.pk}
    response = auth_api_client.post("/api/v1/personas/", {**NEW_PERSONA, **extra}, format="json")
    assert response.status_code == 201
    persona = PersonaProfile.objects.get(pk=response.json()["id"])
    assert persona.owner == user
    assert persona.is_custom is True
    assert persona.is_active is True
    assert persona.extensions == {}
    assert persona.slug != "isabella"
    assert PersonaProfile.objects.get(slug="isabella").is_custom is False


def test_patch_cannot_move_a_persona_to_another_owner(auth_api_client, user, other_user):
    persona = PersonaFactory(owner=user)
    response = auth_api_client.patch(
        f"/api/v1/personas/{persona.pk}/",
        {"owner": other_user.pk, "is_custom": False, "name": "Renamed"},
        format="json",
    )
    assert response.status_code == 200
    persona.refresh_from_db()
    assert (persona.owner, persona.is_custom, persona.name) == (user, True, "Renamed")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": "Ok", "communication_style": "shouty"}, "communication_style"),
        ({"name": "Ok", "traits": ["x" * 41]}, "traits"),
        ({"name": "Ok", "traits": [f"t{i}" for i in range(13)]}, "traits"),
        ({"name": "Ok", "traits": "not-a-list"}, "traits"),
        ({"name": "Ok", "tagline": "t" * 141}, "tagline"),
    ],
)
def test_bad_input_is_400_and_creates_nothing(auth_api_client, payload, field):
    before = PersonaProfile.objects.count()
    response = auth_api_client.post("/api/v1/personas/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert PersonaProfile.objects.count() == before


def test_names_are_unique_per_owner_case_insensitively(auth_api_client, user, other_user):
    PersonaFactory(owner=other_user, name="Nova")
    assert (
        auth_api_client.post("/api/v1/personas/", {"name": "Nova"}, format="json").status_code
        == 201
    )
    response = auth_api_client.post("/api/v1/personas/", {"name": "nova"}, format="json")
    assert response.status_code == 400
    assert "already have a persona" in response.json()["name"][0]


def test_malformed_json_is_a_json_400(auth_api_client):
    response = auth_api_client.post(
        "/api/v1/personas/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_persona_count_is_capped(auth_api_client, user, settings):
    settings.PERSONAS_MAX_PER_USER = 2
    PersonaFactory.create_batch(2, owner=user)
    response = auth_api_client.post("/api/v1/personas/", {"name": "Third"}, format="json")
    assert response.status_code == 400
    assert "at most 2" in response.json()["detail"]


def test_list_shows_system_personas_first_then_own(auth_api_client, user):
    PersonaFactory(owner=user, name="Mine")
    response = auth_api_client.get("/api/v1/personas/")
    assert response.status_code == 200
    names = [p["name"] for p in response.json()["results"]]
    assert names == ["Isabella", "Alex", "Luna", "Maya", "Sam", "Ethan", "Mine"]
    assert response.json()["count"] == 7


def test_list_filters(auth_api_client, user):
    PersonaFactory(owner=user, name="Mine", tagline="ocean sailor")
    assert [
        p["name"] for p in auth_api_client.get("/api/v1/personas/?kind=custom").json()["results"]
    ] == ["Mine"]
    assert len(auth_api_client.get("/api/v1/personas/?kind=system").json()["results"]) == 6
    assert [
        p["name"] for p in auth_api_client.get("/api/v1/personas/?search=Sailor").json()["results"]
    ] == ["Mine"]
    assert [
        p["name"] for p in auth_api_client.get("/api/v1/personas/?search=luna").json()["results"]
    ] == ["Luna"]
    response = auth_api_client.get("/api/v1/personas/?kind=robots")
    assert response.status_code == 400
    assert "kind" in response.json()


def test_inactive_system_personas_are_hidden(auth_api_client):
    PersonaProfile.objects.filter(slug="ethan").update(is_active=False)
    names = [p["name"] for p in auth_api_client.get("/api/v1/personas/").json()["results"]]
    assert "Ethan" not in names
    ethan = PersonaProfile.objects.get(slug="ethan")
    assert auth_api_client.get(f"/api/v1/personas/{ethan.pk}/").status_code == 404


@pytest.mark.parametrize("extra", [0, 194])
def test_list_query_count_is_constant(auth_api_client, user, django_assert_max_num_queries, extra):
    """The list answers in the same number of queries with 6 or 200 personas."""
    SystemPersonaFactory.create_batch(extra // 2)
    PersonaFactory.create_batch(extra // 2, owner=user)
    UserFactory.create_batch(3)
    with django_assert_max_num_queries(5):  # one of them: every persona's lorebook
        response = auth_api_client.get("/api/v1/personas/?page_size=100")
    assert response.status_code == 200
    assert response.json()["count"] == 6 + extra


def test_current_defaults_to_isabella_and_follows_select(auth_api_client, user):
    assert auth_api_client.get("/api/v1/personas/current/").json()["slug"] == "isabella"
    luna = PersonaProfile.objects.get(slug="luna")
    response = auth_api_client.post(f"/api/v1/personas/{luna.pk}/select/")
    assert response.status_code == 200
    assert response.json()["is_current"] is True
    current = auth_api_client.get("/api/v1/personas/current/").json()
    assert (current["slug"], current["is_current"]) == ("luna", True)
    listed = auth_api_client.get("/api/v1/personas/").json()["results"]
    assert [p["name"] for p in listed if p["is_current"]] == ["Luna"]


def test_current_falls_back_when_the_persona_goes_away(auth_api_client, user):
    mine = PersonaFactory(owner=user)
    auth_api_client.post(f"/api/v1/personas/{mine.pk}/select/")
    assert auth_api_client.get("/api/v1/personas/current/").json()["id"] == mine.pk
    assert auth_api_client.delete(f"/api/v1/personas/{mine.pk}/").status_code == 204
    assert auth_api_client.get("/api/v1/personas/current/").json()["slug"] == "isabella"

    maya = PersonaProfile.objects.get(slug="maya")
    auth_api_client.post(f"/api/v1/personas/{maya.pk}/select/")
    PersonaProfile.objects.filter(pk=maya.pk).update(is_active=False)
    assert auth_api_client.get("/api/v1/personas/current/").json()["slug"] == "isabella"


def test_current_query_count(auth_api_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # one of them: the persona's lorebook
        assert auth_api_client.get("/api/v1/personas/current/").status_code == 200


def test_staff_can_edit_system_personas(api_client, staff_user):
    api_client.force_authenticate(staff_user)
    sam = PersonaProfile.objects.get(slug="sam")
    response = api_client.patch(
        f"/api/v1/personas/{sam.pk}/", {"tagline": "Breathe."}, format="json"
    )
    assert response.status_code == 200
    sam.refresh_from_db()
    assert (sam.tagline, sam.is_custom, sam.owner) == ("Breathe.", False, None)


def test_unknown_api_path_is_json_404(auth_api_client):
    response = auth_api_client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_not_found_persona_says_only_not_found(auth_api_client):
    response = auth_api_client.get("/api/v1/personas/999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# ---------------------------------------------------------------- one write path with the page


def test_an_empty_patch_writes_nothing(auth_api_client, user):
    """PATCH {} (or the same values again) answers the persona and changes no row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    persona = PersonaFactory(owner=user, name="Nova")
    before = persona.updated_at
    for body in ({}, {"name": "Nova", "traits": persona.traits}):
        with CaptureQueriesContext(connection) as queries:
            response = auth_api_client.patch(f"/api/v1/personas/{persona.pk}/", body, format="json")
        assert response.status_code == 200
        assert response.json()["name"] == "Nova"
        sql = [q["sql"].lstrip().upper() for q in queries.captured_queries]
        assert not [s for s in sql if s.startswith(("UPDATE", "INSERT", "DELETE"))], sql
    persona.refresh_from_db()
    assert persona.updated_at == before


def test_a_patch_by_someone_who_may_not_edit_is_403_once(auth_api_client, user):
    """Permission is the service's to check; the answer is the same 403 as before."""
    luna = PersonaProfile.objects.get(slug="luna")
    response = auth_api_client.patch(
        f"/api/v1/personas/{luna.pk}/", {"tagline": "x"}, format="json"
    )
    assert response.status_code == 403
    assert "curated by staff" in response.json()["detail"]


def test_traits_too_long_are_refused_not_cut(auth_api_client):
    response = auth_api_client.post(
        "/api/v1/personas/", {"name": "Ok", "traits": ["ok", "x" * 41]}, format="json"
    )
    assert response.status_code == 400
    assert "at most 40 characters" in " ".join(response.json()["traits"])
