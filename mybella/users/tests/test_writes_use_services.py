"""Every page and API view of the users app that writes goes through a service."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import get_resolver, reverse
from rest_framework.test import APIClient

from mybella.core.services import service_calls
from mybella.users.models import User
from mybella.users.services import api_token_create

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-password-1"


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


Request = Callable[[], object]


def _sign_up(user: User) -> Request:
    data = {"username": "carol", "password1": "pa55-word-long", "password2": "pa55-word-long"}
    return lambda: Client().post(reverse("users:signup"), data)


def _profile(user: User) -> Request:
    data = {"display_name": "Al", "email": "a@example.com", "password": "a-long-password-1"}
    return lambda: _signed_in(user).post(reverse("users:profile"), data)


def _page_token_create(user: User) -> Request:
    return lambda: _signed_in(user).post(reverse("users:api_token_create"), {"name": "laptop"})


def _page_token_revoke(user: User) -> Request:
    url = reverse("users:api_token_revoke", args=[api_token_create(user=user)[0].pk])
    return lambda: _signed_in(user).post(url)


def _delete_account(user: User) -> Request:
    return lambda: _signed_in(user).post(reverse("users:delete_account"), {"password": PASSWORD})


def _api_token_create(user: User) -> Request:
    data = {"username": user.username, "password": PASSWORD}
    return lambda: APIClient().post(reverse("api:token"), data, format="json")


def _api_token_revoke_own(user: User) -> Request:
    _, key = api_token_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return lambda: client.delete(reverse("api:token"))


def _api_token_revoke(user: User) -> Request:
    url = reverse("api:api-token-detail", args=[api_token_create(user=user)[0].pk])
    return lambda: _api(user).delete(url)


# Each writing view, with what prepares a request that succeeds: the preparation (making a
# token to revoke, say) runs before the count starts.
WRITES: dict[str, Callable[[User], Request]] = {
    "users:signup": _sign_up,
    "users:profile": _profile,
    "users:api_token_create": _page_token_create,
    "users:api_token_revoke": _page_token_revoke,
    "users:delete_account": _delete_account,
    "api:token POST": _api_token_create,
    "api:token DELETE": _api_token_revoke_own,
    "api:api-token-detail DELETE": _api_token_revoke,
}

# Pages of the users app that write nothing of ours: reads, and Django's own password
# change and reset (their forms save the user; covered by Django's tests and ours in
# test_accounts and test_password_reset).
NOT_OURS_OR_READ_ONLY = {
    "users:password_change",
    "users:password_change_done",
    "users:password_reset",
    "users:password_reset_done",
    "users:password_reset_confirm",
    "users:password_reset_complete",
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_writing_view_goes_through_a_service(name, user):
    request = WRITES[name](user)
    before = service_calls()
    response = request()
    assert response.status_code < 400, response
    assert service_calls() > before


def test_every_page_of_the_users_app_is_listed():
    """A new page of the app must join the table above (or the read-only list)."""
    patterns = get_resolver().namespace_dict["users"][1].url_patterns
    names = {f"users:{pattern.name}" for pattern in patterns}
    listed = {name for name in WRITES if name.startswith("users:")}
    assert names == listed | NOT_OURS_OR_READ_ONLY
