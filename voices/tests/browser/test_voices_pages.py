"""Voices in a real browser: clone a voice in the persona modal, test it, list it.

The fake ElevenLabs server clones voices and answers text to speech with a real MP3 made
by espeak-ng and lame, so the page's <audio> element really decodes and plays it.
"""

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from mybella.tests.browser.steps import TAP, sign_up
from personas.models import PersonaProfile
from voices.models import CustomVoice, PersonaVoice
from voices.tasks import clone_custom_voice
from voices.tests.audio_files import require_tool, wav_bytes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]


@pytest.fixture
def spoken_mp3(tmp_path: Path) -> bytes:
    """Return a short, real MP3 of speech."""
    require_tool("espeak-ng")
    require_tool("lame")
    wav, mp3 = tmp_path / "speech.wav", tmp_path / "speech.mp3"
    espeak, lame = shutil.which("espeak-ng"), shutil.which("lame")
    subprocess.run([espeak, "-w", str(wav), "Hello, this is my voice."], check=True)
    subprocess.run([lame, "--quiet", str(wav), str(mp3)], check=True)
    return mp3.read_bytes()


@pytest.fixture
def eleven(fake_elevenlabs, spoken_mp3, monkeypatch):
    """The fake ElevenLabs API, speaking real audio."""
    monkeypatch.setattr("mybella.tests.fakes.fake_elevenlabs.fake_mp3", lambda text: spoken_mp3)
    return fake_elevenlabs


def modal_screenshot(screenshot, page: Page, name: str) -> None:
    """Save what the user sees of the modal's voice section (the viewport, not the page)."""
    page.locator("#persona-modal [data-voice-section] legend").scroll_into_view_if_needed()
    path = screenshot(page, name)
    page.screenshot(path=str(path))


def test_clone_a_voice_in_the_modal_and_hear_it(open_page, screenshot, eleven, tmp_path):
    page = open_page("/users/signup/")
    user = sign_up(page, "voice_maker")

    # A custom persona to give the voice to.
    page.locator(".page-actions").get_by_role("button", name="+ Create custom persona").click()
    modal = page.locator("#persona-modal")
    modal.locator("[name=name]").fill("Echo")
    modal.locator("[name=greeting]").fill("Hello there, I am Echo.")
    expect(modal.get_by_role("button", name="Test voice")).to_be_disabled()
    with page.expect_navigation():
        modal.get_by_role("button", name="Save persona").click()
    persona = PersonaProfile.objects.get(owner=user, name="Echo")

    # Upload a recording in the Edit modal: progress, then ready.
    page.get_by_role("button", name="Edit Echo").click()
    expect(modal).to_be_visible()
    sample = tmp_path / "my-voice.wav"
    sample.write_bytes(wav_bytes(12))
    modal.get_by_label("Voice name").fill("My own voice")
    modal.get_by_label("Recording").set_input_files(sample)
    modal.get_by_role("button", name="Upload voice").click()
    progress = modal.locator("[data-upload-progress]")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("value", "100")
    expect(modal.locator("[data-upload-status]")).to_have_text("“My own voice” is ready.")
    option = modal.locator(".voice-option", has_text="My own voice")
    expect(option.locator("[data-voice-status]")).to_have_text("Ready")
    radio = option.get_by_role("radio")
    expect(radio).to_be_enabled()
    radio.check()
    modal_screenshot(screenshot, page, "persona-voice-desktop")
    with page.expect_navigation():
        modal.get_by_role("button", name="Save persona").click()

    voice = CustomVoice.objects.get(owner=user)
    assert voice.status == CustomVoice.Status.READY
    assert PersonaVoice.objects.get(persona=persona).custom_voice == voice

    # Reopen: the voice is still chosen; Test voice plays the greeting in an <audio>.
    page.get_by_role("button", name="Edit Echo").click()
    expect(
        modal.locator(".voice-option", has_text="My own voice").get_by_role("radio")
    ).to_be_checked()
    modal.get_by_role("button", name="Test voice").click()
    audio = modal.locator("[data-voice-audio]")
    page.wait_for_function(
        "a => a.ended || (Number.isFinite(a.duration) && a.duration > 0 && a.currentTime > 0)",
        arg=audio.element_handle(),
        timeout=15000,
    )
    assert eleven.tts_calls() >= 1
    spoken = [r for r in eleven.requests if "/v1/text-to-speech/" in r[1]]
    assert voice.provider_voice_id in spoken[-1][1]
    assert spoken[-1][3]["text"] == "Hello there, I am Echo."


def test_voices_page_lists_and_uploads_on_a_phone(open_page, screenshot, eleven, tmp_path):
    page = open_page("/users/signup/", viewport="phone")
    sign_up(page, "phone_voice")
    page.goto("/users/voices/")
    expect(page.get_by_role("heading", name="Voices", level=1)).to_be_visible()
    expect(page.get_by_text("Cloning a voice needs an ElevenLabs account")).to_be_visible()

    sample = tmp_path / "phone.wav"
    sample.write_bytes(wav_bytes(11))
    page.get_by_label("Voice name").fill("Pocket voice")
    page.get_by_label("Recording").set_input_files(sample)
    page.get_by_role("button", name="Upload voice").click()
    expect(page.locator("[data-upload-progress]")).to_have_attribute("value", "100")
    row = page.get_by_role("listitem", name="Pocket voice")
    expect(row.locator("[data-voice-status]")).to_have_text("Ready")

    # After a reload the server lists it, and its sample plays.
    page.reload()
    row = page.get_by_role("listitem", name="Pocket voice")
    expect(row.locator("[data-voice-status]")).to_have_text("Ready")
    row.get_by_role("button", name="Play your recording of Pocket voice").click()
    audio = page.locator("[data-voice-audio]")
    page.wait_for_function(
        "a => a.ended || (Number.isFinite(a.duration) && a.duration > 0)",
        arg=audio.element_handle(),
        timeout=15000,
    )

    # Nothing sticks out sideways and every control is big enough to tap.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for target in page.locator("main button:visible, main input:visible").all():
        box = target.bounding_box()
        assert box["height"] >= TAP - 0.5, (target.get_attribute("aria-label"), box)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "voices-phone")

    # Delete asks first.
    row.get_by_role("button", name="Delete Pocket voice").click()
    dialog = page.locator("#voice-delete-modal")
    expect(dialog).to_be_visible()
    with page.expect_navigation():
        dialog.get_by_role("button", name="Delete voice").click()
    expect(page.get_by_role("listitem", name="Pocket voice")).to_have_count(0)
    assert not CustomVoice.objects.exists()


def test_a_name_taken_from_the_file_keeps_to_the_fields_limit(open_page, tmp_path):
    """The voice name filled in from a long file name is cut to the field's maxlength."""
    page = open_page("/users/signup/")
    sign_up(page, "long_file_name")
    page.goto("/users/voices/")
    name = page.get_by_label("Voice name")
    # The page, not the script, says how long a name may be.
    name.evaluate("input => { input.maxLength = 10; }")
    sample = tmp_path / "a-recording-with-a-long-name.wav"
    sample.write_bytes(wav_bytes(11))
    page.get_by_label("Recording").set_input_files(sample)
    expect(name).to_have_value("a-recordin")


def test_a_voice_still_cloning_settles_on_the_page_by_itself(
    open_page, eleven, tmp_path, queued_tasks
):
    """Uploaded while the worker is busy, the row says Queued, then turns Ready on its own.

    The row is the server's partial; it polls itself while cloning (htmx), and the page
    never builds it.
    """
    page = open_page("/users/signup/")
    user = sign_up(page, "patient_cloner")
    page.goto("/users/voices/")
    sample = tmp_path / "later.wav"
    sample.write_bytes(wav_bytes(11))
    page.get_by_label("Voice name").fill("Later voice")
    page.get_by_label("Recording").set_input_files(sample)
    page.get_by_role("button", name="Upload voice").click()
    row = page.get_by_role("listitem", name="Later voice")
    expect(row.locator("[data-voice-status]")).to_have_text("Queued")
    expect(page.locator("[data-upload-status]")).to_have_text("Uploaded. Queued…")
    expect(row.locator("[data-retry-form]")).to_be_hidden()

    # The worker gets to it: the row settles and the upload box says so.
    voice = CustomVoice.objects.get(owner=user)
    assert queued_tasks("voices.tasks.clone_custom_voice") != []
    clone_custom_voice.call(voice.pk)
    expect(row.locator("[data-voice-status]")).to_have_text("Ready")
    expect(page.locator("[data-upload-status]")).to_have_text("“Later voice” is ready.")
    expect(row).not_to_have_attribute("hx-get", re.compile(".*"))


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_without_a_key_an_upload_waits_and_clones_once_a_key_is_set(
    open_page, screenshot, eleven, settings, tmp_path, viewport
):
    """No key: the page says so before upload; the upload waits (no Retry, no polling);
    once a key is configured `clone_waiting_voices` clones it."""
    key, settings.ELEVENLABS_API_KEY = settings.ELEVENLABS_API_KEY, ""
    page = open_page("/users/signup/", viewport=viewport)
    user = sign_up(page, f"keyless_{viewport}")
    page.goto("/users/voices/")
    expect(page.locator("[data-no-key-notice]")).to_contain_text(
        "Cloning needs an ElevenLabs API key"
    )
    sample = tmp_path / "keyless.wav"
    sample.write_bytes(wav_bytes(11))
    page.get_by_label("Voice name").fill("Patient voice")
    page.get_by_label("Recording").set_input_files(sample)
    page.get_by_role("button", name="Upload voice").click()
    row = page.get_by_role("listitem", name="Patient voice")
    expect(row.locator("[data-voice-status]")).to_have_text("Waiting for a key")
    expect(page.locator("[data-upload-status]")).to_have_text(
        "“Patient voice” is kept and will be cloned once the server has an ElevenLabs API key."
    )
    expect(row.locator("[data-retry-form]")).to_be_hidden()
    expect(row).not_to_have_attribute("hx-get", re.compile(".*"))
    screenshot(page, f"voices-waiting-{viewport}")
    assert CustomVoice.objects.get(owner=user).status == CustomVoice.Status.WAITING

    settings.ELEVENLABS_API_KEY = key
    call_command("clone_waiting_voices", stdout=io.StringIO())
    page.reload()
    expect(page.locator("[data-no-key-notice]")).to_have_count(0)
    row = page.get_by_role("listitem", name="Patient voice")
    expect(row.locator("[data-voice-status]")).to_have_text("Ready")
