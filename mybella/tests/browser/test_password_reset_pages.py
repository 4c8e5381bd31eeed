"""Forgot password? The reset by email as a person goes through it, at both widths."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from mybella.tests.browser.axe import assert_accessible

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]

OLD_PASSWORD = "Harbor-Lights-5150"
NEW_PASSWORD = "Paper-Crane-3301"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_forgot_password_by_email_and_log_in_again(
    open_page, screenshot, django_user_model, viewport
):
    django_user_model.objects.create_user("dana", email="dana@example.com", password=OLD_PASSWORD)
    page = open_page("/users/login/", viewport=viewport)
    with page.expect_navigation():
        page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    assert_accessible(page)
    screenshot(page, f"password-reset-{viewport}")

    page.get_by_label("Email").fill("dana@example.com")
    with page.expect_navigation():
        page.get_by_role("button", name="Email me a reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert_accessible(page)
    screenshot(page, f"password-reset-sent-{viewport}")

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/users/password/reset/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    assert_accessible(page)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    screenshot(page, f"password-reset-confirm-{viewport}")
    with page.expect_navigation():
        page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your password is changed")
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("main").get_by_role("link", name="Log in").click()
    page.locator("#id_username").fill("dana")
    page.locator("#id_password").fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    assert_accessible(page)
