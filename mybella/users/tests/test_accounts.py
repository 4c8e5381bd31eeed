"""Sign-up, log-in, profile and password pages; API tokens."""

import pytest
from django.urls import reverse

from mybella.users.models import User
from personas.models import PersonaSelection

pytestmark = pytest.mark.django_db


def test_sign_up_creates_account_with_settings_and_logs_in(client):
    response = client.post(
        reverse("users:signup"),
        {
            "username": "carol",
            "email": "",
            "password1": "pa55-word-long",
            "password2": "pa55-word-long",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("personas:settings")
    carol = User.objects.get(username="carol")
    assert not PersonaSelection.objects.filter(user=carol).exists()  # the default persona
    assert client.get(reverse("personas:settings")).status_code == 200


def test_sign_up_with_mismatched_passwords_shows_errors(client):
    response = client.post(
        reverse("users:signup"),
        {"username": "carol", "password1": "pa55-word-long", "password2": "different-1"},
    )
    assert response.status_code == 400
    assert "The two password fields" in response.content.decode()
    assert not User.objects.filter(username="carol").exists()


def test_log_in_and_out(client, user):
    response = client.post(reverse("login"), {"username": "alice", "password": "a-long-password-1"})
    assert response.status_code == 302
    assert client.get(reverse("users:profile")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("users:profile")).status_code == 302


def test_pages_need_login(client):
    for name in ["users:profile", "personas:settings", "users:password_change"]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_profile_update(client, user):
    client.force_login(user)
    response = client.post(
        reverse("users:profile"),
        {
            "display_name": "Al",
            "first_name": "Alice",
            "last_name": "",
            "email": "a@example.com",
            "password": "a-long-password-1",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.display_name, user.preferred_name) == ("Al", "Al")


@pytest.mark.parametrize(
    ("username", "called"),
    [
        ("alice", "Alice"),
        ("ROBIN", "Robin"),
        ("McKenzie", "McKenzie"),
        ("Мария", "Мария"),
        ("newbie20682", ""),
        ("tom_b", ""),
        ("jo.smith", ""),
        ("a", ""),
    ],
)
def test_a_username_names_the_user_only_when_it_reads_as_a_name(username, called):
    """Personas call a user without a display or first name by a username that is a name.

    A handle ("newbie20682") is no name: a persona saying it back reads wrong.
    """
    assert User(username=username).preferred_name == called


def test_a_name_given_wins_over_the_username():
    assert User(username="newbie20682", first_name="Tom").preferred_name == "Tom"
    assert User(username="alice", first_name="Al", display_name="Ally").preferred_name == "Ally"


def test_the_given_name_is_only_a_name_the_user_gave():
    """A username, even one that reads as a name, is no given name (the offline engine's)."""
    assert User(username="alice").given_name == ""
    assert User(username="alice", first_name="Al").given_name == "Al"
    assert User(username="alice", first_name="Al", display_name="Ally").given_name == "Ally"


def test_password_change(client, user):
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
    user.refresh_from_db()
    assert user.check_password("brand-new-secret-9")


def test_token_auth(api_client, user):
    """A username and password buy a token that authenticates API calls."""
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": "a-long-password-1"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/personas/current/").status_code == 200
    assert api_client.delete("/api/v1/auth/token/").status_code == 204
    assert api_client.get("/api/v1/personas/current/").status_code == 401


def test_token_with_bad_password_is_400(api_client, user):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert "Unable to log in" in response.json()["non_field_errors"][0]


def test_session_api_calls_need_csrf(user):
    """Pages' session auth is CSRF-protected on unsafe methods."""
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/v1/personas/").status_code == 200
    response = client.post("/api/v1/personas/", {"name": "X"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_delete_account_needs_the_password_and_removes_everything(
    client, user, other_user, django_capture_on_commit_callbacks
):
    from chat.models import ChatMessage
    from chat.tests.factories import ChatMessageFactory, ConversationFactory
    from personas.tests.factories import PersonaFactory

    PersonaFactory(owner=user)
    ChatMessageFactory(conversation=ConversationFactory(user=user))
    ChatMessageFactory(conversation=ConversationFactory(user=other_user))
    client.force_login(user)
    url = reverse("users:delete_account")
    response = client.post(url, {"password": "wrong"})
    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"password": "a-long-password-1"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert list(ChatMessage.objects.values_list("user", flat=True)) == [other_user.pk]
    assert client.get(reverse("users:profile")).status_code == 302  # logged out


def test_profile_links_to_export_and_delete(client, user):
    client.force_login(user)
    html = client.get(reverse("users:profile")).content.decode()
    assert "/api/v1/me/export/" in html
    assert reverse("users:delete_account") in html
