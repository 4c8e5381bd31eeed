"""Going back to conversations in a real browser, at desktop and phone widths.

Start two conversations, go back to the earlier one from the panel (a drawer on a phone),
rename it, search, delete the other after the dialog asks. The `open_page` fixture fails
a test on any console error or Content-Security-Policy violation.
"""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from chat.models import Conversation
from chat.tests.browser import steps as chat_steps
from chat.tests.browser.steps import expect_reply_done, messages
from mybella.tests.browser.steps import TAP, sign_up
from personas.models import PersonaProfile

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]

PHONE_WIDTH = 390


def send(page: Page, text: str) -> None:
    """Send `text` and wait for the whole reply."""
    expect_reply_done(page, chat_steps.send(page, text))


def items(page: Page) -> Locator:
    return page.locator("[data-convs] .conv")


def titles(page: Page) -> Locator:
    return page.locator("[data-convs] .conv-title")


def open_panel(page: Page, phone: bool) -> Locator:
    """Show the conversation panel (on a phone, open the drawer) and return it."""
    panel = page.locator("[data-convs]")
    if phone:
        toggle = page.get_by_role("button", name="Conversations", exact=True)
        expect(toggle).to_have_attribute("aria-expanded", "false")
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(panel).to_be_visible()
    expect(panel).to_be_in_viewport(ratio=1)
    return panel


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_go_back_rename_search_and_delete(open_page, screenshot, viewport) -> None:
    phone = viewport == "phone"
    page = open_page("/users/signup/", viewport=viewport)
    user = sign_up(page, f"returning_{viewport}")
    isabella = PersonaProfile.objects.get(slug="isabella")
    page.goto("/chat/")
    toggle = page.get_by_role("button", name="Conversations", exact=True)
    if phone:
        expect(page.locator("[data-convs]")).to_be_hidden()
    else:
        expect(toggle).to_be_hidden()
        expect(page.locator("[data-convs]")).to_be_visible()
        expect(page.locator(".convs-empty")).to_have_text(
            "Your conversations with Isabella will be listed here."
        )

    # Two conversations; each is titled from its first message, the newest on top.
    send(page, "Tell me about the ocean and its tides")
    expect(page).to_have_url(re.compile(r"/chat/\?conversation=\d+$"))
    page.get_by_role("button", name="New conversation").click()
    expect(messages(page)).to_have_count(1)
    send(page, "Which jazz records should I hear first?")
    ocean, jazz = Conversation.objects.filter(user=user, persona=isabella).order_by("id")
    assert (ocean.title, jazz.title) == (
        "Tell me about the ocean and its tides",
        "Which jazz records should I hear first?",
    )
    panel = open_panel(page, phone)
    expect(titles(page)).to_have_text([jazz.title, ocean.title])
    expect(panel.get_by_role("link", name=re.compile("^Which jazz"))).to_have_attribute(
        "aria-current", "page"
    )
    page.mouse.move(0, 0)
    screenshot(page, f"conversations-{viewport}")

    # Back to the earlier one: its history, and it is the one marked open.
    with page.expect_navigation():
        panel.get_by_role("link", name=re.compile("^Tell me about the ocean")).click()
    expect(page).to_have_url(re.compile(rf"/chat/\?conversation={ocean.pk}$"))
    expect(messages(page)).to_have_count(3)
    expect(messages(page).nth(1).locator(".bubble")).to_have_text(ocean.title)
    panel = open_panel(page, phone)
    current = panel.locator(".conv.is-current")
    expect(current.locator(".conv-title")).to_have_text(ocean.title)

    # Rename it in place.
    current.get_by_role("button", name=re.compile("^Rename")).click()
    field = current.get_by_label("New title")
    expect(field).to_be_focused()
    expect(field).to_have_value(ocean.title)
    field.fill("   ")
    field.press("Enter")
    expect(current.get_by_role("alert")).to_have_text("Give the conversation a title.")
    field.fill("Ocean talk")
    field.press("Enter")
    expect(titles(page)).to_have_text(["Ocean talk", jazz.title])
    ocean.refresh_from_db()
    assert ocean.title == "Ocean talk"
    expect(panel.locator(".conv.is-current .conv-title")).to_have_text("Ocean talk")

    # Search titles and what was said.
    search = panel.get_by_role("searchbox")
    search.fill("records")
    expect(titles(page)).to_have_text([jazz.title])
    search.fill("OCEAN")
    expect(titles(page)).to_have_text(["Ocean talk"])
    search.fill("volcano")
    expect(panel.locator(".convs-empty")).to_have_text(
        "No conversation with Isabella mentions “volcano”."
    )
    search.fill("")
    expect(titles(page)).to_have_count(2)
    if phone:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        controls = panel.locator("button:visible, a:visible, input:visible")
        too_small = [
            control.get_attribute("aria-label") or control.inner_text()
            for control in controls.all()
            if (box := control.bounding_box()) is not None and box["height"] < TAP
        ]
        assert too_small == []
    page.mouse.move(0, 0)
    screenshot(page, f"conversations-renamed-{viewport}")

    # Delete the other one: the dialog asks first, Keep it keeps it.
    jazz_item = items(page).filter(has_text=jazz.title)
    jazz_item.get_by_role("button", name=re.compile("^Delete")).click()
    dialog = page.get_by_role("dialog", name="Delete this conversation?")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-confirm-text]")).to_have_text(jazz.title)
    screenshot(page, f"conversations-delete-{viewport}")
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_be_hidden()
    assert Conversation.objects.filter(pk=jazz.pk).exists()
    jazz_item.get_by_role("button", name=re.compile("^Delete")).click()
    with page.expect_navigation():
        dialog.get_by_role("button", name="Delete conversation").click()
    expect(page).to_have_url(re.compile(rf"/chat/\?conversation={ocean.pk}$"))
    flash = page.get_by_role("status").filter(has_text="The conversation was deleted.")
    expect(flash).to_be_visible()
    assert not Conversation.objects.filter(pk=jazz.pk).exists()
    panel = open_panel(page, phone)
    expect(titles(page)).to_have_text(["Ocean talk"])

    # On a phone the drawer closes with Escape, giving the chat back.
    if phone:
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        expect(toggle).to_be_focused()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        screenshot(page, "conversations-chat-phone")


def test_export_downloads_a_sillytavern_chat(open_page) -> None:
    page = open_page("/users/signup/")
    sign_up(page, "exporter")
    page.goto("/chat/")
    send(page, "Remember this for later")
    item = items(page).first
    item.hover()
    with page.expect_download() as download:
        item.get_by_role("link", name=re.compile("^Export")).click()
    name = download.value.suggested_filename
    assert re.fullmatch(r"isabella-remember-this-for-later-\d+\.jsonl", name)
    lines = download.value.path().read_text().splitlines()
    assert '"character_name": "Isabella"' in lines[0]
    assert len(lines) == 4  # metadata, greeting, message, reply


def test_login_lands_on_the_chat_and_personas_offer_start_chatting(open_page, user) -> None:
    page = open_page("/users/login/")
    page.locator("#id_username").fill("alice")
    page.locator("#id_password").fill("a-long-password-1")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^(Log in|Sign in)$")).click()
    expect(page).to_have_url(re.compile(r"/chat/$"))
    page.goto("/users/personas/")
    with page.expect_navigation():
        page.get_by_role("link", name="Start chatting").click()
    expect(page).to_have_url(re.compile(r"/chat/$"))
    expect(page.locator("[data-chat]")).to_be_visible()
