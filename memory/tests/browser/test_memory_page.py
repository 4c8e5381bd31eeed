"""The memory page in a real browser, with memories made the real way: by chatting.

The user signs up, tells Isabella something through the chat API (the offline extractor
runs as a task, immediately under the test backend), then looks at, corrects, pins,
deletes and finally wipes what Isabella remembers. The `open_page` fixture fails a test
on any console error or uncaught page error.
"""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from chat.models import ChatMessage
from memory import selectors
from memory.models import ConversationMemory, MemoryEvent
from mybella.tests.browser.steps import TAP, sign_up
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]

PHONE_WIDTH = 390


# ---------------------------------------------------------------- helpers


def persona(slug: str) -> PersonaProfile:
    return PersonaProfile.objects.get(slug=slug)


def say(page: Page, to: PersonaProfile, text: str) -> None:
    """Send `text` to a persona through the chat API, as the signed-in browser."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        "/api/v1/chat/messages/",
        data={"message": text, "persona": to.pk},
        headers={"X-CSRFToken": token},
    )
    assert response.status == 201, response.text()


def memories(page: Page) -> Locator:
    return page.locator("li.memory-item")


def memory(page: Page, text: str) -> Locator:
    return memories(page).filter(has=page.locator(".memory-content", has_text=text))


def submit(page: Page, button: Locator) -> None:
    """Click a submit button and wait for the page the server answers with."""
    with page.expect_navigation():
        button.click()


def status(page: Page) -> Locator:
    return page.locator(".messages[role=status]")


def dialog_screenshot(screenshot, page: Page, name: str) -> None:
    """Save what the user sees while a dialog is open (the viewport, not the whole page)."""
    path = screenshot(page, name)
    page.screenshot(path=str(path))


def scroll_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def small_targets(page: Page) -> list[tuple[str, float]]:
    targets = page.locator(
        "main button:visible, main a.button:visible, main nav a:visible, main summary:visible,"
        " main select:visible, main input:visible, main textarea:visible"
    )
    assert targets.count() > 0
    too_small = []
    for target in targets.all():
        box = target.bounding_box()
        assert box is not None
        if box["height"] < TAP:
            too_small.append((target.get_attribute("aria-label") or target.inner_text(), box))
    return too_small


# ---------------------------------------------------------------- the journey


def test_see_correct_pin_delete_and_forget_what_a_persona_remembers(open_page, screenshot) -> None:
    page = open_page("/users/signup/")
    user = sign_up(page, "robin")
    isabella, luna = persona("isabella"), persona("luna")

    say(page, isabella, "My name is Robin and I live in Lisbon.")
    assert ConversationMemory.objects.filter(user=user, persona=isabella).count() == 2

    # Isabella (the current persona) remembers both things, noticed in conversation.
    page.goto("/users/memory/")
    expect(page.get_by_role("heading", name="What Isabella remembers about you")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Isabella"))).to_have_attribute(
        "aria-current", "page"
    )
    expect(memories(page)).to_have_count(2)
    name = memory(page, "Their name is Robin")
    lisbon = memory(page, "Lives in Lisbon")
    expect(name).to_be_visible()
    expect(lisbon).to_be_visible()
    expect(name.locator(".kind")).to_have_text("Fact")
    expect(name).to_contain_text("Importance 8/10")
    expect(name.locator("time").first).to_have_text("just now")
    expect(page.get_by_role("switch", name="Remember things")).to_have_attribute(
        "aria-checked", "true"
    )
    # The extractor also learned what to call the user.
    expect(page.locator("#pref-preferred_name")).to_have_value("Robin")

    name.locator("summary", has_text="History").click()
    expect(name.locator(".history-list li")).to_have_count(1)
    expect(name.locator(".history-list li")).to_contain_text("Created · Noticed in conversation")

    # Luna heard nothing.
    submit(page, page.get_by_role("link", name=re.compile(r"^Luna")))
    expect(page).to_have_url(re.compile(rf"\?persona={luna.pk}$"))
    expect(page.get_by_role("heading", name="What Luna remembers about you")).to_be_visible()
    expect(memories(page)).to_have_count(0)
    expect(page.locator(".memory-empty")).to_contain_text("Luna doesn’t remember anything")
    expect(page.locator("#pref-preferred_name")).to_have_value("")
    submit(page, page.get_by_role("link", name=re.compile(r"^Isabella")))

    # Edit inline: Cancel puts things back, Save changes content, kind and importance.
    lisbon = memory(page, "Lives in Lisbon")
    lisbon.get_by_role("button", name="Edit").click()
    form = lisbon.locator("form[data-edit-form]")
    expect(form).to_be_visible()
    expect(lisbon.locator(".memory-content")).to_be_hidden()
    expect(form.locator("textarea")).to_be_focused()
    form.locator("textarea").fill("Scribbles")
    form.get_by_role("button", name="Cancel").click()
    expect(form).to_be_hidden()
    expect(lisbon.locator(".memory-content")).to_have_text("Lives in Lisbon")
    expect(lisbon.get_by_role("button", name="Edit")).to_be_focused()

    lisbon.get_by_role("button", name="Edit").click()
    expect(form.locator("textarea")).to_have_value("Lives in Lisbon")
    form.locator("textarea").fill("Lives in Lisbon, in Alfama")
    form.locator("select[name=kind]").select_option("event")
    form.locator("input[name=importance]").fill("9")
    submit(page, form.get_by_role("button", name="Save"))
    expect(status(page)).to_contain_text("The memory is saved.")
    alfama = memory(page, "Lives in Lisbon, in Alfama")
    expect(alfama.locator(".kind")).to_have_text("Event")
    expect(alfama).to_contain_text("Importance 9/10")

    # Pin it: it goes first and says so; its history shows the edit and who made it.
    submit(page, memory(page, "Their name is Robin").get_by_role("button", name="Pin"))
    expect(status(page)).to_contain_text("Pinned")
    expect(memories(page).first.locator(".memory-content")).to_have_text("Their name is Robin")
    expect(memories(page).first.locator(".pin-badge")).to_have_text("Pinned")
    expect(memories(page).first.get_by_role("button", name="Unpin")).to_be_visible()
    alfama = memory(page, "Alfama")
    alfama.locator("summary", has_text="History").click()
    history = alfama.locator(".history-list li")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text("Updated · You")
    expect(history.first.locator("del")).to_have_text("Lives in Lisbon")
    expect(history.first.locator("ins")).to_have_text("Lives in Lisbon, in Alfama")
    expect(history.last).to_contain_text("Created · Noticed in conversation")

    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "memory-desktop")

    # Phone: one column, no sideways scrolling, every target big enough to tap.
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    main_box = page.locator(".memory-main").bounding_box()
    side_box = page.locator(".memory-side").bounding_box()
    assert main_box and side_box
    assert round(main_box["x"]) == round(side_box["x"])
    assert side_box["y"] > main_box["y"] + main_box["height"] - 1
    assert scroll_width(page) <= PHONE_WIDTH
    assert small_targets(page) == []
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "memory-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert small_targets(page) == []

    # The open history leaves the buttons beside its summary clickable; Escape ends an edit.
    alfama.get_by_role("button", name="Edit").click()
    expect(alfama.locator("form[data-edit-form]")).to_be_visible()
    page.keyboard.press("Escape")
    expect(alfama.locator("form[data-edit-form]")).to_be_hidden()
    expect(alfama.locator(".memory-content")).to_have_text("Lives in Lisbon, in Alfama")

    # Delete asks first; "Keep it" keeps it.
    robin = memory(page, "Their name is Robin")
    robin.get_by_role("button", name="Delete").click()
    dialog = page.locator("#delete-modal")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-confirm-text]")).to_have_text("Their name is Robin")
    dialog_screenshot(screenshot, page, "memory-delete-dialog-desktop")
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_be_hidden()
    expect(memories(page)).to_have_count(2)

    robin.get_by_role("button", name="Delete").click()
    submit(page, dialog.get_by_role("button", name="Delete memory"))
    expect(status(page)).to_contain_text("Isabella forgot that.")
    expect(memories(page)).to_have_count(1)
    expect(memory(page, "Their name is Robin")).to_have_count(0)
    assert MemoryEvent.objects.filter(
        user=user, action=MemoryEvent.Action.DELETED, content_before="Their name is Robin"
    ).exists()

    # Switched off, Isabella notices nothing new; switched on again, she does.
    submit(page, page.get_by_role("switch", name="Remember things"))
    switch = page.get_by_role("switch", name="Remember things")
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(page.locator("#remember-help")).to_contain_text("nothing new is remembered")
    say(page, isabella, "I work at the aquarium.")
    assert not ConversationMemory.objects.filter(content__icontains="aquarium").exists()
    submit(page, switch)
    expect(page.get_by_role("switch", name="Remember things")).to_have_attribute(
        "aria-checked", "true"
    )

    # Preferences: set a reply length and a tone.
    prefs = page.locator("#preferences")
    prefs.locator("select[name=reply_length]").select_option("short")
    prefs.locator("input[name=tone]").fill("gentle")
    submit(page, prefs.get_by_role("button", name="Save preferences"))
    expect(status(page)).to_contain_text("Your preferences for Isabella are saved.")
    assert selectors.preference_dict(user=user, persona=isabella) == {
        "preferred_name": "Robin",
        "reply_length": "short",
        "tone": "gentle",
    }

    # Forget everything: the dialog says what goes and what stays.
    conversation_length = ChatMessage.objects.filter(user=user, persona=isabella).count()
    assert conversation_length >= 4
    page.get_by_role("button", name="Forget everything…").click()
    dialog = page.locator("#forget-modal")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Make Isabella forget everything?")
    expect(dialog).to_contain_text("the 1 memory about you")
    expect(dialog).to_contain_text("the history of those memories")
    expect(dialog).to_contain_text("your preferences for Isabella")
    expect(dialog).to_contain_text("Your conversations with Isabella stay")
    dialog_screenshot(screenshot, page, "memory-forget-dialog-desktop")
    submit(page, dialog.get_by_role("button", name="Forget everything", exact=True))
    expect(status(page)).to_contain_text("Isabella forgot everything about you.")
    expect(memories(page)).to_have_count(0)
    expect(page.locator("#pref-preferred_name")).to_have_value("")
    expect(page.locator("#pref-tone")).to_have_value("")
    assert not ConversationMemory.objects.filter(user=user, persona=isabella).exists()
    assert not MemoryEvent.objects.filter(user=user, persona=isabella).exists()
    assert selectors.preference_dict(user=user, persona=isabella) == {}
    assert ChatMessage.objects.filter(user=user, persona=isabella).count() == conversation_length


def test_a_refused_edit_reopens_with_its_error(open_page, screenshot) -> None:
    page = open_page("/users/signup/")
    user = sign_up(page, "hasty_editor")
    say(page, persona("isabella"), "I live in Lisbon.")
    page.goto("/users/memory/")

    lisbon = memory(page, "Lives in Lisbon")
    lisbon.get_by_role("button", name="Edit").click()
    form = lisbon.locator("form[data-edit-form]")
    form.locator("textarea").fill("   ")
    submit(page, form.get_by_role("button", name="Save"))

    lisbon = memories(page).first
    form = lisbon.locator("form[data-edit-form]")
    expect(form).to_be_visible()
    expect(form.get_by_role("alert")).to_have_text("This field is required.")
    expect(form.locator("textarea")).to_be_focused()
    expect(lisbon.get_by_role("button", name="Edit")).to_be_hidden()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "memory-edit-error-desktop")
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    assert scroll_width(page) <= PHONE_WIDTH
    assert small_targets(page) == []
    screenshot(page, "memory-edit-error-phone")
    form.get_by_role("button", name="Cancel").click()
    expect(lisbon.locator(".memory-content")).to_have_text("Lives in Lisbon")
    assert ConversationMemory.objects.get(user=user).content == "Lives in Lisbon"


def test_summaries_of_a_long_imported_history_show_what_they_cover(open_page, screenshot) -> None:
    """A long history, imported through the API, is folded into summaries in the background;
    the page shows them as summaries with the days they cover, on a desktop and a phone."""
    page = open_page("/users/signup/")
    user = sign_up(page, "robin")
    luna = persona("luna")
    items = [
        {
            "role": "user" if n % 2 == 0 else "assistant",
            "content": (
                "I'm moving to Porto in March with my sister Ana."
                if n == 4
                else f"Today I walked {n} blocks to the market."
                if n % 2 == 0
                else f"Lovely, {n}!"
            ),
            "created_at": f"2026-10-{1 + n // 24:02d}T{n % 24:02d}:00:00Z",
        }
        for n in range(80)
    ]
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"/api/v1/personas/{luna.pk}/history/import/",
        data=items,
        headers={"X-CSRFToken": token},
    )
    assert response.status == 201, response.text()
    assert ConversationMemory.objects.filter(user=user, persona=luna, kind="summary").count() == 2

    page.goto(f"/users/memory/?persona={luna.pk}")
    summaries = memories(page).filter(has=page.locator(".kind", has_text="Summary"))
    expect(summaries).to_have_count(2)
    porto = summaries.filter(has_text="Porto")
    expect(porto.locator(".covers")).to_have_text("Covers 1 Oct 2026")  # 00:00 to 19:00
    expect(summaries.filter(has_text="walked 20 blocks").locator(".covers")).to_have_text(
        "Covers 1 Oct 2026 – 2 Oct 2026"
    )
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "memory-summaries-desktop")
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    assert scroll_width(page) <= PHONE_WIDTH
    screenshot(page, "memory-summaries-phone")


def test_every_persona_tab_shows_on_a_wide_screen(open_page, screenshot) -> None:
    """With custom personas beside the six, the row wraps on a desktop: none is cut off at the
    edge (found trying the page: a seventh persona was half hidden). A phone scrolls it."""
    page = open_page("/users/signup/")
    user = sign_up(page, "tabs")
    for name in ("Nova", "Orion", "Wren"):
        PersonaFactory(owner=user, name=name)
    page.goto("/users/memory/")
    tabs = page.locator(".persona-tab")
    expect(tabs).to_have_count(9)
    row = page.locator(".persona-tabs").bounding_box()
    assert row
    for box in (tabs.nth(i).bounding_box() for i in range(9)):
        assert box and box["x"] + box["width"] <= row["x"] + row["width"] + 1
    screenshot(page, "memory-tabs-desktop")
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    assert scroll_width(page) <= PHONE_WIDTH
    screenshot(page, "memory-tabs-phone")


def test_a_persona_named_by_one_long_word_leaves_the_phone_page_its_width(
    open_page, screenshot
) -> None:
    """The memory page's heading and its line under it wrap a one-word name of 68 letters."""
    page = open_page("/users/signup/", viewport="phone")
    user = sign_up(page, "longword_reader")
    long = PersonaFactory(owner=user, name="Supercalifragilisticexpialidocious" * 2)

    page.goto(f"/users/memory/?persona={long.pk}")
    expect(page.get_by_role("heading", name=re.compile("remembers about you"))).to_be_visible()

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    screenshot(page, "memory-long-name-phone")
