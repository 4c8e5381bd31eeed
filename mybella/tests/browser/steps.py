"""Steps the browser tests share."""

import re

from playwright.sync_api import Page, expect

from mybella.users.models import User

PASSWORD = "Quiet-Lantern-2048"
TAP = 44  # the smallest comfortable tap target, in CSS pixels


def sign_up(page: Page, username: str) -> User:
    """Fill in the sign-up form `page` shows and land on the personas page."""
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.locator("#id_username").fill(username)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign up", exact=True).click()
    expect(page).to_have_url(re.compile(r"/users/personas/$"))
    return User.objects.get(username=username)


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Log in through the log-in form; the page lands on the chat."""
    page.goto("/users/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
