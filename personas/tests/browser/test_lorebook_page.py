"""Lorebook editing in the persona modal, in a real browser, at desktop and phone widths."""

import pytest
from playwright.sync_api import Locator, Page, expect

from mybella.tests.browser.steps import sign_up
from personas.models import PersonaProfile
from personas.tests.browser.test_personas_page import dialog_screenshot, open_create_modal, submit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]


def open_advanced(modal: Locator) -> Locator:
    advanced = modal.locator("details[data-advanced]")
    advanced.locator("summary", has_text="Advanced").click()
    expect(advanced).to_have_attribute("open", "")
    return advanced


def visible_entries(modal: Locator) -> Locator:
    return modal.locator("[data-lore-entry]:visible")


def fill_entry(entry: Locator, *, title: str, keys: str, content: str) -> None:
    entry.get_by_label("Title").fill(title)
    entry.get_by_label("Keywords", exact=True).fill(keys)
    entry.get_by_label("Content").fill(content)


def edit_persona(page: Page, name: str) -> Locator:
    page.locator("#my-personas").get_by_role("button", name=f"Edit {name}").click()
    modal = page.locator("#persona-modal")
    expect(modal.get_by_role("heading", name=f"Edit {name}")).to_be_visible()
    return modal


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_add_edit_and_remove_lorebook_entries(open_page, screenshot, viewport) -> None:
    page = open_page("/users/signup/", viewport=viewport)
    user = sign_up(page, f"lore_{viewport}")

    modal = open_create_modal(page)
    modal.locator("[name=name]").fill("Mira")
    advanced = open_advanced(modal)
    expect(advanced.locator("[data-lore-empty]")).to_be_visible()
    advanced.get_by_role("button", name="+ Add entry").click()
    first = visible_entries(modal).nth(0)
    fill_entry(first, title="The lighthouse", keys="lighthouse, beacon", content="Mira keeps it.")
    advanced.get_by_role("button", name="+ Add entry").click()
    second = visible_entries(modal).nth(1)
    fill_entry(second, title="The harbour", keys="harbour", content="Boats rest there.")
    second.get_by_label("Always included").check()
    expect(advanced.locator("[data-lore-empty]")).to_be_hidden()
    second.scroll_into_view_if_needed()
    dialog_screenshot(screenshot, page, f"lorebook-modal-{viewport}")
    submit(page, modal.get_by_role("button", name="Save persona"))

    mira = PersonaProfile.objects.get(owner=user, name="Mira")
    assert [(e.comment, e.keys, e.constant) for e in mira.lorebook_entries.all()] == [
        ("The lighthouse", ["lighthouse", "beacon"], False),
        ("The harbour", ["harbour"], True),
    ]

    # Edit: the saved entries are there; change one, remove the other, add a third.
    modal = edit_persona(page, "Mira")
    advanced = open_advanced(modal)
    expect(visible_entries(modal)).to_have_count(2)
    lighthouse = visible_entries(modal).nth(0)
    expect(lighthouse.get_by_label("Keywords", exact=True)).to_have_value("lighthouse, beacon")
    lighthouse.get_by_label("Content").fill("Mira keeps the light burning.")
    visible_entries(modal).nth(1).get_by_role("button", name="Remove").click()
    expect(visible_entries(modal)).to_have_count(1)
    advanced.get_by_role("button", name="+ Add entry").click()
    fill_entry(visible_entries(modal).nth(1), title="Gulls", keys="gull", content="Loud birds.")
    dialog_screenshot(screenshot, page, f"lorebook-modal-edit-{viewport}")
    submit(page, modal.get_by_role("button", name="Save persona"))

    assert [(e.comment, e.content) for e in mira.lorebook_entries.all()] == [
        ("The lighthouse", "Mira keeps the light burning."),
        ("Gulls", "Loud birds."),
    ]
    # Opening the modal to create another persona starts with an empty lorebook.
    modal = open_create_modal(page)
    open_advanced(modal)
    expect(visible_entries(modal)).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_a_lorebook_that_could_not_be_read_is_left_as_it_is(open_page) -> None:
    """The dialog reads the entries when it opens; if that fails it says so, and a save
    changes the persona without touching its lorebook."""
    page = open_page("/users/signup/")
    user = sign_up(page, "lore_offline")
    modal = open_create_modal(page)
    modal.locator("[name=name]").fill("Mira")
    advanced = open_advanced(modal)
    advanced.get_by_role("button", name="+ Add entry").click()
    fill_entry(visible_entries(modal).nth(0), title="Light", keys="light", content="Kept.")
    submit(page, modal.get_by_role("button", name="Save persona"))
    mira = PersonaProfile.objects.get(owner=user, name="Mira")

    # An answer without the lorebook (a failed request would be a console error, which the
    # page watch refuses): the dialog must not take it for an empty one.
    page.route(
        f"**/api/v1/personas/{mira.pk}/",
        lambda route: route.fulfill(json={"detail": "Not now."}),
    )
    modal = edit_persona(page, "Mira")
    advanced = open_advanced(modal)
    expect(advanced.locator("[data-lore-status]")).to_contain_text("Couldn’t load the lorebook")
    expect(advanced.get_by_role("button", name="+ Add entry")).to_be_disabled()
    modal.locator("[name=tagline]").fill("Keeper of the light")
    submit(page, modal.get_by_role("button", name="Save persona"))

    mira.refresh_from_db()
    assert mira.tagline == "Keeper of the light"
    assert [e.content for e in mira.lorebook_entries.all()] == ["Kept."]
