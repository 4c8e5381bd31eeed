"""A message's tools in a real browser: regenerate and swipe, edit, delete, copy, Stop, and
text rendered as safe markdown that nothing hostile gets through.

The `open_page` fixture fails a test on any console error or CSP violation.
"""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from chat.models import ChatMessage, Conversation
from chat.tests.browser.steps import expect_reply_done, messages, open_chat, send
from chat.tests.factories import ChatMessageFactory
from mybella.tests.browser.steps import sign_up
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]


def row(page: Page, pk: int) -> Locator:
    return page.locator(f'[data-log] > .msg[data-id="{pk}"]')


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_regenerate_swipe_edit_copy_and_delete(open_page, screenshot, viewport) -> None:
    page = open_page("/users/signup/", viewport=viewport)
    user = sign_up(page, f"swiper_{viewport}")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_chat(page)

    reply = send(page, "Tell me about the sea")
    expect_reply_done(page, reply)
    reply_id = int(reply.get_attribute("data-id"))
    first_text = ChatMessage.objects.get(pk=reply_id).content
    last = row(page, reply_id)
    expect(last.locator(".bubble")).to_have_text(first_text)
    # Regenerate is offered on the last reply only; the greeting before it has none.
    expect(page.get_by_role("button", name="Regenerate this reply")).to_have_count(1)
    expect(last.get_by_role("button", name="Regenerate this reply")).to_be_visible()
    expect(last.locator(".msg-swipe")).to_have_count(0)

    # Regenerate: a new reply, 2/2, the earlier one a swipe away.
    last.get_by_role("button", name="Regenerate this reply").click()
    expect(last.locator("[data-swipe-count]")).to_have_text("2/2")
    stored = ChatMessage.objects.get(pk=reply_id)
    assert stored.alternatives[0] == first_text and stored.selected == 1
    second_text = stored.content
    assert second_text != first_text
    expect(last.locator(".bubble")).to_have_text(second_text)
    expect(last.get_by_role("button", name="Next alternative")).to_be_disabled()
    screenshot(page, f"chat-swipe-2of2-{viewport}")

    last.get_by_role("button", name="Previous alternative").click()
    expect(last.locator("[data-swipe-count]")).to_have_text("1/2")
    expect(last.locator(".bubble")).to_have_text(first_text)
    assert ChatMessage.objects.get(pk=reply_id).content == first_text
    expect(last.get_by_role("button", name="Previous alternative")).to_be_disabled()

    # Copy puts the reply's text on the clipboard.
    last.get_by_role("button", name="Copy this message").click()
    expect(page.locator("[data-announce]")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == first_text

    # Edit the user's message: the form holds the text; saving shows the new one.
    mine = messages(page).nth(messages(page).count() - 2)
    mine_id = int(mine.get_attribute("data-id"))
    mine.get_by_role("button", name="Edit this message").click()
    field = mine.get_by_role("textbox", name="Edit the message")
    expect(field).to_have_value("Tell me about the sea")
    expect(field).to_be_focused()
    field.fill("Tell me about the *deep* sea")
    screenshot(page, f"chat-edit-{viewport}")
    mine.get_by_role("button", name="Save").click()
    edited = row(page, mine_id)
    expect(edited.locator(".bubble em")).to_have_text("deep")
    expect(edited.locator(".bubble")).to_have_text("Tell me about the deep sea")
    assert ChatMessage.objects.get(pk=mine_id).content == "Tell me about the *deep* sea"

    # An empty edit is refused in words, and Cancel puts the message back as it was.
    edited.get_by_role("button", name="Edit this message").click()
    edited.get_by_role("textbox", name="Edit the message").fill("  ")
    edited.get_by_role("button", name="Save").click()
    expect(edited.locator("[data-edit-error]")).to_have_text("Write something first.")
    edited.get_by_role("button", name="Cancel").click()
    expect(edited.locator("[data-edit-form]")).to_have_count(0)
    expect(edited.locator(".bubble")).to_be_visible()

    # Delete asks first; "Keep" keeps it, "Delete message" removes it.
    edited.get_by_role("button", name="Delete this message").click()
    dialog = page.get_by_role("dialog", name="Delete this message?")
    expect(dialog).to_be_visible()
    screenshot(page, f"chat-delete-{viewport}")
    dialog.get_by_role("button", name="Keep").click()
    expect(dialog).to_be_hidden()
    expect(row(page, mine_id)).to_have_count(1)
    row(page, mine_id).get_by_role("button", name="Delete this message").click()
    dialog.get_by_role("button", name="Delete message").click()
    expect(row(page, mine_id)).to_have_count(0)
    assert not ChatMessage.objects.filter(pk=mine_id).exists()
    assert user.chat_messages.filter(pk=reply_id).exists()

    # After a reload the page shows the same: the reply's first alternative selected.
    open_chat(page)
    expect(row(page, reply_id).locator("[data-swipe-count]")).to_have_text("1/2")
    expect(row(page, mine_id)).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    screenshot(page, f"chat-tools-{viewport}")


def test_stop_keeps_what_was_written(open_page, screenshot, fake_llm) -> None:
    page = open_page("/users/signup/")
    sign_up(page, "stopper")
    open_chat(page)
    long_reply = " ".join(f"word{number}" for number in range(300))
    fake_llm.reply_text = long_reply
    fake_llm.hold_stream_after(2, then_pace=0.02)

    reply = send(page, "Tell me a very long story")
    expect(reply.locator(".bubble")).to_have_text("word0 word1 ")
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_hidden()
    screenshot(page, "chat-stop-streaming-desktop")
    stop.click()
    fake_llm.resume()  # the model goes on; the server notices no one reads and stops

    expect(page.get_by_role("button", name="Send")).to_be_visible()
    reply = messages(page).last
    expect(reply.locator(".msg-error")).to_contain_text("interrupted before it finished")
    expect(reply.get_by_role("button", name="Retry")).to_be_visible()
    reply_id = int(reply.get_attribute("data-id"))
    stopped = ChatMessage.objects.get(pk=reply_id)
    assert stopped.status == ChatMessage.Status.STOPPED
    assert stopped.content.startswith("word0 word1 ")
    assert len(stopped.content) < len(long_reply)
    expect(reply.locator(".bubble")).to_have_text(stopped.content)
    screenshot(page, "chat-stopped-desktop")


HOSTILE = [
    "<script>window.__hacked = 1; alert('script')</script>",
    "[click me](javascript:alert('link'))",
    "<img src=x onerror=\"alert('img')\">",
    "<a href=\"javascript:alert('raw')\">raw link</a>",
    "*smiles softly* Read **this**: [the docs](https://example.com/docs)\n\n- one\n- two\n\n`code`",
]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_hostile_markdown_renders_inert(open_page, screenshot, viewport) -> None:
    page = open_page("/users/signup/", viewport=viewport)
    page.add_init_script(
        "window.__alerts = []; window.alert = (text) => window.__alerts.push(String(text));"
    )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    user = sign_up(page, f"sanitized_{viewport}")
    isabella = PersonaProfile.objects.get(slug="isabella")
    conversation = Conversation.objects.create(user=user, persona=isabella)
    for text in HOSTILE:
        asked = ChatMessageFactory(conversation=conversation, content=text)
        ChatMessageFactory(
            conversation=conversation, role="assistant", content=text, reply_to=asked
        )
    card = PersonaFactory(
        owner=user, name="Card", greeting="<img src=x onerror=\"alert('card')\"> *waves*"
    )

    open_chat(page)
    log = page.locator("[data-log]")
    expect(messages(page)).to_have_count(2 * len(HOSTILE))
    expect(log.locator("script, img, [onerror], [onclick]")).to_have_count(0)
    expect(log.locator("a[href^='javascript' i]")).to_have_count(0)
    links = log.locator(".bubble a")
    expect(links).to_have_count(2)
    for index in range(2):
        expect(links.nth(index)).to_have_attribute("href", "https://example.com/docs")
        expect(links.nth(index)).to_have_attribute("target", "_blank")
        expect(links.nth(index)).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    expect(log.locator(".bubble em", has_text="smiles softly")).to_have_count(2)
    expect(log.locator(".bubble li")).to_have_count(4)
    # The hostile text shows as the text it is.
    expect(messages(page).first.locator(".bubble")).to_contain_text("<script>")
    log.get_by_text("[click me](javascript:alert('link'))").first.click()
    screenshot(page, f"chat-sanitized-{viewport}")

    open_chat(page, f"?persona={card.pk}")
    greeting = messages(page).first.locator(".bubble")
    expect(greeting.locator("em")).to_have_text("waves")
    expect(greeting.locator("img")).to_have_count(0)
    page.wait_for_timeout(300)  # an image's onerror would have fired by now
    assert page.evaluate("window.__alerts") == []
    assert page.evaluate("window.__hacked") is None
    assert dialogs == []


def test_regenerate_can_fail_or_be_stopped(open_page, screenshot, fake_llm) -> None:
    """A failed regeneration leaves the reply as it was and says why; a stopped one keeps
    what was written as a new alternative, from which the earlier one is a swipe away."""
    page = open_page("/users/signup/")
    sign_up(page, "restless")
    open_chat(page)
    reply = send(page, "Hello")
    expect_reply_done(page, reply)
    reply_id = int(reply.get_attribute("data-id"))
    last = row(page, reply_id)
    expect(last.locator(".bubble")).to_have_text(fake_llm.reply_text)

    fake_llm.fail_next(500, times=3)
    last.get_by_role("button", name="Regenerate this reply").click()
    expect(page.locator("[data-composer-error]")).to_contain_text("Couldn’t regenerate:")
    expect(last.locator(".bubble")).to_have_text(fake_llm.reply_text)
    expect(last.locator(".msg-swipe")).to_have_count(0)
    assert ChatMessage.objects.get(pk=reply_id).alternatives == []

    first = fake_llm.reply_text
    fake_llm.reply_text = " ".join(f"word{number}" for number in range(300))
    fake_llm.hold_stream_after(2, then_pace=0.02)
    last.get_by_role("button", name="Regenerate this reply").click()
    expect(last.locator(".bubble")).to_have_text("word0 word1 ")
    page.get_by_role("button", name="Stop").click()
    fake_llm.resume()

    expect(last.locator("[data-swipe-count]")).to_have_text("2/2")
    expect(last.locator(".msg-error")).to_contain_text("interrupted before it finished")
    stopped = ChatMessage.objects.get(pk=reply_id)
    assert stopped.status == ChatMessage.Status.STOPPED
    assert stopped.alternatives[0] == first
    assert stopped.content.startswith("word0 word1 ")
    screenshot(page, "chat-regenerate-stopped-desktop")
    last.get_by_role("button", name="Previous alternative").click()
    expect(last.locator("[data-swipe-count]")).to_have_text("1/2")
    expect(last.locator(".bubble")).to_have_text(first)
    expect(last.locator(".msg-error")).to_have_count(0)
