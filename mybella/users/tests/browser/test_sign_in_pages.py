"""Sign-in limits and API tokens as a person meets them, in a real browser.

The `open_page` fixture fails a test on any console error or uncaught page error.
"""

import re

import pytest
from playwright.sync_api import expect

from mybella.tests.browser.steps import PASSWORD, sign_up
from mybella.users.models import ApiToken

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]


def test_too_many_log_ins_show_the_form_and_when_to_try_again(open_page, screenshot, settings):
    settings.THROTTLE_AUTH = "2/min"
    page = open_page("/users/login/")
    for _ in range(2):
        page.locator("#id_username").fill("nobody")
        page.locator("#id_password").fill("not-the-password")
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_contain_text("enter a correct username")
    page.locator("#id_username").fill("nobody")
    page.locator("#id_password").fill("not-the-password")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Log in").click()
    assert navigation.value.status == 429
    expect(page.get_by_role("status")).to_contain_text(
        re.compile(r"Too many sign-in attempts\. Try again in \d+ seconds\.")
    )
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    screenshot(page, "sign-in-limited")


def test_too_many_admin_log_ins_keep_the_admin_form(open_page, screenshot, settings):
    settings.THROTTLE_AUTH = "1/min"
    page = open_page("/admin/login/")
    for _ in range(2):
        page.locator("#id_username").fill("nobody")
        page.locator("#id_password").fill("not-the-password")
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()
    expect(page.locator(".messagelist")).to_contain_text("Too many sign-in attempts")
    expect(page.locator("#id_username")).to_be_visible()
    screenshot(page, "admin-sign-in-limited")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_make_see_once_and_revoke_an_api_token(open_page, screenshot, viewport, live_server):
    page = open_page("/users/signup/", viewport=viewport)
    user = sign_up(page, f"tokens-{viewport}")
    page.goto("/users/profile/")
    section = page.locator("#api-tokens")
    expect(section).to_contain_text("You have no API tokens.")
    section.get_by_label("Name").fill("garden sensor")
    with page.expect_navigation():
        section.get_by_role("button", name="Create token").click()
    key_box = page.get_by_label(re.compile("Your new token"))
    key = key_box.input_value()
    assert key.startswith("mb_")
    token = ApiToken.objects.get(user=user)
    expect(section.locator(".token-row")).to_contain_text(token.prefix)
    screenshot(page, f"api-token-created-{viewport}")

    page.goto("/users/profile/")
    expect(page.get_by_label(re.compile("Your new token"))).to_have_count(0)
    assert key not in page.content()

    with page.expect_navigation():
        section.get_by_role("button", name="Revoke garden sensor").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    expect(section).to_contain_text("You have no API tokens.")
    assert not ApiToken.objects.filter(user=user).exists()

    # A password change revokes tokens: the new one made here is gone after it.
    section.get_by_role("button", name="Create token").click()
    page.wait_for_load_state()
    assert ApiToken.objects.filter(user=user).count() == 1
    page.goto("/users/password/")
    page.locator("#id_old_password").fill(PASSWORD)
    page.locator("#id_new_password1").fill("Another-Lantern-4096")
    page.locator("#id_new_password2").fill("Another-Lantern-4096")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Change", re.IGNORECASE)).click()
    assert not ApiToken.objects.filter(user=user).exists()
