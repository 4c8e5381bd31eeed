"""The persona settings page in a real browser: pick, design, edit, delete and import personas.

Every test signs up through the real form, so it runs against the page a new user sees.
The `open_page` fixture fails a test on any console error or uncaught page error.
"""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from mybella.tests.browser.steps import TAP, sign_up
from personas.models import PersonaProfile
from personas.tests.images import image_bytes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]

SYSTEM_NAMES = ["Isabella", "Alex", "Luna", "Maya", "Sam", "Ethan"]
PHONE_WIDTH, PHONE_HEIGHT = 390, 844


# ---------------------------------------------------------------- helpers


def system_grid(page: Page) -> Locator:
    return page.locator("section[aria-labelledby=system-title] .persona-grid")


def card(page: Page, name: str) -> Locator:
    return page.locator("article.persona-card").and_(
        page.get_by_role("article", name=name, exact=True)
    )


def my_card(page: Page, name: str) -> Locator:
    return page.locator("#my-personas").get_by_role("article", name=name, exact=True)


def current_card(page: Page) -> Locator:
    return page.get_by_test_id("current-persona")


def expect_current(page: Page, name: str) -> None:
    """`name` is in the big card, and its grid card alone is highlighted and selected."""
    expect(current_card(page).get_by_role("heading", level=2)).to_have_text(name)
    expect(page.locator("article.persona-card.is-current")).to_have_count(1)
    selected = card(page, name)
    expect(selected).to_have_class(re.compile(r"\bis-current\b"))
    expect(selected.locator(".badge")).to_have_text("Current")
    expect(selected.get_by_role("button", name="✓ Selected")).to_be_disabled()
    expect(selected.get_by_role("button", name=f"Select {name}")).to_have_count(0)


def open_create_modal(page: Page) -> Locator:
    page.locator(".page-actions").get_by_role("button", name="+ Create custom persona").click()
    modal = page.locator("#persona-modal")
    expect(modal).to_be_visible()
    expect(modal.get_by_role("heading", name="Create custom persona")).to_be_visible()
    return modal


def submit(page: Page, button: Locator) -> None:
    """Click a submit button and wait for the page the server answers with."""
    with page.expect_navigation():
        button.click()


def wait_image_loaded(page: Page, image: Locator) -> None:
    """Wait until `image` decoded a real picture (lazy images are scrolled into view)."""
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )


def dialog_screenshot(screenshot, page: Page, name: str) -> None:
    """Save what the user sees while a dialog is open.

    A full-page shot of a page behind a modal dims only the first screenful, so the
    fixture's file is overwritten with the viewport alone.
    """
    path = screenshot(page, name)
    page.screenshot(path=str(path))


def distinct_columns(cards: Locator) -> list[int]:
    """Return the x positions of the cards in the first row of a grid."""
    boxes = [box for box in (c.bounding_box() for c in cards.all()) if box]
    top = min(box["y"] for box in boxes)
    return sorted({round(box["x"]) for box in boxes if abs(box["y"] - top) < 1})


def scroll_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


# ---------------------------------------------------------------- 1. the main journey


def test_design_select_edit_and_delete_a_persona(open_page, screenshot, tmp_path: Path) -> None:
    page = open_page("/users/signup/")
    sign_up(page, "nova_fan")

    # The six system personas, in their curated order, with Isabella current by default.
    expect(page.get_by_role("heading", level=1)).to_have_text("My personas")
    expect(page.locator("#mine-title")).to_have_text("My personas")
    expect(system_grid(page).locator("article.persona-card h3")).to_have_text(SYSTEM_NAMES)
    expect_current(page, "Isabella")
    expect(page.locator("#my-personas .empty-state")).to_be_visible()

    # Design Nova in the modal. Its voices are told apart by words, never by provider ids.
    modal = open_create_modal(page)
    rachel = modal.locator(".voice-option", has_text="Rachel")
    expect(rachel).to_contain_text("Calm young American woman, good for narration.")
    expect(modal.locator("[data-voice-section]")).not_to_contain_text("21m00Tcm4TlvDq8ikWAM")
    modal.locator("[name=name]").fill("Nova")
    modal.locator("[name=tagline]").fill("Stargazer with a soft voice")
    modal.locator("[name=bio]").fill("Nova maps constellations and asks big questions.")
    modal.locator("[name=traits]").fill("curious, dreamy")
    modal.locator("[name=communication_style]").select_option("playful")
    modal.locator("[name=communication_notes]").fill("Short sentences, lots of wonder.")
    modal.locator("[name=greeting]").fill("Hi! Did you see the sky tonight?")
    advanced = modal.locator("details.form-section")
    advanced.locator("summary", has_text="Advanced").click()
    expect(advanced).to_have_attribute("open", "")
    advanced.locator("[name=system_prompt]").fill("Stay gentle and curious.")

    avatar = tmp_path / "nova.png"
    avatar.write_bytes(image_bytes("PNG", size=(160, 120), color="teal"))
    modal.locator("input[name=avatar]").set_input_files(avatar)
    preview = modal.locator("img[data-avatar-preview]")
    expect(preview).to_be_visible()
    expect(preview).to_have_attribute("src", re.compile(r"^blob:"))
    expect(modal.locator("[data-avatar-placeholder]")).to_be_hidden()
    wait_image_loaded(page, preview)
    dialog_screenshot(screenshot, page, "persona-modal-desktop")

    submit(page, modal.get_by_role("button", name="Save persona"))
    expect(page.locator("#persona-modal")).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("Nova is ready to talk.")
    nova = my_card(page, "Nova")
    expect(nova).to_be_visible()
    expect(nova.locator(".tagline")).to_have_text("Stargazer with a soft voice")
    expect(nova.locator(".traits li")).to_have_text(["curious", "dreamy"])
    nova_avatar = nova.locator("img.avatar")
    expect(nova_avatar).to_have_attribute("src", re.compile(r"^/media/avatars/\w+\.webp$"))
    wait_image_loaded(page, nova_avatar)

    # Select Nova; the choice survives a reload.
    submit(page, nova.get_by_role("button", name="Select Nova"))
    expect(page.get_by_role("status")).to_contain_text("You are now talking to Nova.")
    expect_current(page, "Nova")
    expect(current_card(page)).to_contain_text("Stargazer with a soft voice")
    expect(current_card(page)).to_contain_text("Playful and witty")
    wait_image_loaded(page, current_card(page).locator("img.avatar"))
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "personas-desktop")

    page.reload()
    expect_current(page, "Nova")

    # Edit Nova: the modal opens with her values and saves a new tagline.
    my_card(page, "Nova").get_by_role("button", name="Edit Nova").click()
    modal = page.locator("#persona-modal")
    expect(modal).to_be_visible()
    expect(modal.get_by_role("heading", level=2)).to_have_text("Edit Nova")
    expect(modal.locator("[name=name]")).to_have_value("Nova")
    expect(modal.locator("[name=tagline]")).to_have_value("Stargazer with a soft voice")
    expect(modal.locator("[name=bio]")).to_have_value(
        "Nova maps constellations and asks big questions."
    )
    expect(modal.locator("[name=traits]")).to_have_value("curious, dreamy")
    expect(modal.locator("[name=communication_style]")).to_have_value("playful")
    expect(modal.locator("[name=communication_notes]")).to_have_value(
        "Short sentences, lots of wonder."
    )
    expect(modal.locator("[name=greeting]")).to_have_value("Hi! Did you see the sky tonight?")
    expect(modal.locator("[name=system_prompt]")).to_have_value("Stay gentle and curious.")
    edit_preview = modal.locator("img[data-avatar-preview]")
    expect(edit_preview).to_be_visible()
    expect(edit_preview).to_have_attribute("src", re.compile(r"^/media/avatars/"))
    expect(modal.locator("[data-remove-avatar]")).to_be_visible()
    dialog_screenshot(screenshot, page, "persona-modal-edit-desktop")

    modal.locator("[name=tagline]").fill("Cartographer of the night sky")
    submit(page, modal.get_by_role("button", name="Save persona"))
    expect(page.get_by_role("status")).to_contain_text("Nova is saved.")
    expect(my_card(page, "Nova").locator(".tagline")).to_have_text("Cartographer of the night sky")
    expect(current_card(page)).to_contain_text("Cartographer of the night sky")
    expect_current(page, "Nova")

    # Delete Nova: the confirmation names what goes with her.
    my_card(page, "Nova").get_by_role("button", name="Delete Nova").click()
    dialog = page.locator("#delete-modal")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", level=2)).to_have_text("Delete Nova?")
    expect(dialog).to_contain_text(re.compile(r"conversations with Nova"))
    expect(dialog).to_contain_text("conversations")
    expect(dialog).to_contain_text("memories")
    expect(dialog).to_contain_text("can’t be undone")
    dialog_screenshot(screenshot, page, "delete-modal-desktop")

    submit(page, dialog.get_by_role("button", name="Delete forever"))
    expect(page.get_by_role("status")).to_contain_text("Nova was deleted")
    expect(page.locator("article.persona-card", has_text="Nova")).to_have_count(0)
    expect(page.locator("#my-personas .empty-state")).to_be_visible()
    expect_current(page, "Isabella")
    assert not PersonaProfile.objects.filter(name="Nova").exists()


# ---------------------------------------------------------------- 2. layout at three widths


def test_layout_at_phone_tablet_and_desktop_widths(open_page, screenshot) -> None:
    page = open_page("/users/signup/", viewport="phone")
    sign_up(page, "thumb_typer")

    # The create modal fills the phone screen, with Save reachable.
    modal = open_create_modal(page)
    box = modal.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["y"] >= 0
    assert box["x"] + box["width"] <= PHONE_WIDTH + 0.5
    assert box["y"] + box["height"] <= PHONE_HEIGHT + 0.5
    expect(modal.get_by_role("button", name="Save persona")).to_be_in_viewport(ratio=1)
    expect(modal.get_by_role("button", name="Close")).to_be_in_viewport(ratio=1)
    for name in ("name", "tagline", "bio", "traits"):
        field = modal.locator(f"[name={name}]").bounding_box()
        assert field is not None
        assert field["x"] >= 0
        assert field["x"] + field["width"] <= PHONE_WIDTH, name
    dialog_screenshot(screenshot, page, "persona-modal-phone")

    # A custom persona so that My personas shows Edit and Delete buttons too. Without a
    # tagline, its card shows the start of its bio in that place.
    modal.locator("[name=name]").fill("Wren")
    modal.locator("[name=bio]").fill(
        "Wren is a tiny bird with big opinions about breakfast, and a diary of every one."
    )
    modal.locator("[name=traits]").fill("witty, loyal, stubborn")
    submit(page, modal.get_by_role("button", name="Save persona"))
    expect(my_card(page, "Wren")).to_be_visible()
    expect(my_card(page, "Wren").locator(".tagline")).to_have_text(
        "Wren is a tiny bird with big opinions about breakfast, and a diary…"
    )

    # One column: every card starts at the same x and spans the same width.
    cards = page.locator("article.persona-card")
    expect(cards).to_have_count(7)
    boxes = [c.bounding_box() for c in cards.all()]
    assert all(boxes)
    assert len({round(b["x"]) for b in boxes}) == 1, boxes
    assert len({round(b["width"]) for b in boxes}) == 1, boxes
    assert distinct_columns(system_grid(page).locator("article.persona-card")) == [
        round(boxes[0]["x"])
    ]

    assert scroll_width(page) <= PHONE_WIDTH

    targets = page.locator(
        "main button:visible, main a.button:visible, main a.icon-link:visible, main nav a:visible"
    )
    assert targets.count() > 0
    too_small = []
    for target in targets.all():
        box = target.bounding_box()
        assert box is not None
        if box["height"] < TAP:
            too_small.append((target.get_attribute("aria-label") or target.inner_text(), box))
    assert too_small == []

    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "personas-phone")

    # Tablet: two columns, still no sideways scrolling.
    page.set_viewport_size({"width": 800, "height": 1000})
    system_cards = system_grid(page).locator("article.persona-card")
    assert len(distinct_columns(system_cards)) == 2
    assert scroll_width(page) <= 800
    screenshot(page, "personas-tablet")

    # Desktop: three columns beside the settings menu, four on a wide screen.
    page.set_viewport_size({"width": 1280, "height": 900})
    assert len(distinct_columns(system_cards)) == 3
    assert scroll_width(page) <= 1280
    page.set_viewport_size({"width": 1440, "height": 900})
    assert len(distinct_columns(system_cards)) == 4


# ---------------------------------------------------------------- 3. validation


def test_create_modal_shows_errors_and_keeps_the_input(
    open_page, screenshot, tmp_path: Path
) -> None:
    page = open_page("/users/signup/")
    sign_up(page, "hasty_hands")

    # No name: the server answers with errors and the page reopens the modal.
    modal = open_create_modal(page)
    modal.locator("[name=tagline]").fill("Nameless wonder")
    submit(page, modal.get_by_role("button", name="Save persona"))
    modal = page.locator("#persona-modal")
    expect(modal).to_be_visible()
    name_field = modal.locator(".field", has=page.locator("[name=name]"))
    expect(name_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(name_field.get_by_role("alert")).to_have_text("This field is required.")
    expect(modal.locator("[name=tagline]")).to_have_value("Nameless wonder")

    # A text file named .png is refused by its content, and nothing is created.
    fake = tmp_path / "avatar.png"
    fake.write_text("hello, this is certainly not a picture\n")
    modal.locator("[name=name]").fill("Glitch")
    modal.locator("input[name=avatar]").set_input_files(fake)
    submit(page, modal.get_by_role("button", name="Save persona"))
    modal = page.locator("#persona-modal")
    expect(modal).to_be_visible()
    expect(modal.locator(".avatar-picker").get_by_role("alert")).to_have_text(
        "Upload a PNG, JPEG, WebP or GIF image."
    )
    expect(modal.locator("[name=name]")).to_have_value("Glitch")
    dialog_screenshot(screenshot, page, "persona-modal-errors-desktop")
    expect(modal.locator("[name=name]").locator("xpath=..")).not_to_have_class(
        re.compile(r"\bhas-error\b")
    )

    # Closing the modal shows the page unchanged.
    modal.get_by_role("button", name="Cancel").click()
    expect(modal).to_be_hidden()
    expect(page.locator("#my-personas .empty-state")).to_be_visible()
    expect(page.locator("#my-personas article.persona-card")).to_have_count(0)
    assert not PersonaProfile.objects.filter(is_custom=True).exists()


# ---------------------------------------------------------------- 4. import


def test_import_a_character_card(open_page, screenshot, tmp_path: Path) -> None:
    card_file = tmp_path / "seraphina.json"
    card_file.write_text(
        json.dumps(
            {
                "spec": "chara_card_v2",
                "spec_version": "2.0",
                "data": {
                    "name": "Seraphina",
                    "description": "A guardian.",
                    "personality": "kind, protective",
                    "first_mes": "Hello, traveler.",
                    "mes_example": "",
                    "scenario": "",
                    "creator_notes": "",
                    "system_prompt": "",
                    "post_history_instructions": "",
                    "alternate_greetings": [],
                    "tags": [],
                    "creator": "",
                    "character_version": "",
                    "extensions": {},
                },
            }
        )
    )
    page = open_page("/users/signup/")
    sign_up(page, "card_collector")

    page.locator(".page-actions").get_by_role("button", name="Import card").click()
    dialog = page.locator("#import-modal")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Import a character card")).to_be_visible()
    dialog.locator("input[name=card]").set_input_files(card_file)
    dialog_screenshot(screenshot, page, "import-modal-desktop")
    submit(page, dialog.get_by_role("button", name="Import", exact=True))

    expect(page.locator("#import-modal")).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("Seraphina was imported.")
    seraphina = my_card(page, "Seraphina")
    expect(seraphina).to_be_visible()
    expect(seraphina.locator(".traits li")).to_have_text(["kind", "protective"])
    expect(seraphina.get_by_role("button", name="Edit Seraphina")).to_be_visible()
    expect(seraphina.get_by_role("button", name="Select Seraphina")).to_be_enabled()
    expect_current(page, "Isabella")

    # The import filled the fields the edit modal shows.
    seraphina.get_by_role("button", name="Edit Seraphina").click()
    modal = page.locator("#persona-modal")
    expect(modal).to_be_visible()
    expect(modal.locator("[name=bio]")).to_have_value("A guardian.")
    expect(modal.locator("[name=greeting]")).to_have_value("Hello, traveler.")


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_persona_of_long_unbroken_words_wraps_instead_of_widening_the_page(
    open_page, screenshot, viewport
) -> None:
    """An imported card's one-word name, tagline and traits wrap: in the current persona's
    card, the grid and the "You are now talking to …" message."""
    page = open_page("/users/signup/", viewport=viewport)
    user = sign_up(page, f"longwords_{viewport}")
    persona = PersonaProfile.objects.create(
        owner=user,
        is_custom=True,
        name="Supercalifragilisticexpialidocious" * 2,
        tagline="W" * 120,
        traits=["a" * 40, "b" * 40],
    )
    page.reload()
    submit(page, my_card(page, persona.name).get_by_role("button", name=f"Select {persona.name}"))
    expect_current(page, persona.name)

    width = page.viewport_size["width"]
    assert scroll_width(page) <= width
    screenshot(page, f"personas-long-words-{viewport}")
