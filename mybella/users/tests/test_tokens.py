"""API tokens: hashed, expiring, one per device; listed and revoked by their owner only.

A password change, however it happens, revokes every token of the account.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from mybella.users.models import ApiToken
from mybella.users.services import api_token_create

pytestmark = pytest.mark.django_db

PROBE = "/api/v1/personas/current/"


def _with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_token_name_is_made_one_line(api_client, user):
    """A device's name is listed as one line: line breaks become spaces, controls go."""
    response = api_client.post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": "a-long-password-1", "name": "my\nlaptop\u202e "},
        format="json",
    )
    assert response.status_code == 200
    assert ApiToken.objects.get(user=user).name == "my laptop"


def test_token_is_stored_hashed_and_expires_after_the_configured_days(api_client, user, settings):
    settings.API_TOKEN_TTL_DAYS = 7
    response = api_client.post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": "a-long-password-1", "name": "my laptop"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    key = body["token"]
    expiry = timezone.datetime.fromisoformat(body["expiry"])
    assert timedelta(days=7) - timedelta(minutes=1) < expiry - timezone.now() <= timedelta(days=7)
    stored = ApiToken.objects.get(user=user)
    assert stored.name == "my laptop"
    assert key not in {stored.digest, stored.prefix, stored.name}
    assert key.startswith(stored.prefix) and len(stored.prefix) < len(key) // 3
    assert _with(key).get(PROBE).status_code == 200


def test_each_sign_in_gets_its_own_token(api_client, user):
    """Two devices signing in get two tokens; revoking one leaves the other working."""
    credentials = {"username": "alice", "password": "a-long-password-1"}
    first = api_client.post("/api/v1/auth/token/", credentials, format="json").json()["token"]
    second = api_client.post("/api/v1/auth/token/", credentials, format="json").json()["token"]
    assert first != second
    assert _with(first).delete("/api/v1/auth/token/").status_code == 204
    assert _with(first).get(PROBE).status_code == 401
    assert _with(second).get(PROBE).status_code == 200


def test_expired_token_is_refused(user):
    token, key = api_token_create(user=user)
    assert _with(key).get(PROBE).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _with(key).get(PROBE)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize("keyword", ["Token", "token", "Bearer", "bearer", "BEARER"])
def test_the_key_goes_after_token_or_bearer_in_any_case(user, keyword):
    """Many REST clients send `Bearer`: the same key works after either keyword."""
    _, key = api_token_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    assert client.get(PROBE).status_code == 200


def test_unknown_or_malformed_tokens_are_refused(user):
    api_token_create(user=user)
    for keyword in ("Token", "Bearer"):
        for header in [
            f"{keyword} nope",
            f"{keyword} ",
            f"{keyword} a b",
            f"{keyword} \u00e9\u00e9",
        ]:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=header)
            assert client.get(PROBE).status_code == 401, header
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} nope")
        assert client.get(PROBE).json() == {"detail": "Invalid token."}
        client.credentials(HTTP_AUTHORIZATION=f"{keyword.lower()} a b")
        assert f"send `{keyword} <key>`" in client.get(PROBE).json()["detail"]


def test_inactive_users_token_is_refused(user):
    _, key = api_token_create(user=user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert _with(key).get(PROBE).status_code == 401


def test_old_token_is_refused_after_a_password_change_on_the_page(client, user):
    _, key = api_token_create(user=user)
    client.force_login(user)
    response = client.post(
        reverse("users:password_change"),
        {
            "old_password": "a-long-password-1",
            "new_password1": "brand-new-secret-9",
            "new_password2": "brand-new-secret-9",
        },
    )
    assert response.status_code == 302
    assert _with(key).get(PROBE).status_code == 401
    assert client.get(reverse("users:profile")).status_code == 200  # this session stays


def test_old_token_is_refused_after_an_admin_changes_the_password(admin_client, user):
    _, key = api_token_create(user=user)
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"usable_password": "true", "password1": "Admin-chose-77", "password2": "Admin-chose-77"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _with(key).get(PROBE).status_code == 401


def test_old_token_is_refused_after_set_password_anywhere(user, other_user):
    _, key = api_token_create(user=user)
    _, other_key = api_token_create(user=other_user)
    user.set_password("changed-in-a-shell-5")
    user.save()
    assert _with(key).get(PROBE).status_code == 401
    assert _with(other_key).get(PROBE).status_code == 200  # only that account's tokens


def test_disabling_password_sign_in_revokes_tokens_too(user):
    _, key = api_token_create(user=user)
    user.set_unusable_password()
    user.save()
    assert _with(key).get(PROBE).status_code == 401


def test_saving_a_user_without_a_new_password_keeps_tokens(user, settings):
    """Profile edits and the hasher upgrade Django does on log-in are not password changes."""
    _, key = api_token_create(user=user)
    user.display_name = "Al"
    user.save()
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert user.check_password("a-long-password-1")  # re-hashed with PBKDF2 and saved
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_")
    assert _with(key).get(PROBE).status_code == 200


def test_user_lists_their_tokens_without_secrets(user, other_user, django_assert_max_num_queries):
    mine = [api_token_create(user=user, name=f"device {i}") for i in range(3)]
    api_token_create(user=other_user, name="bob's")
    client = _with(mine[0][1])
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/auth/tokens/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert sorted(row["name"] for row in results) == ["device 0", "device 1", "device 2"]
    row = results[0]
    assert set(row) == {"id", "name", "prefix", "created", "expiry", "last_used", "current"}
    text = response.content.decode()
    for token, key in mine:
        assert key not in text and token.digest not in text
    assert [row["current"] for row in results if row["id"] == mine[0][0].pk] == [True]


def test_export_lists_tokens_without_keys(user):
    token, key = api_token_create(user=user, name="phone")
    response = _with(key).get("/api/v1/me/export/")
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["api_tokens"]] == ["phone"]
    assert key not in response.content.decode() and token.digest not in response.content.decode()


def test_last_use_is_recorded(user):
    token, key = api_token_create(user=user)
    assert token.last_used_at is None
    _with(key).get(PROBE)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_user_revokes_one_of_their_tokens(auth_api_client, user):
    _, keep_key = api_token_create(user=user)
    drop, drop_key = api_token_create(user=user)
    assert auth_api_client.delete(f"/api/v1/auth/tokens/{drop.pk}/").status_code == 204
    assert _with(drop_key).get(PROBE).status_code == 401
    assert _with(keep_key).get(PROBE).status_code == 200


def test_another_users_token_id_is_404(auth_api_client, other_user):
    theirs, key = api_token_create(user=other_user)
    assert auth_api_client.delete(f"/api/v1/auth/tokens/{theirs.pk}/").status_code == 404
    assert auth_api_client.get(f"/api/v1/auth/tokens/{theirs.pk}/").status_code in {404, 405}
    assert _with(key).get(PROBE).status_code == 200


def test_token_lists_need_authentication(api_client):
    assert api_client.get("/api/v1/auth/tokens/").status_code == 401
    assert api_client.delete("/api/v1/auth/token/").status_code == 401


def test_revoking_the_current_token_needs_a_token(auth_api_client):
    """A session (or forced) login has no token to revoke: say so instead of guessing."""
    response = auth_api_client.delete("/api/v1/auth/token/")
    assert response.status_code == 400
    assert "token" in response.json()["detail"]


def test_tokens_per_user_are_capped(api_client, user, settings):
    settings.API_TOKENS_MAX_PER_USER = 2
    credentials = {"username": "alice", "password": "a-long-password-1"}
    for _ in range(2):
        assert api_client.post("/api/v1/auth/token/", credentials, format="json").status_code == 200
    response = api_client.post("/api/v1/auth/token/", credentials, format="json")
    assert response.status_code == 400
    assert "revoke" in response.json()["detail"].lower()
    assert ApiToken.objects.filter(user=user).count() == 2


def test_expired_tokens_do_not_count_and_are_cleared(user, settings):
    settings.API_TOKENS_MAX_PER_USER = 1
    old, _ = api_token_create(user=user)
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))
    api_token_create(user=user)
    assert not ApiToken.objects.filter(pk=old.pk).exists()


# --- The Profile page ------------------------------------------------------------------


def test_profile_creates_a_token_and_shows_it_once(client, user):
    client.force_login(user)
    response = client.post(reverse("users:api_token_create"), {"name": "garden sensor"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=user)
    html = response.content.decode()
    key = response.context["new_token"]
    assert key in html
    assert "won’t be shown again" in html
    assert _with(key).get(PROBE).status_code == 200
    again = client.get(reverse("users:profile")).content.decode()
    assert key not in again
    assert "garden sensor" in again and token.prefix in again


def test_profile_lists_tokens_with_revoke_buttons(client, user, other_user):
    mine, _ = api_token_create(user=user, name="phone")
    theirs, _ = api_token_create(user=other_user, name="bobs-secret-box")
    client.force_login(user)
    html = client.get(reverse("users:profile")).content.decode()
    assert "API tokens" in html
    assert "phone" in html and "bobs-secret-box" not in html
    assert reverse("users:api_token_revoke", args=[mine.pk]) in html
    assert reverse("users:api_token_revoke", args=[theirs.pk]) not in html


def test_profile_revokes_a_token(client, user):
    token, key = api_token_create(user=user, name="phone")
    client.force_login(user)
    response = client.post(reverse("users:api_token_revoke", args=[token.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("users:profile")
    assert "revoked" in response.content.decode()
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert _with(key).get(PROBE).status_code == 401


def test_profile_cannot_revoke_another_users_token(client, user, other_user):
    theirs, key = api_token_create(user=other_user)
    client.force_login(user)
    assert client.post(reverse("users:api_token_revoke", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("users:api_token_revoke", args=[theirs.pk])).status_code == 405
    assert _with(key).get(PROBE).status_code == 200


def test_profile_token_pages_need_login(client, user):
    token, _ = api_token_create(user=user)
    for url in [
        reverse("users:api_token_create"),
        reverse("users:api_token_revoke", args=[token.pk]),
    ]:
        response = client.post(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_profile_says_when_too_many_tokens(client, user, settings):
    settings.API_TOKENS_MAX_PER_USER = 1
    api_token_create(user=user)
    client.force_login(user)
    response = client.post(reverse("users:api_token_create"), {"name": "one more"})
    assert response.status_code == 400
    assert "revoke" in response.content.decode().lower()
    assert ApiToken.objects.filter(user=user).count() == 1
