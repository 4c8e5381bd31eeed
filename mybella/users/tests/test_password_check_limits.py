"""Pages that ask for the current password are limited like the log-in page.

Someone holding a session (a shared computer, a stolen cookie) could otherwise guess the
account's password without end through the password change or account deletion form.
"""

import pytest
from django.urls import reverse

from mybella.users.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-password-1"  # alice's, from conftest
NEW_PASSWORD = "Brand-New-Lantern-77"


def _change(client, old_password, new_password=NEW_PASSWORD, confirm=None):
    return client.post(
        reverse("users:password_change"),
        {
            "old_password": old_password,
            "new_password1": new_password,
            "new_password2": confirm or new_password,
        },
    )


def _delete(client, password):
    return client.post(reverse("users:delete_account"), {"password": password})


@pytest.mark.parametrize("post", [_change, _delete], ids=["password-change", "delete-account"])
def test_wrong_passwords_stop_at_the_account_limit(client, user, post):
    """The 11th wrong guess in the hour is refused unseen, even with the right password."""
    client.force_login(user)
    statuses = [post(client, f"guess-{i}").status_code for i in range(10)]
    assert statuses == [400] * 10  # the form again, with its error
    response = post(client, PASSWORD)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert "Too many sign-in attempts" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # nothing changed, nothing deleted
    assert User.objects.filter(pk=user.pk).exists()


def test_guesses_through_the_forms_count_with_those_at_the_log_in_page(client, user):
    """One counter per account, whichever form the guesses go through."""
    client.force_login(user)
    for i in range(5):
        assert _change(client, f"guess-{i}").status_code == 400
    for i in range(5):
        assert _delete(client, f"guess-{i}").status_code == 400
    other = type(client)()
    response = other.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429


def test_the_address_limit_applies_too(client, user, settings):
    settings.THROTTLE_AUTH = "3/min"
    client.force_login(user)
    for i in range(3):
        assert _delete(client, f"guess-{i}").status_code == 400
    assert _delete(client, PASSWORD).status_code == 429
    assert User.objects.filter(pk=user.pk).exists()


def test_a_right_password_does_not_count_against_the_account(client, user, settings):
    """Mistyping the new password's confirmation is not a wrong guess."""
    settings.THROTTLE_AUTH_ACCOUNT = "2/hour"
    client.force_login(user)
    for _ in range(3):
        response = _change(client, PASSWORD, confirm="Something-Else-12")
        assert response.status_code == 400
        assert "new_password2" in response.context["form"].errors
    response = _change(client, PASSWORD)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_the_right_password_still_works_below_the_limit(client, user):
    client.force_login(user)
    for i in range(3):
        assert _delete(client, f"guess-{i}").status_code == 400
    response = _delete(client, PASSWORD)
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()


# Changing the email address, where reset links go --------------------------------------

PROFILE = {"display_name": "Al", "first_name": "", "last_name": ""}


def _profile(client, email, password=None):
    data = {**PROFILE, "email": email}
    if password is not None:
        data["password"] = password
    return client.post(reverse("users:profile"), data)


def test_changing_the_email_asks_for_the_password(client, user):
    client.force_login(user)
    response = _profile(client, "attacker@example.com")
    assert response.status_code == 400
    assert "Enter your current password to change your email address" in (response.content.decode())
    response = _profile(client, "attacker@example.com", password="a-guess")
    assert response.status_code == 400
    user.refresh_from_db()
    assert (user.email, user.display_name) == ("", "")  # nothing saved
    assert _profile(client, "alice@example.com", password=PASSWORD).status_code == 302
    user.refresh_from_db()
    assert (user.email, user.display_name) == ("alice@example.com", "Al")


def test_the_rest_of_the_profile_needs_no_password(client, user):
    user.email = "alice@example.com"
    user.save()
    client.force_login(user)
    assert _profile(client, "alice@example.com").status_code == 302
    user.refresh_from_db()
    assert user.display_name == "Al"


def test_wrong_passwords_for_the_email_count_as_failed_sign_ins(client, user):
    client.force_login(user)
    for i in range(10):
        assert _profile(client, "attacker@example.com", password=f"guess-{i}").status_code == 400
    response = _profile(client, "alice@example.com", password=PASSWORD)
    assert response.status_code == 429
    user.refresh_from_db()
    assert user.email == ""


def test_profile_saves_without_an_email_change_are_not_counted(client, user, settings):
    settings.THROTTLE_AUTH = "2/min"
    client.force_login(user)
    for _ in range(4):
        assert _profile(client, "").status_code == 302
    for _ in range(4):  # nor is an email change without a password: no guess was made
        assert _profile(client, "new@example.com").status_code == 400
    assert _profile(client, "new@example.com", password=PASSWORD).status_code == 302
