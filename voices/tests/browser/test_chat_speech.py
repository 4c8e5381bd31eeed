"""Speech in a real browser: play chat replies aloud, speak them as they arrive, and use
the browser's own voice, without asking the server, when the server has no engine.

With SPEECH_ENGINE "espeak" the speak endpoint answers a real WAV that the page's <audio>
element decodes and plays. With "none" a stub of `speechSynthesis.speak` records what the
page says; the `open_page` fixture fails a test on any console error (a 503 logs one).
"""

import json
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from chat.tests.browser.steps import expect_reply_done, open_chat, send
from mybella.core.sentences import split_sentences
from mybella.tests.browser.steps import sign_up
from voices.selectors import preset_list

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]

SPEAK_PATH = re.compile(r"/api/v1/personas/\d+/speak/$")
SENTENCE_PATH = re.compile(r"/api/v1/personas/\d+/speak/sentence/$")

# Record what the page asks the browser to say, instead of saying it.
STUB_SPEECH = """
window.__spoken = [];
if (window.speechSynthesis) {
  window.speechSynthesis.speak = (utterance) => { window.__spoken.push(utterance.text); };
  window.speechSynthesis.cancel = () => {};
}
"""

PLAYING = "a => a.ended || (Number.isFinite(a.duration) && a.duration > 0 && a.currentTime > 0)"


@pytest.fixture
def no_engine(settings):
    settings.SPEECH_ENGINE = "none"


def expect_audio_plays(page: Page) -> None:
    """The chat's <audio> has a real, finite duration and plays (or has played) it."""
    audio = page.locator("[data-speech-audio]")
    page.wait_for_function(PLAYING, arg=audio.element_handle(), timeout=15000)


def chat_reply(page: Page, text: str) -> Locator:
    reply = send(page, text)
    expect_reply_done(page, reply)
    return reply


def one_sentence_at_a_time(page: Page) -> None:
    """Let the test server answer the page's sentence requests one after the other.

    The live server shares the tests' in-memory SQLite connection between its request
    threads, so two sentences stored at once can break each other's savepoints: a test
    artefact, a real server's threads each have their own. The page still has them open
    together (Playwright's sync route handlers run one at a time).
    """
    page.route(SENTENCE_PATH, lambda route: route.fulfill(response=route.fetch()))


def watch_speak_requests(page: Page) -> list[str]:
    """Return a list that fills with the address of every request to a speak endpoint."""
    seen: list[str] = []
    page.on(
        "request",
        lambda r: (SPEAK_PATH.search(r.url) or SENTENCE_PATH.search(r.url)) and seen.append(r.url),
    )
    return seen


def test_play_a_reply_and_speak_new_replies(open_page, espeak, fake_llm):
    page = open_page("/users/signup/")
    sign_up(page, "listener")
    open_chat(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Isabella")
    expect(page.locator("[data-chat]")).to_have_attribute("data-speech-available", "true")

    # (a) ▶ on the reply asks the server for audio of its sentence and plays it.
    reply = chat_reply(page, "Hello Isabella")
    text = reply.locator(".bubble").inner_text().strip()
    assert text
    with page.expect_response(lambda r: bool(SENTENCE_PATH.search(r.url))) as info:
        reply.get_by_role("button", name="Play this message aloud").click()
    response = info.value
    assert response.status == 200
    assert response.request.method == "POST"
    assert json.loads(response.request.post_data)["text"] == text
    assert response.headers["content-type"].startswith("audio/")
    expect_audio_plays(page)

    # (b) With "Speak replies" on, the next reply is spoken as soon as it is done.
    toggle = page.get_by_role("button", name="Speak replies")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.evaluate(
        """() => {
          const a = document.querySelector('[data-speech-audio]');
          a.pause();
          a.removeAttribute('src');
          a.load();
        }"""
    )
    with page.expect_response(lambda r: bool(SENTENCE_PATH.search(r.url))) as info:
        second = chat_reply(page, "Tell me more")
    second_text = second.locator(".bubble").inner_text().strip()
    # Sentence by sentence, as the stream told them: the first is asked for first.
    assert json.loads(info.value.request.post_data)["text"] == split_sentences(second_text)[0]
    expect_audio_plays(page)

    # The choice survives a reload.
    page.reload()
    expect(page.get_by_role("button", name="Speak replies")).to_have_attribute(
        "aria-pressed", "true"
    )


def test_no_engine_speaks_in_the_browser_without_asking(open_page, no_engine, fake_llm):
    page = open_page("/users/signup/")
    page.add_init_script(STUB_SPEECH)
    sign_up(page, "quiet_server")
    requests = watch_speak_requests(page)
    open_chat(page)
    expect(page.locator("[data-chat]")).to_have_attribute("data-speech-available", "false")

    # (c) ▶ hands the text to speechSynthesis; nobody asks the server.
    reply = chat_reply(page, "Hello Isabella")
    text = reply.locator(".bubble").inner_text().strip()
    reply.get_by_role("button", name="Play this message aloud").click()
    page.wait_for_function("() => window.__spoken.length > 0")
    assert page.evaluate("window.__spoken") == [text]
    expect(page.locator("[data-announce]")).to_have_text("Speaking with your browser’s voice.")
    assert requests == []


def test_no_engine_preset_preview_uses_the_browser(open_page, no_engine):
    page = open_page("/users/signup/")
    page.add_init_script(STUB_SPEECH)
    sign_up(page, "preview_fan")
    requests: list[str] = []
    page.on("request", lambda r: "/preview/" in r.url and requests.append(r.url))

    # (d) ▶ next to a preset in the modal speaks its sample line in the browser.
    page.locator(".page-actions").get_by_role("button", name="+ Create custom persona").click()
    modal = page.locator("#persona-modal")
    expect(modal).to_be_visible()
    section = modal.locator("[data-voice-section]")
    expect(section).to_have_attribute("data-speech-available", "false")
    preset = preset_list().first()
    assert preset is not None
    modal.get_by_role("button", name=f"Preview {preset.name}").click()
    page.wait_for_function("() => window.__spoken.length > 0")
    assert page.evaluate("window.__spoken") == [f"Hi, I'm {preset.name}. This is how I sound."]
    assert requests == []


def test_a_long_reply_is_cut_to_the_servers_speech_limit(open_page, espeak, fake_llm, settings):
    """▶ says at most SPEECH_MAX_CHARS characters: the server cuts what it tells the page."""
    settings.SPEECH_MAX_CHARS = 12
    page = open_page("/users/signup/")
    sign_up(page, "short_speech")
    open_chat(page)

    reply = chat_reply(page, "Hello Isabella")
    text = reply.locator(".bubble").inner_text().strip()
    assert len(text) > 12
    with page.expect_response(lambda r: bool(SENTENCE_PATH.search(r.url))) as info:
        reply.get_by_role("button", name="Play this message aloud").click()
    assert info.value.status == 200
    assert json.loads(info.value.request.post_data)["text"] == text[:12]
    expect_audio_plays(page)


# Count the sounds the page starts and the sentences the server has answered.
COUNT_PLAYS = """
window.__plays = 0;
window.__answered = 0;
window.__open = 0;  // sentence requests asked and not answered yet
window.__mostOpen = 0;
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () { window.__plays += 1; return play.call(this); };
const fetchFirst = window.fetch;
window.fetch = async (...args) => {
  const sentence = String(args[0]).endsWith("/speak/sentence/");
  if (sentence) window.__mostOpen = Math.max(window.__mostOpen, ++window.__open);
  try {
    const response = await fetchFirst(...args);
    if (sentence) window.__answered += 1;
    return response;
  } finally {
    if (sentence) window.__open -= 1;
  }
};
"""


def reply_to_play(open_page, fake_llm, text: str, username: str):
    """Sign up, get a reply saying `text`, and watch ▶'s sentence requests.

    Return the page, the reply, its sentences and the list of sentences asked for.
    """
    fake_llm.reply_text = text
    page = open_page("/users/signup/")
    page.add_init_script(COUNT_PLAYS)
    one_sentence_at_a_time(page)
    sign_up(page, username)
    open_chat(page)
    reply = chat_reply(page, "Tell me something")
    sentences = split_sentences(reply.locator(".bubble").inner_text().strip())
    asked: list[str] = []
    page.on(
        "request",
        lambda r: SENTENCE_PATH.search(r.url) and asked.append(json.loads(r.post_data)["text"]),
    )
    return page, reply, sentences, asked


def test_play_speaks_a_long_reply_sentence_by_sentence_and_stops(open_page, espeak, fake_llm):
    """▶ on a long reply asks for its sentences one by one, as a streamed reply is spoken,
    so the first plays without waiting for the rest; ▶ again stops it mid-way, and what
    was not asked for yet never is (only the next sentence is asked for ahead)."""
    text = " ".join(
        f"This is sentence number {n} of a long reply, and it is said slowly enough that "
        f"it is still playing when the test presses the button again to stop it."
        for n in range(1, 6)
    )
    page, reply, sentences, asked = reply_to_play(open_page, fake_llm, text, "long_listener")
    assert len(sentences) == 5
    requests = watch_speak_requests(page)

    play = reply.get_by_role("button", name="Play this message aloud")
    with page.expect_request(lambda r: bool(SENTENCE_PATH.search(r.url))) as first:
        play.click()
    assert json.loads(first.value.post_data)["text"] == sentences[0]
    expect(play).to_have_attribute("aria-pressed", "true")
    expect_audio_plays(page)

    # ▶ again, while the first sentence plays: silence, and nothing after it.
    play.click()
    expect(play).to_have_attribute("aria-pressed", "false")
    page.wait_for_function("() => window.__answered === 2")
    page.wait_for_timeout(500)  # time enough for a third to be asked, were it to be
    audio = page.locator("[data-speech-audio]")
    assert audio.evaluate("a => a.paused && !a.ended")
    assert page.evaluate("window.__plays") == 1
    # Each sentence was asked for on its own, in order; the whole text never was.
    assert asked == sentences[:2]
    assert not any(SPEAK_PATH.search(url) for url in requests)


def test_a_reply_of_many_sentences_keeps_two_requests_open_at_most(open_page, espeak, fake_llm):
    """All of a reply is said, in order, with at most the sentence said and the next asked
    for at once: ElevenLabs refuses requests past a few at a time (429)."""
    text = " ".join(f"Short line {n}." for n in range(1, 8))
    page, reply, sentences, asked = reply_to_play(open_page, fake_llm, text, "many_sentences")
    assert len(sentences) == 7
    play = reply.get_by_role("button", name="Play this message aloud")
    play.click()
    expect(play).to_have_attribute("aria-pressed", "false", timeout=30000)  # said to the end
    assert asked == sentences
    assert page.evaluate("window.__plays") == len(sentences)
    assert page.evaluate("window.__mostOpen") == 2
