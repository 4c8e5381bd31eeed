"""Password reset by email: Django's own views, our templates, limits and no user enumeration."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from mybella.users.models import ApiToken, User
from mybella.users.services import api_token_create

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Copper-Kettle-7781"
LINK = re.compile(r"http://testserver(/users/password/reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def alice(user: User) -> User:
    user.email = "alice@example.com"
    user.save(update_fields=["email"])
    return user


def ask_for_link(client: Client, email: str, **extra: str):
    return client.post(reverse("users:password_reset"), {"email": email}, **extra)


def test_login_page_offers_a_reset(client):
    response = client.get(reverse("login"))
    assert f'href="{reverse("users:password_reset")}">Forgot password?</a>' in (
        response.content.decode()
    )


def test_the_whole_reset_sets_a_new_password_once(client, alice, settings):
    """Link by email, new password, old one and API tokens gone, the link used up."""
    settings.DEFAULT_FROM_EMAIL = "MyBella <hello@mybella.example>"
    api_token_create(user=alice)

    response = ask_for_link(client, "ALICE@example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("users:password_reset_done")
    assert "Check your email" in client.get(response["Location"]).content.decode()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.from_email == "MyBella <hello@mybella.example>"
    assert message.subject == "Reset your MyBella password"
    assert "Hello alice," in message.body
    link = LINK.search(message.body).group(1)

    # Django swaps the token for a session key, so it never sits in the form's URL.
    response = client.get(link)
    assert response.status_code == 302
    form_url = response["Location"]
    assert form_url.endswith("/set-password/")
    assert "Choose a new password" in client.get(form_url).content.decode()

    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("users:password_reset_complete")
    assert "Your password is changed" in client.get(response["Location"]).content.decode()

    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert not alice.check_password("a-long-password-1")
    assert not ApiToken.objects.filter(user=alice).exists()

    again = Client().get(link)
    assert again.status_code == 200
    assert "This link no longer works" in again.content.decode()


def test_a_weak_new_password_is_refused_and_kept_out(client, alice):
    ask_for_link(client, "alice@example.com")
    form_url = client.get(LINK.search(mail.outbox[0].body).group(1))["Location"]
    response = client.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password("a-long-password-1")


def test_a_tampered_link_changes_nothing(client, alice):
    ask_for_link(client, "alice@example.com")
    link = LINK.search(mail.outbox[0].body).group(1)
    forged = link[:-3] + ("aa/" if not link.endswith("aa/") else "bb/")
    response = client.get(forged)
    assert response.status_code == 200
    assert "This link no longer works" in response.content.decode()
    assert "new_password1" not in response.content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, alice):
    """Nobody learns from the answer whether an account has the address."""
    known = ask_for_link(Client(), "alice@example.com")
    unknown = ask_for_link(Client(), "nobody@example.com")
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]


def test_an_account_without_a_usable_password_gets_no_link(client, alice):
    alice.set_unusable_password()
    alice.save()
    assert ask_for_link(client, "alice@example.com").status_code == 302
    assert mail.outbox == []


def test_links_to_one_address_are_limited_whether_or_not_it_has_an_account(alice, settings):
    settings.THROTTLE_PASSWORD_RESET_EMAIL = "2/hour"
    for email in ["alice@example.com", "nobody@example.com"]:
        statuses = [
            ask_for_link(Client(), email, REMOTE_ADDR=f"198.51.100.{i}").status_code
            for i in range(1, 4)
        ]
        assert statuses == [302, 302, 429]
    assert len(mail.outbox) == 2

    limited = ask_for_link(Client(), " Alice@Example.com ", REMOTE_ADDR="198.51.100.9")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 3600
    page = limited.content.decode()
    assert "Too many password reset requests. Try again in" in page
    assert 'name="email"' in page
    assert len(mail.outbox) == 2
    assert ask_for_link(Client(), "carol@example.com").status_code == 302


def test_links_from_one_client_address_are_limited(alice, settings):
    settings.THROTTLE_PASSWORD_RESET = "3/hour"
    client = Client()
    statuses = [ask_for_link(client, f"user{i}@example.com").status_code for i in range(3)]
    assert statuses == [302, 302, 302]
    assert ask_for_link(client, "alice@example.com").status_code == 429
    assert mail.outbox == []
    other = ask_for_link(Client(), "alice@example.com", REMOTE_ADDR="192.0.2.77")
    assert other.status_code == 302
    assert len(mail.outbox) == 1


def test_setting_the_new_password_counts_as_a_way_in(client, alice, settings):
    settings.THROTTLE_AUTH = "1/min"
    ask_for_link(client, "alice@example.com")
    form_url = client.get(LINK.search(mail.outbox[0].body).group(1))["Location"]
    weak = {"new_password1": "short", "new_password2": "short"}
    assert client.post(form_url, weak).status_code == 200
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    alice.refresh_from_db()
    assert not alice.check_password(NEW_PASSWORD)
