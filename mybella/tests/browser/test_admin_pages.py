"""The admin under the Content-Security-Policy: staff sign in and curate with no violation."""

import pytest
from playwright.sync_api import expect

from personas.models import PersonaProfile
from voices.models import PersonaVoice

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]

PASSWORD = "Amber-Harbour-4096"


def test_staff_curate_personas_and_voices(open_page, django_user_model, screenshot):
    django_user_model.objects.create_superuser("curator", password=PASSWORD)
    page = open_page("/admin/")
    page.locator("#id_username").fill("curator")
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    page.goto("/admin/personas/personaprofile/")
    expect(page.locator("#result_list .persona-thumb")).to_have_count(6)
    placeholder = page.locator(".persona-thumb-placeholder").first
    expect(placeholder).not_to_have_css("background-color", "rgba(0, 0, 0, 0)")
    screenshot(page, "admin-personas")

    isabella = PersonaProfile.objects.get(slug="isabella")
    page.goto(f"/admin/personas/personaprofile/{isabella.pk}/change/")
    expect(page.locator("textarea#id_traits")).to_have_value("\n".join(isabella.traits))
    screenshot(page, "admin-persona-change")
    page.locator("summary").filter(has_text="Advanced").click()  # the collapsed fieldset
    expect(page.locator("#id_system_prompt")).to_be_visible()
    page.locator("#id_tagline").fill("Warm and curious, now curated")
    # The persona's voice is its own fieldset (the voices app's persona section).
    expect(page.locator("#id_voice_preset")).to_have_value(str(isabella.voice.preset_id))
    page.locator("#id_voice_preset").select_option(label="Adam")
    screenshot(page, "admin-persona-voice")
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    isabella.refresh_from_db()
    assert isabella.tagline == "Warm and curious, now curated"
    assert PersonaVoice.objects.get(persona=isabella).preset.name == "Adam"

    page.goto("/admin/personas/personaprofile/add/")
    page.locator("#id_name").press_sequentially("Nova Star")
    expect(page.locator("#id_slug")).to_have_value("nova-star")  # prepopulated by admin JS

    for path in ["/admin/voices/voicepreset/", "/admin/users/user/"]:
        page.goto(path)
        expect(page.locator("#result_list")).to_be_visible()
