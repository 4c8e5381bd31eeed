"""The chat page in a real browser: talk, switch personas, start over, retry, scroll back.

Every test signs up through the real form, so it runs against the page a new user sees.
The `open_page` fixture fails a test on any console error or uncaught page error.
"""

import json
import re
import threading

import pytest
from django.core.signals import request_finished
from playwright.sync_api import Page, expect

from chat.models import ChatMessage, Conversation
from chat.tests.browser.steps import composer, expect_reply_done, messages, open_chat, send
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from mybella.tests.browser.steps import TAP, sign_up
from mybella.tests.fakes.fake_llm import DEFAULT_REPLY
from personas.models import PersonaProfile
from personas.selectors import persona_get_current

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]

SYSTEM_NAMES = ["Isabella", "Alex", "Luna", "Maya", "Sam", "Ethan"]
PHONE_WIDTH, PHONE_HEIGHT = 390, 844


# ---------------------------------------------------------------- helpers


def persona(slug: str) -> PersonaProfile:
    return PersonaProfile.objects.get(slug=slug)


def switch_to(page: Page, name: str) -> None:
    page.locator(".switcher > summary").click()
    menu = page.locator(".switcher-menu")
    expect(menu).to_be_visible()
    with page.expect_navigation():
        menu.get_by_role("button", name=re.compile(rf"^{name}\b")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def scroll_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def watch_reply_rendering(page: Page) -> None:
    """Record whether a typing indicator showed and how many text pieces replies received."""
    page.evaluate(
        """() => {
          window.__chat = { typing: false, pieces: 0 };
          new MutationObserver((records) => {
            for (const record of records) {
              for (const node of record.addedNodes) {
                const typing = node.nodeType === 1
                  && (node.matches('.typing') || node.querySelector('.typing'));
                if (typing) window.__chat.typing = true;
                if (node.nodeType === 3 && record.target.closest?.('.msg-assistant .bubble')) {
                  window.__chat.pieces += 1;
                }
              }
            }
          }).observe(document.querySelector('[data-log]'), { childList: true, subtree: true });
        }"""
    )


# ---------------------------------------------------------------- 1. the main journey


def test_talk_switch_personas_and_start_over(open_page, screenshot) -> None:
    page = open_page("/users/signup/")
    user = sign_up(page, "night_talker")
    isabella, luna = persona("isabella"), persona("luna")

    # Isabella, the default persona, greets a new user before any conversation exists.
    open_chat(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Isabella")
    expect(page.locator(".chat-head")).to_contain_text(isabella.tagline)
    expect(page.get_by_test_id("offline-notice")).to_have_text(
        "Offline mode: replies come from MyBella’s built-in engine, not an AI model."
    )
    expect(messages(page)).to_have_count(1)
    expect(messages(page).first.locator(".bubble")).to_have_text(isabella.greeting)
    expect(page.locator("[data-intro]")).to_contain_text("Say hello to start")
    expect(composer(page)).to_be_focused()
    assert not Conversation.objects.filter(user=user).exists()

    # Send: the user's bubble at once, then the reply streams in over the typing indicator.
    watch_reply_rendering(page)
    with page.expect_response("**/api/v1/chat/messages/") as sent:
        reply = send(page, "I went hiking in the mountains today")
    assert sent.value.headers["content-type"].startswith("text/event-stream")
    expect(composer(page)).to_have_value("")
    expect_reply_done(page, reply)
    mine = messages(page).nth(1)
    expect(mine).to_have_class(re.compile(r"\bmsg-user\b"))
    expect(mine.locator(".bubble")).to_have_text("I went hiking in the mountains today")
    expect(mine).to_have_attribute("data-id", re.compile(r"^\d+$"))
    expect(mine.locator("time")).to_have_text(re.compile(r"\d"))
    saved = ChatMessage.objects.get(user=user, role="assistant", provider="offline")
    assert saved.status == ChatMessage.Status.OK
    expect(reply.locator(".bubble")).to_have_text(saved.content)
    expect(reply).to_have_attribute("data-id", str(saved.pk))
    expect(reply.locator(".msg-avatar .avatar")).to_be_visible()
    rendering = page.evaluate("window.__chat")
    assert rendering["typing"] is True
    assert rendering["pieces"] > 1, "the reply should arrive in several pieces"
    conversation = Conversation.objects.get(user=user, persona=isabella)
    assert conversation.messages.count() == 3  # greeting, message, reply

    # Shift+Enter makes a new line; Enter sends the two lines as one message.
    composer(page).fill("Line one")
    composer(page).press("Shift+Enter")
    composer(page).press_sequentially("line two")
    expect(composer(page)).to_have_value("Line one\nline two")
    expect(messages(page)).to_have_count(3)
    composer(page).press("Enter")
    expect(messages(page)).to_have_count(5)
    expect_reply_done(page, messages(page).last)
    expect(messages(page).nth(3).locator(".bubble")).to_have_text("Line one\nline two")
    expect(messages(page).last).to_be_in_viewport()
    expect(composer(page)).to_be_focused()
    page.mouse.move(0, 0)
    screenshot(page, "chat-desktop")

    # Luna has her own, still empty, history: only her greeting. Choosing her posts to
    # personas:select, which makes her current and comes back to the chat.
    switch_to(page, "Luna")
    expect(page).to_have_url(re.compile(r"/chat/$"))
    expect(
        page.get_by_role("status").filter(has_text="You are now talking to Luna.")
    ).to_be_visible()
    expect(messages(page)).to_have_count(1)
    expect(messages(page).first.locator(".bubble")).to_have_text(luna.greeting)
    expect(page.locator("[data-log]")).not_to_contain_text("hiking")
    assert persona_get_current(user=user) == luna

    # Back to Isabella: the conversation is where it was.
    page.locator(".switcher > summary").click()
    expect(
        page.locator(".switcher-menu").get_by_role("button", name=re.compile(r"^Luna\b"))
    ).to_have_attribute("aria-current", "true")
    expect(page.locator(".switcher-menu .switcher-name")).to_have_text(SYSTEM_NAMES)
    page.keyboard.press("Escape")
    expect(page.locator(".switcher-menu")).to_be_hidden()
    switch_to(page, "Isabella")
    expect(messages(page)).to_have_count(5)
    expect(messages(page).nth(1).locator(".bubble")).to_have_text(
        "I went hiking in the mountains today"
    )
    expect(messages(page).nth(2).locator(".bubble")).to_have_text(saved.content)
    expect(page.locator("[data-intro]")).to_contain_text("start of your conversation")
    assert persona_get_current(user=user) == isabella

    # A new conversation opens with a fresh greeting; the old one stays in the database.
    page.get_by_role("button", name="New conversation").click()
    expect(messages(page)).to_have_count(1)
    expect(messages(page).first.locator(".bubble")).to_have_text(isabella.greeting)
    expect(messages(page).first).to_have_attribute("data-id", re.compile(r"^\d+$"))
    expect(composer(page)).to_be_focused()
    assert Conversation.objects.filter(user=user, persona=isabella).count() == 2
    fresh = Conversation.objects.filter(user=user, persona=isabella).latest("created_at")

    # What is sent now belongs to the new conversation, and a reload shows it.
    expect_reply_done(page, send(page, "Starting over feels nice"))
    assert list(fresh.messages.values_list("role", flat=True)) == ["assistant", "user", "assistant"]
    assert conversation.messages.count() == 5
    page.reload()
    expect(messages(page)).to_have_count(3)
    expect(messages(page).nth(1).locator(".bubble")).to_have_text("Starting over feels nice")


# ---------------------------------------------------------------- 2. a failed reply


def test_failed_reply_shows_the_reason_and_retry_answers_it(
    open_page, screenshot, fake_llm
) -> None:
    page = open_page("/users/signup/")
    user = sign_up(page, "patient_one")
    open_chat(page)
    expect(page.get_by_test_id("offline-notice")).to_have_count(0)

    # Every call to the model fails: memory extraction falls back to its rules, the reply fails.
    fake_llm.fail_next(500, times=20)
    reply = send(page, "Tell me about the stars")
    expect(reply).to_have_class(re.compile(r"\bmsg-failed\b"))
    expect(reply.locator(".msg-error")).to_contain_text("The model server had a problem.")
    retry = reply.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    failed = ChatMessage.objects.get(user=user, role="assistant", status="failed")
    expect(reply).to_have_attribute("data-id", str(failed.pk))
    # The user's message was kept.
    expect(messages(page).nth(1)).to_have_attribute("data-id", re.compile(r"^\d+$"))
    screenshot(page, "chat-failed-desktop")

    # The model is back: Retry replaces the failed bubble with the reply.
    with fake_llm.lock:
        fake_llm.failures.clear()
    retry.click()
    answered = messages(page).last
    expect(answered.locator(".bubble")).to_have_text(DEFAULT_REPLY)
    expect(answered).not_to_have_class(re.compile(r"\bmsg-failed\b"))
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    expect(messages(page)).to_have_count(3)
    failed.refresh_from_db()
    assert failed.status == ChatMessage.Status.OK
    assert failed.content == DEFAULT_REPLY

    # A reload shows the same answered conversation.
    page.reload()
    expect(messages(page).last.locator(".bubble")).to_have_text(DEFAULT_REPLY)
    expect(page.locator(".msg-failed")).to_have_count(0)


# ---------------------------------------------------------------- 2b. a tab closed mid-reply


def test_closing_the_tab_mid_reply_leaves_it_to_retry(open_page, fake_llm) -> None:
    page = open_page("/users/signup/")
    user = sign_up(page, "tab_closer")
    open_chat(page)
    long_reply = " ".join(f"word{number}" for number in range(300))
    fake_llm.reply_text = long_reply
    # A slow model: two words, a pause, then a word every 20 ms (Chromium closes the
    # socket of a closed tab a moment after page.close() returns).
    fake_llm.hold_stream_after(2, then_pace=0.02)

    # The reply has its id from the first event, before the model has finished.
    reply = send(page, "Tell me a very long story")
    expect(reply.locator(".bubble")).to_have_text("word0 word1 ")
    reply_id = int(reply.get_attribute("data-id"))
    assert ChatMessage.objects.get(pk=reply_id).status == ChatMessage.Status.PENDING

    # The tab is closed; the model goes on, and the server notices no one is reading.
    finished = threading.Event()
    request_finished.connect(lambda **kwargs: finished.set(), weak=False, dispatch_uid="tab")
    later = page.context.new_page()  # the same sign-in, for coming back
    try:
        page.close()
        fake_llm.resume()
        for _ in range(10):  # each wait ends with one finished request; ours stops the reply
            assert finished.wait(30), "the server never finished the request"
            finished.clear()
            if ChatMessage.objects.get(pk=reply_id).status != ChatMessage.Status.PENDING:
                break
    finally:
        request_finished.disconnect(dispatch_uid="tab")
    stopped = ChatMessage.objects.get(pk=reply_id)
    assert stopped.status == ChatMessage.Status.STOPPED
    assert stopped.content.startswith("word0 word1 ")
    assert len(stopped.content) < len(long_reply)

    # Back on the page: what was written, why it stopped, and Retry, which finishes it.
    page = later
    open_chat(page)
    item = page.locator(f'[data-log] > .msg[data-id="{reply_id}"]')
    expect(item).to_have_class(re.compile(r"\bmsg-failed\b"))
    expect(item.locator(".bubble")).to_have_text(stopped.content)
    expect(item.locator(".msg-error")).to_contain_text("interrupted before it finished")
    expect(item.get_by_role("button", name="Play this message aloud")).to_have_count(0)
    item.get_by_role("button", name="Retry").click()
    answered = messages(page).last
    expect(answered.locator(".bubble")).to_have_text(long_reply)
    expect(answered).to_have_attribute("data-id", str(reply_id))
    expect(page.locator(".msg-failed")).to_have_count(0)
    stopped.refresh_from_db()
    assert (stopped.status, stopped.content) == ("ok", long_reply)
    assert (
        user.chat_messages.filter(role="assistant", reply_to__content__startswith="Tell").count()
        == 1
    )


# ---------------------------------------------------------------- 3. scrolling back


def test_older_messages_load_when_scrolling_up(open_page) -> None:
    page = open_page("/users/signup/")
    user = sign_up(page, "long_memory")
    conversation = ConversationFactory(user=user, persona=persona("isabella"))
    for number in range(1, 81):
        ChatMessageFactory(
            conversation=conversation,
            role="user" if number % 2 else "assistant",
            content=f"Message {number:02d}",
        )
    open_chat(page)

    # The newest page, at the bottom.
    expect(messages(page)).to_have_count(30)
    expect(messages(page).first.locator(".bubble")).to_have_text("Message 51")
    expect(messages(page).last.locator(".bubble")).to_have_text("Message 80")
    expect(messages(page).last).to_be_in_viewport()
    expect(page.locator("[data-intro]")).to_be_hidden()

    # Scrolling to the top loads the page before, and what was on screen stays on screen.
    scroller = page.locator("[data-scroll]")
    scroller.evaluate("el => { el.scrollTop = 0; }")
    expect(messages(page)).to_have_count(60)
    expect(messages(page).first.locator(".bubble")).to_have_text("Message 21")
    expect(page.locator(".msg", has_text="Message 51")).to_be_in_viewport()
    assert scroller.evaluate("el => el.scrollTop") > 0

    # Once more reaches the beginning: the intro shows and nothing more is asked for.
    scroller.evaluate("el => { el.scrollTop = 0; }")
    expect(messages(page)).to_have_count(80)
    expect(page.locator("[data-intro]")).to_be_visible()
    expect(page.locator("[data-older]")).to_be_hidden()
    assert messages(page).locator(".bubble").all_inner_texts() == [
        f"Message {number:02d}" for number in range(1, 81)
    ]


def test_older_unfinished_replies_load_with_the_right_way_out(open_page) -> None:
    page = open_page("/users/signup/")
    user = sign_up(page, "scroll_back")
    conversation = ConversationFactory(user=user, persona=persona("isabella"))
    asked = ChatMessageFactory(conversation=conversation, content="Tell me about tides")
    stopped = ChatMessageFactory(
        conversation=conversation,
        role="assistant",
        content="Tides come from the",
        status="stopped",
        error="The reply was interrupted before it finished.",
        reply_to=asked,
    )
    writing = ChatMessageFactory(
        conversation=conversation, role="assistant", content="", status="pending", reply_to=asked
    )
    for number in range(40):
        ChatMessageFactory(conversation=conversation, content=f"Later {number:02d}")
    open_chat(page)

    # They arrive with the page scrolled back to, rendered by the server like the first page.
    page.locator("[data-scroll]").evaluate("el => { el.scrollTop = 0; }")
    expect(messages(page)).to_have_count(43)
    cut = page.locator(f'[data-log] > .msg[data-id="{stopped.pk}"]')
    expect(cut.locator(".bubble")).to_have_text("Tides come from the")
    expect(cut.locator(".msg-error")).to_contain_text("interrupted before it finished")
    expect(cut.get_by_role("button", name="Retry")).to_be_visible()
    expect(cut.get_by_role("button", name="Play this message aloud")).to_have_count(0)
    pending = page.locator(f'[data-log] > .msg[data-id="{writing.pk}"]')
    expect(pending.locator(".msg-error")).to_contain_text("still being written")
    expect(pending.get_by_role("button", name="Reload")).to_be_visible()
    expect(pending.get_by_role("button", name="Retry")).to_have_count(0)


# ---------------------------------------------------------------- 4. phone


def test_phone_layout(open_page, screenshot) -> None:
    page = open_page("/users/signup/", viewport="phone")
    sign_up(page, "thumb_chatter")
    open_chat(page)
    expect(messages(page)).to_have_count(1)
    screenshot(page, "chat-empty-phone")

    for text in ["Hi Isabella!", "I had a long day at work", "Tell me something nice"]:
        expect_reply_done(page, send(page, text))

    # Nothing scrolls sideways, the page itself does not scroll, the composer sits at the bottom.
    assert scroll_width(page) <= PHONE_WIDTH
    assert page.evaluate("document.documentElement.scrollHeight") <= PHONE_HEIGHT
    form = page.locator("[data-composer]").bounding_box()
    assert form is not None
    assert abs(form["y"] + form["height"] - PHONE_HEIGHT) <= 1
    expect(page.get_by_role("button", name="Send")).to_be_in_viewport(ratio=1)
    expect(page.get_by_role("button", name="New conversation")).to_be_in_viewport(ratio=1)
    expect(messages(page).last).to_be_in_viewport()
    for bubble in messages(page).all():
        box = bubble.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH

    targets = page.locator(
        "main button:visible, main a:visible, main summary:visible, main textarea:visible"
    )
    assert targets.count() >= 4
    too_small = [
        (target.get_attribute("aria-label") or target.inner_text(), box)
        for target in targets.all()
        if (box := target.bounding_box()) is not None and box["height"] < TAP
    ]
    assert too_small == []
    page.mouse.move(0, 0)
    screenshot(page, "chat-phone")

    # The switcher fits the screen and its choices are easy to tap.
    page.locator(".switcher > summary").click()
    menu = page.locator(".switcher-menu")
    expect(menu).to_be_visible()
    box = menu.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
    items = menu.locator(".switcher-item, a")
    assert items.count() == len(SYSTEM_NAMES) + 1  # and "Manage personas"
    assert all(item.bounding_box()["height"] >= TAP for item in items.all())
    path = screenshot(page, "chat-phone-switcher")
    page.screenshot(path=str(path))
    with page.expect_navigation():
        menu.get_by_role("button", name=re.compile(r"^Luna\b")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Luna")
    assert scroll_width(page) <= PHONE_WIDTH
    assert page.evaluate("document.documentElement.scrollHeight") <= PHONE_HEIGHT


# ---------------------------------------------------------------- 5. a flaky network


def test_network_failures_are_shown_not_thrown(open_page) -> None:
    page = open_page("/users/signup/")
    user = sign_up(page, "flaky_wifi")
    open_chat(page)

    # The request never reaches the server: nothing is lost, the text goes back to the composer.
    # (fetch rejects as it does offline; an aborted route would make Chromium itself log an
    # error line, which is the browser's report, not the page's.)
    page.evaluate(
        """() => {
          window.__fetch = window.fetch;
          window.fetch = () => Promise.reject(new TypeError("Failed to fetch"));
        }"""
    )
    composer(page).fill("Are you there?")
    composer(page).press("Enter")
    error = page.locator("[data-composer-error]")
    expect(error).to_have_text(re.compile(r"^Not sent: You seem to be offline"))
    expect(composer(page)).to_have_value("Are you there?")
    expect(messages(page)).to_have_count(1)  # only the greeting
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    assert not ChatMessage.objects.filter(user=user).exists()

    # The stream breaks after the first words: they stay, with a way to see the rest.
    page.evaluate("() => { window.fetch = window.__fetch; }")
    user_message = {"id": 999, "conversation": 1, "role": "user", "content": "Are you there?"}
    user_message["created_at"] = "2025-01-01T12:00:00Z"
    page.route(
        "**/api/v1/chat/messages/",
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Type": "text/event-stream"},
            body=(
                f"event: message\ndata: {json.dumps(user_message)}\n\n"
                'event: delta\ndata: {"text": "I am "}\n\n'
                'event: delta\ndata: {"text": "here"}\n\n'
            ),
        ),
    )
    composer(page).press("Enter")
    expect(error).to_be_hidden()
    reply = messages(page).last
    expect(reply.locator(".bubble")).to_have_text("I am here")
    expect(reply.locator(".msg-error")).to_contain_text("The connection dropped")
    expect(reply.get_by_role("button", name="Reload")).to_be_visible()
    expect(messages(page).nth(1).locator(".bubble")).to_have_text("Are you there?")
    expect(composer(page)).to_have_value("")
