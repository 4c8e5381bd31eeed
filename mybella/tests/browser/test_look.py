"""The seed's look: the gradient card of the current persona, cards that lift under the
pointer (unless people ask for less motion), and the chat's header keeping the persona's
whole name on a phone."""

import pytest
from playwright.sync_api import Page, expect

from mybella.tests.browser.steps import PASSWORD, log_in
from personas.models import PersonaProfile
from personas.services import persona_create, persona_select

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]

SYSTEM_NAMES = ["Isabella", "Alex", "Luna", "Maya", "Sam", "Ethan"]
LONG_NAME = "Captain Evangeline Thistlewood"  # 30 characters
UNBROKEN_NAME = "Bartholomew-Maximilian-Quincey"  # 30 characters, no space to wrap at


def truncated(page: Page, selector: str) -> bool:
    return page.eval_on_selector(
        selector, "el => el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight"
    )


def test_chat_header_shows_the_whole_name_on_a_phone(open_page, django_user_model, screenshot):
    user = django_user_model.objects.create_user("pat", password=PASSWORD)
    page = open_page("/", viewport="phone")
    log_in(page, "pat")
    for name in [LONG_NAME, UNBROKEN_NAME]:
        persona_create(owner=user, fields={"name": name, "communication_style": "warm"})
    personas = [PersonaProfile.objects.get(owner=None, name=n) for n in SYSTEM_NAMES]
    personas += [PersonaProfile.objects.get(owner=user, name=n) for n in (LONG_NAME, UNBROKEN_NAME)]
    for persona in personas:
        persona_select(user=user, persona=persona)
        page.goto("/chat/")
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_have_text(persona.name)
        assert not truncated(page, ".chat-name"), f"{persona.name!r} is cut short"
        # Beside the conversations button, the actions take a row of their own at most.
        actions = page.locator(".chat-actions").bounding_box()
        who = page.locator(".chat-who").bounding_box()
        assert actions["y"] - (who["y"] + who["height"]) < 20
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        head = page.locator(".chat-head").bounding_box()
        assert head["x"] >= 0 and head["x"] + head["width"] <= 390
    # The composer's "Message <name>…" keeps to the one line the empty box shows.
    placeholder = "el => getComputedStyle(el, '::placeholder').whiteSpace"
    assert page.eval_on_selector("#composer-input", placeholder) == "nowrap"
    screenshot(page, "chat-unbroken-name-phone")
    shots = {"chat-isabella-phone": personas[0], "chat-30-char-phone": personas[-2]}
    for shot, persona in shots.items():
        persona_select(user=user, persona=persona)
        page.goto("/chat/")
        screenshot(page, shot)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_current_persona_card_and_cards_that_lift(
    open_page, django_user_model, screenshot, viewport
):
    django_user_model.objects.create_user("robin", password=PASSWORD)
    page = open_page("/", viewport=viewport)
    log_in(page, "robin")
    page.goto("/users/personas/")
    current = page.get_by_test_id("current-persona")
    background = current.evaluate("el => getComputedStyle(el).backgroundImage")
    assert "rgb(155, 89, 182)" in background and "rgb(52, 152, 219)" in background
    expect(current).to_have_css("color", "rgb(255, 255, 255)")
    screenshot(page, f"personas-look-{viewport}")

    card = page.locator("article.persona-card").nth(1)
    expect(card).to_have_css("transition-duration", "0.3s, 0.3s")
    expect(card).to_have_css("transform", "none")
    resting_shadow = card.evaluate("el => getComputedStyle(el).boxShadow")
    card.hover()
    expect(card).to_have_css("transform", "matrix(1, 0, 0, 1, 0, -3)")
    assert card.evaluate("el => getComputedStyle(el).boxShadow") != resting_shadow


def test_cards_keep_still_for_people_who_ask_for_less_motion(open_page, django_user_model):
    django_user_model.objects.create_user("sky", password=PASSWORD)
    page = open_page("/")
    page.emulate_media(reduced_motion="reduce")
    log_in(page, "sky")
    page.goto("/users/personas/")
    card = page.locator("article.persona-card").nth(1)
    expect(card).to_have_css("transition-duration", "0s")
    card.hover()
    expect(card).to_have_css("transform", "none")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_settings_section_is_in_view(open_page, django_user_model, screenshot, viewport):
    """The probe's report: on a phone the settings tabs ran past the edge, "Memory" cut off and
    "Password" out of sight. They wrap instead, each whole and in view."""
    django_user_model.objects.create_user("pat", password=PASSWORD)
    page = open_page("/", viewport=viewport)
    log_in(page, "pat")
    page.goto("/users/personas/")
    width = page.viewport_size["width"]
    tabs = page.get_by_role("navigation", name="Settings").get_by_role("link")
    expect(tabs).to_have_count(5)
    for tab in tabs.all():
        box = tab.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, tab.inner_text()
        assert tab.evaluate("el => el.scrollWidth <= el.clientWidth"), tab.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"settings-tabs-{viewport}")
