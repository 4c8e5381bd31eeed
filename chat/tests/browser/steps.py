"""Steps the chat page's browser tests share: open it, send a message, wait for the reply."""

import re

from playwright.sync_api import Locator, Page, expect


def open_chat(page: Page, query: str = "") -> None:
    page.goto(f"/chat/{query}")
    expect(page.locator("[data-chat]")).to_be_visible()


def messages(page: Page) -> Locator:
    return page.locator("[data-log] > .msg")


def composer(page: Page) -> Locator:
    return page.locator("#composer-input")


def send(page: Page, text: str) -> Locator:
    """Type `text`, press Enter and return the reply bubble the page adds for it."""
    before = messages(page).count()
    composer(page).fill(text)
    composer(page).press("Enter")
    expect(messages(page)).to_have_count(before + 2)
    return messages(page).nth(before + 1)


def expect_reply_done(page: Page, reply: Locator) -> None:
    """The streamed reply has ended: it carries its saved id and Send is back and works."""
    expect(reply).to_have_attribute("data-id", re.compile(r"^\d+$"))
    expect(reply.locator(".typing")).to_have_count(0)
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
