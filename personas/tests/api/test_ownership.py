"""Who may do what to which persona, through every persona endpoint."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from personas.models import PersonaProfile, PersonaSelection
from personas.tests.factories import PersonaFactory
from personas.tests.images import image_bytes

SECRET_NAME = "Zanzibar Secretpersona"

ACTORS = ["anonymous", "owner", "other", "staff"]


@pytest.fixture
def custom_persona(user):
    return PersonaFactory(owner=user, name=SECRET_NAME, tagline="only alice may see me")


@pytest.fixture
def system_persona(db):
    return PersonaProfile.objects.get(slug="luna")


@pytest.fixture
def clients(user, other_user, staff_user):
    def client_for(actor: str) -> APIClient:
        client = APIClient()
        if actor != "anonymous":
            client.force_authenticate(
                {"owner": user, "other": other_user, "staff": staff_user}[actor]
            )
        return client

    return client_for


def call(client: APIClient, endpoint: str, persona: PersonaProfile):
    base = f"/api/v1/personas/{persona.pk}/"
    if endpoint == "retrieve":
        return client.get(base)
    if endpoint == "patch":
        return client.patch(base, {"tagline": "changed"}, format="json")
    if endpoint == "delete":
        return client.delete(base)
    if endpoint == "select":
        return client.post(base + "select/")
    if endpoint == "avatar":
        upload = SimpleUploadedFile("a.png", image_bytes(), content_type="image/png")
        return client.post(base + "avatar/", {"avatar": upload}, format="multipart")
    if endpoint == "avatar_delete":
        return client.delete(base + "avatar/")
    if endpoint == "card":
        return client.get(base + "card/")
    if endpoint == "card_png":
        return client.get(base + "card/?format=png")
    raise AssertionError(endpoint)


ENDPOINTS = [
    "retrieve",
    "patch",
    "delete",
    "select",
    "avatar",
    "avatar_delete",
    "card",
    "card_png",
]

CUSTOM_EXPECTED = {
    "anonymous": dict.fromkeys(ENDPOINTS, 401),
    "owner": {
        "retrieve": 200,
        "patch": 200,
        "delete": 204,
        "select": 200,
        "avatar": 200,
        "avatar_delete": 200,
        "card": 200,
        "card_png": 200,
    },
    "other": dict.fromkeys(ENDPOINTS, 404),
    "staff": dict.fromkeys(ENDPOINTS, 404),
}
SYSTEM_EXPECTED = {
    "anonymous": dict.fromkeys(ENDPOINTS, 401),
    "owner": {
        "retrieve": 200,
        "patch": 403,
        "delete": 403,
        "select": 200,
        "avatar": 403,
        "avatar_delete": 403,
        "card": 200,
        "card_png": 200,
    },
    "other": {
        "retrieve": 200,
        "patch": 403,
        "delete": 403,
        "select": 200,
        "avatar": 403,
        "avatar_delete": 403,
        "card": 200,
        "card_png": 200,
    },
    "staff": {
        "retrieve": 200,
        "patch": 200,
        "delete": 204,
        "select": 200,
        "avatar": 200,
        "avatar_delete": 200,
        "card": 200,
        "card_png": 200,
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_custom_persona_matrix(clients, custom_persona, actor, endpoint):
    """Only the owner reaches a custom persona; to everyone else it does not exist (404)."""
    before = PersonaProfile.objects.filter(pk=custom_persona.pk).values().first()
    response = call(clients(actor), endpoint, custom_persona)
    assert response.status_code == CUSTOM_EXPECTED[actor][endpoint], response.content[:300]
    if actor != "owner":
        assert SECRET_NAME.encode() not in response.content
        assert PersonaProfile.objects.filter(pk=custom_persona.pk).values().first() == before


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_system_persona_matrix(clients, system_persona, actor, endpoint):
    """Everyone signed in sees system personas; only staff change them."""
    response = call(clients(actor), endpoint, system_persona)
    assert response.status_code == SYSTEM_EXPECTED[actor][endpoint], response.content[:300]
    if response.status_code == 403 and actor != "anonymous":
        assert "curated by staff" in response.json()["detail"]
        assert PersonaProfile.objects.get(pk=system_persona.pk).tagline != "changed"
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ["owner", "other", "staff"])
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/personas/",
        "/api/v1/personas/?kind=custom",
        f"/api/v1/personas/?search={SECRET_NAME.split()[0]}",
        "/api/v1/personas/current/",
    ],
)
def test_lists_show_only_own_custom_personas(clients, custom_persona, actor, url):
    """No list or search ever contains another user's custom persona."""
    response = clients(actor).get(url)
    assert response.status_code == 200
    assert (SECRET_NAME.encode() in response.content) is (actor == "owner" and "current" not in url)


@pytest.mark.django_db
def test_anonymous_list_is_401(api_client):
    """The API asks anonymous callers to authenticate."""
    response = api_client.get("/api/v1/personas/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.django_db
def test_selecting_another_users_persona_leaves_settings_alone(clients, custom_persona, other_user):
    """Trying to select someone else's persona changes nothing."""
    response = call(clients("other"), "select", custom_persona)
    assert response.status_code == 404
    assert not PersonaSelection.objects.filter(user=other_user).exists()
