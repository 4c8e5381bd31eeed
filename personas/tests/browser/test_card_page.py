"""An imported SillyTavern card as a reader sees it, at desktop and phone widths."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from mybella.tests.browser.steps import sign_up
from personas.tests.browser.test_personas_page import submit
from personas.tests.test_character_cards import seraphina_card

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_an_imported_card_reads_well(open_page, screenshot, tmp_path: Path, viewport) -> None:
    card_file = tmp_path / "seraphina.json"
    card_file.write_text(json.dumps(seraphina_card()))
    page = open_page("/users/signup/", viewport=viewport)
    # A username that reads as a name is what the card's {{user}} says (a handle names none).
    username = {"desktop": "rowan", "phone": "robin"}[viewport]
    sign_up(page, username)

    page.locator(".page-actions").get_by_role("button", name="Import card").click()
    page.locator("#import-modal input[name=card]").set_input_files(card_file)
    submit(page, page.locator("#import-modal").get_by_role("button", name="Import", exact=True))
    mine = page.locator("#my-personas").get_by_role("article", name="Seraphina", exact=True)
    expect(mine.locator(".tagline")).to_have_text("Seraphina is a guardian elf of the forest.")
    submit(page, mine.get_by_role("button", name="Select Seraphina"))

    current = page.get_by_test_id("current-persona")
    # A closed fold-out shows that it opens: a marker before its title, down when open.
    summary = page.get_by_test_id("current-bio").locator("summary")
    marker = "s => getComputedStyle(s, '::before').content"
    assert summary.evaluate(marker) == '"▸"'
    screenshot(page, f"card-closed-{viewport}")
    current.get_by_text("Description").click()
    expect(summary.locator("xpath=..")).to_have_attribute("open", "")
    assert summary.evaluate(marker) == '"▾"'
    bio = page.get_by_test_id("current-bio")
    expect(bio.locator("dl.card-attrs dt").first).to_have_text("Species")
    # Dark on its light box, not the white of the gradient around it.
    expect(bio.locator("dl.card-attrs")).to_have_css("color", "rgb(34, 28, 43)")
    expect(bio).to_contain_text(f"{username.title()}: Where am I?")
    expect(bio).not_to_contain_text("<START>")
    expect(bio).not_to_contain_text("{{")
    current.get_by_text("About this card").click()
    expect(page.get_by_test_id("about-card")).to_contain_text("summer card contest")
    screenshot(page, f"card-current-{viewport}")

    page.goto("/chat/")
    greeting = page.locator(".chat-log [data-preview] .bubble")
    expect(greeting).to_contain_text(f"Welcome back, {username.title()}. I am Seraphina.")
    screenshot(page, f"card-chat-{viewport}")
