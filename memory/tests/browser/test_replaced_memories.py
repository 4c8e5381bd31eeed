"""A fact that changed, in a real browser: told through the chat API, the old memory is
folded under "Replaced by newer memories" with its history and a link to its replacement."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from memory.models import ConversationMemory
from memory.tests.browser.test_memory_page import PHONE_WIDTH, persona, say, scroll_width
from mybella.tests.browser.steps import sign_up

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]


def test_a_replaced_memory_is_kept_apart_with_its_link(open_page, screenshot) -> None:
    page = open_page("/users/signup/")
    user = sign_up(page, "mover")
    isabella = persona("isabella")
    say(page, isabella, "I live in Lisbon and I have a dog called Pixel.")
    year = timezone.localdate().year + 1
    say(page, isabella, f"I moved to Porto! My exam is on 4 December {year}.")
    porto = ConversationMemory.objects.get(user=user, content="Lives in Porto")

    page.goto("/users/memory/")
    active = page.locator("li.memory-item")
    expect(active).to_have_count(3)
    for text in (
        "Lives in Porto",
        "Their dog is called Pixel",
        f"Their exam is on 4 December {year}",
    ):
        expect(active.filter(has_text=text)).to_have_count(1)
    expect(page.locator("#memories-title .count")).to_have_text("3")
    expect(active.filter(has_text="Their exam")).to_contain_text(f"For 4 December {year}")

    replaced = page.locator("#replaced")
    expect(replaced.locator("> summary")).to_contain_text("Replaced by newer memories 1")
    replaced.locator("> summary").click()
    lisbon = replaced.locator(".replaced-item")
    expect(lisbon.locator(".memory-content")).to_have_text("Lives in Lisbon")
    link = lisbon.get_by_role("link", name="Lives in Porto")
    expect(link).to_have_attribute("href", f"#memory-{porto.pk}")
    lisbon.locator("summary", has_text="History").click()
    expect(lisbon.locator(".history-list li").first).to_contain_text(
        re.compile(r"Replaced by a newer memory · Noticed in conversation")
    )
    expect(lisbon.locator(".history-list .change ins")).to_have_text("Lives in Porto")
    screenshot(page, "memory-replaced-desktop")

    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    assert scroll_width(page) <= PHONE_WIDTH
    screenshot(page, "memory-replaced-phone")

    link.click()
    expect(page).to_have_url(re.compile(rf"#memory-{porto.pk}$"))
