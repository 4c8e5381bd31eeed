"""The persona list is cached per caller and answered conditionally; every change shows."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from personas import services
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory
from personas.tests.images import image_bytes

pytestmark = pytest.mark.django_db

LIST = "/api/v1/personas/"


def names(client: APIClient) -> list[str]:
    response = client.get(LIST)
    assert response.status_code == 200
    return [p["name"] for p in response.json()["results"]]


def by_name(client: APIClient, name: str) -> dict:
    return next(p for p in client.get(LIST).json()["results"] if p["name"] == name)


def test_an_unchanged_list_is_a_304_and_a_changed_one_a_200_with_a_new_etag(auth_api_client, user):
    mine = PersonaFactory(owner=user, name="Mine")
    first = auth_api_client.get(LIST)
    etag = first.headers["ETag"]
    again = auth_api_client.get(LIST, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag

    auth_api_client.patch(f"{LIST}{mine.pk}/", {"name": "Renamed"}, format="json")
    changed = auth_api_client.get(LIST, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "Renamed" in [p["name"] for p in changed.json()["results"]]


def test_a_weak_or_wildcard_etag_matches_too(auth_api_client):
    etag = auth_api_client.get(LIST).headers["ETag"]
    assert auth_api_client.get(LIST, HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304
    assert auth_api_client.get(LIST, HTTP_IF_NONE_MATCH=f'"other", {etag}').status_code == 304
    assert auth_api_client.get(LIST, HTTP_IF_NONE_MATCH="*").status_code == 304


def test_a_stale_or_foreign_etag_gets_the_list(auth_api_client):
    response = auth_api_client.get(LIST, HTTP_IF_NONE_MATCH='"not-the-etag"')
    assert response.status_code == 200
    assert response.json()["count"] == 6


def test_each_user_gets_their_own_list(auth_api_client, user, other_user):
    PersonaFactory(owner=user, name="Alice's")
    PersonaFactory(owner=other_user, name="Bob's")
    bob = APIClient()
    bob.force_authenticate(other_user)
    assert "Alice's" in names(auth_api_client)
    assert "Bob's" not in names(auth_api_client)
    assert "Bob's" in names(bob)
    assert "Alice's" not in names(bob)


def test_create_edit_and_delete_show_in_the_next_list(auth_api_client, user):
    assert "New" not in names(auth_api_client)
    created = auth_api_client.post(LIST, {"name": "New"}, format="json").json()
    assert "New" in names(auth_api_client)
    auth_api_client.patch(f"{LIST}{created['id']}/", {"tagline": "Changed"}, format="json")
    assert by_name(auth_api_client, "New")["tagline"] == "Changed"
    auth_api_client.delete(f"{LIST}{created['id']}/")
    assert "New" not in names(auth_api_client)


def test_a_new_avatar_shows_in_the_next_list(auth_api_client, user):
    mine = PersonaFactory(owner=user, name="Mine")
    assert by_name(auth_api_client, "Mine")["avatar_url"] is None
    upload = SimpleUploadedFile("a.png", image_bytes("PNG", (64, 64), "red"))
    auth_api_client.post(f"{LIST}{mine.pk}/avatar/", {"avatar": upload}, format="multipart")
    mine.refresh_from_db()
    assert by_name(auth_api_client, "Mine")["avatar_url"].endswith(mine.avatar.name)


def test_selecting_a_persona_shows_in_the_next_list(auth_api_client):
    assert by_name(auth_api_client, "Isabella")["is_current"] is True
    luna = PersonaProfile.objects.get(slug="luna")
    auth_api_client.post(f"{LIST}{luna.pk}/select/")
    assert by_name(auth_api_client, "Luna")["is_current"] is True
    assert by_name(auth_api_client, "Isabella")["is_current"] is False


def test_staff_changes_to_system_personas_show_in_everyones_list(auth_api_client, staff_user, user):
    luna = PersonaProfile.objects.get(slug="luna")
    assert by_name(auth_api_client, "Luna")["tagline"] != "Moonlit"
    services.persona_update(persona=luna, user=staff_user, fields={"tagline": "Moonlit"})
    assert by_name(auth_api_client, "Luna")["tagline"] == "Moonlit"
    services.persona_set_active(user=staff_user, personas=[luna], active=False)
    assert "Luna" not in names(auth_api_client)


def test_a_search_is_not_served_from_the_plain_lists_cache(auth_api_client, user):
    PersonaFactory(owner=user, name="Zephyr")
    assert names(auth_api_client)  # the plain list, now cached
    found = auth_api_client.get(LIST, {"search": "Zephyr"}).json()["results"]
    assert [p["name"] for p in found] == ["Zephyr"]


def test_a_cached_list_reads_nothing_from_the_database(auth_api_client, django_assert_num_queries):
    """A hit is answered from the cache alone, before and after a new selection."""
    assert auth_api_client.get(LIST).status_code == 200
    with django_assert_num_queries(0):
        assert auth_api_client.get(LIST).status_code == 200
    luna = PersonaProfile.objects.get(slug="luna")
    auth_api_client.post(f"{LIST}{luna.pk}/select/")
    assert by_name(auth_api_client, "Luna")["is_current"] is True
    with django_assert_num_queries(0):
        assert auth_api_client.get(LIST).status_code == 200


def test_one_users_change_leaves_other_users_cached_lists_alone(auth_api_client, user, other_user):
    """Custom personas and selections are per user: only a system persona's change is everyone's."""
    mine = PersonaFactory(owner=user, name="Mine")
    bob = APIClient()
    bob.force_authenticate(other_user)
    bobs_etag = bob.get(LIST).headers["ETag"]
    auth_api_client.patch(f"{LIST}{mine.pk}/", {"name": "Renamed"}, format="json")
    luna = PersonaProfile.objects.get(slug="luna")
    auth_api_client.post(f"{LIST}{luna.pk}/select/")
    assert "Renamed" in names(auth_api_client)
    assert bob.get(LIST, HTTP_IF_NONE_MATCH=bobs_etag).status_code == 304

    luna.tagline = "Moonlit"
    luna.save()
    changed = bob.get(LIST, HTTP_IF_NONE_MATCH=bobs_etag)
    assert changed.status_code == 200
    assert by_name(bob, "Luna")["tagline"] == "Moonlit"


def test_an_admin_change_to_a_users_persona_shows_in_their_list(auth_api_client, user):
    mine = PersonaFactory(owner=user, name="Mine")
    assert "Mine" in names(auth_api_client)
    mine.name = "Changed by staff"
    mine.save()
    assert "Changed by staff" in names(auth_api_client)


CURRENT = "/api/v1/personas/current/"


def test_the_current_persona_is_cached_conditional_and_follows_every_change(
    auth_api_client, user, django_assert_num_queries
):
    first = auth_api_client.get(CURRENT)
    assert first.json()["slug"] == "isabella"
    with django_assert_num_queries(0):
        again = auth_api_client.get(CURRENT, HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert again.status_code == 304

    mine = PersonaFactory(owner=user, name="Mine")
    auth_api_client.post(f"{LIST}{mine.pk}/select/")
    assert auth_api_client.get(CURRENT).json()["name"] == "Mine"
    auth_api_client.patch(f"{LIST}{mine.pk}/", {"tagline": "Edited"}, format="json")
    assert auth_api_client.get(CURRENT).json()["tagline"] == "Edited"
    upload = SimpleUploadedFile("a.png", image_bytes("PNG", (64, 64), "red"))
    auth_api_client.post(f"{LIST}{mine.pk}/avatar/", {"avatar": upload}, format="multipart")
    assert auth_api_client.get(CURRENT).json()["avatar_url"]
    auth_api_client.delete(f"{LIST}{mine.pk}/")
    assert auth_api_client.get(CURRENT).json()["slug"] == "isabella"


def test_no_current_persona_is_a_404_that_is_not_cached(auth_api_client, staff_user):
    system = list(PersonaProfile.objects.filter(is_custom=False))
    services.persona_set_active(user=staff_user, personas=system, active=False)
    missing = auth_api_client.get(CURRENT)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "There is no persona to talk to."}
    services.persona_set_active(user=staff_user, personas=system[:1], active=True)
    assert auth_api_client.get(CURRENT).status_code == 200


def test_an_avatar_is_served_conditionally_and_a_new_one_has_a_new_url(auth_api_client, user):
    mine = PersonaFactory(owner=user, name="Mine")

    def set_avatar(color: str) -> str:
        upload = SimpleUploadedFile("a.png", image_bytes("PNG", (64, 64), color))
        response = auth_api_client.post(
            f"{LIST}{mine.pk}/avatar/", {"avatar": upload}, format="multipart"
        )
        assert response.status_code == 200
        return by_name(auth_api_client, "Mine")["avatar_url"].removeprefix("http://testserver")

    first = set_avatar("red")
    served = auth_api_client.get(first)
    assert served.status_code == 200
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    unchanged = auth_api_client.get(first, HTTP_IF_MODIFIED_SINCE=served.headers["Last-Modified"])
    assert unchanged.status_code == 304

    second = set_avatar("blue")
    assert second != first
    assert auth_api_client.get(second).status_code == 200


def test_the_list_leaves_the_lorebook_to_one_personas_read(auth_api_client, user):
    """A lorebook can hold megabytes: the list (and its cache) carries none of it; a read of
    the persona shows it, changed as soon as it changes."""
    mine = PersonaFactory(owner=user, name="Mine")
    assert "lorebook" not in by_name(auth_api_client, "Mine")
    assert auth_api_client.get(f"{LIST}{mine.pk}/").json()["lorebook"] == {"entries": []}
    entry = {"keys": ["harbour"], "content": "Boats rest there."}
    response = auth_api_client.patch(
        f"{LIST}{mine.pk}/", {"lorebook": {"entries": [entry]}}, format="json"
    )
    assert response.status_code == 200, response.content
    shown = auth_api_client.get(f"{LIST}{mine.pk}/").json()["lorebook"]["entries"]
    assert [(e["keys"], e["content"]) for e in shown] == [(["harbour"], "Boats rest there.")]
    assert "lorebook" not in by_name(auth_api_client, "Mine")
