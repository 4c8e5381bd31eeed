"""The whole journey of issue #3 in one browser: chat, personas keep their own histories,
what you said becomes a memory on the memory page, and you can delete it."""

import re

import pytest
from playwright.sync_api import expect

from chat.tests.browser.steps import expect_reply_done, open_chat, send
from chat.tests.browser.test_chat_page import switch_to
from mybella.tests.browser.steps import sign_up

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]


def test_chat_switch_remember_and_forget(open_page, screenshot):
    page = open_page("/users/signup/")
    sign_up(page, "journey")
    open_chat(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Isabella")
    reply = send(page, "Hello! I live in Lisbon and I love jasmine tea.")
    expect_reply_done(page, reply)

    switch_to(page, "Luna")
    expect(page.locator("[data-log]")).not_to_contain_text("jasmine")
    switch_to(page, "Isabella")
    expect(page.locator("[data-log]")).to_contain_text("I live in Lisbon and I love jasmine tea.")

    page.goto("/users/memory/")
    memories = page.locator("#main")
    expect(memories).to_contain_text("What Isabella remembers about you")
    expect(memories).to_contain_text("Lives in Lisbon")
    expect(memories).to_contain_text("Likes jasmine tea")
    screenshot(page, "journey-memory")

    item = page.locator("article, li").filter(has_text=re.compile(r"^\s*Lives in Lisbon")).first
    item.get_by_role("button", name=re.compile("Delete")).click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_be_visible()
    with page.expect_navigation():
        dialog.get_by_role("button", name=re.compile("Delete")).click()
    expect(page.locator("#main")).not_to_contain_text("Lives in Lisbon")
    expect(page.locator("#main")).to_contain_text("Likes jasmine tea")
