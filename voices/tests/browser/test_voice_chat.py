"""Speech that starts at the first sentence, and talking by voice, in a real browser.

The fake model holds its stream once the first sentence is complete and the second has
begun: speech of the first sentence must start while the reply is still streaming.
"""

import json
import re

import pytest
from playwright.sync_api import Page, expect

from chat.tests.browser.steps import expect_reply_done, open_chat, send
from mybella.core.sentences import split_sentences
from mybella.tests.browser.steps import sign_up
from voices.tests.audio_files import require_tool

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]

# Each sentence of a streamed reply, as its `sentence` event tells it, is asked for here.
SPEAK_PATH = re.compile(r"/api/v1/personas/\d+/speak/sentence/$")
ANY_SPEAK_PATH = re.compile(r"/api/v1/personas/\d+/speak/")
REPLY = "Hello there, my friend. This is the second sentence. And here comes a third one!"
FIRST_SENTENCE_AND_A_WORD = 5  # "Hello " "there, " "my " "friend. " "This "

# Record, in page time, each start of speech (the <audio> element's play() or the
# browser's speechSynthesis.speak, which says nothing here) and whether the reply was still
# streaming then (Stop shown), and when the stream ended (Stop hidden again).
RECORD = """
window.__starts = [];
window.__spoken = [];
window.__cancelled = 0;
window.__streamEnded = null;
const streaming = () => Boolean(document.querySelector("[data-stop]:not([hidden])"));
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  window.__starts.push({ at: performance.now(), streaming: streaming() });
  return play.call(this);
};
if (window.speechSynthesis) {
  window.speechSynthesis.speak = (utterance) => {
    window.__starts.push({ at: performance.now(), streaming: streaming() });
    window.__spoken.push(utterance.text);
  };
  window.speechSynthesis.cancel = () => { window.__cancelled += 1; };
}
document.addEventListener("DOMContentLoaded", () => {
  const stop = document.querySelector("[data-stop]");
  if (!stop) return;
  new MutationObserver(() => {
    if (stop.hidden && window.__starts.length) window.__streamEnded = performance.now();
  }).observe(stop, { attributes: true, attributeFilter: ["hidden"] });
});
"""


@pytest.fixture
def slow_model(fake_llm, settings):
    settings.LLM_TIMEOUT = 30  # the stream waits for the test while it is held
    fake_llm.reply_text = REPLY
    fake_llm.hold_stream_after(FIRST_SENTENCE_AND_A_WORD, then_pace=0.2)
    return fake_llm


def chat_with_speech_on(page: Page, name: str) -> None:
    page.add_init_script(RECORD)
    sign_up(page, name)
    open_chat(page)
    page.get_by_role("button", name="Speak replies").click()
    expect(page.get_by_role("button", name="Speak replies")).to_have_attribute(
        "aria-pressed", "true"
    )


def test_speech_starts_at_the_first_sentence_while_the_reply_streams(
    open_page, slow_model, settings, screenshot
):
    require_tool("espeak-ng")
    settings.SPEECH_ENGINE = "espeak"
    page = open_page("/users/signup/")
    asked: list[str] = []
    page.on(
        "request",
        lambda r: SPEAK_PATH.search(r.url) and asked.append(json.loads(r.post_data)["text"]),
    )
    chat_with_speech_on(page, "early_listener")
    reply = send(page, "Talk to me")

    # The stream is held after the first sentence: its speech starts all the same.
    page.wait_for_function("() => window.__starts.length > 0", timeout=15000)
    assert slow_model.held.is_set()
    assert asked == ["Hello there, my friend."]
    screenshot(page, "voice-chat-first-sentence-desktop")
    slow_model.resume()
    expect_reply_done(page, reply)

    # Every sentence is spoken, in order, one after the other.
    page.wait_for_function("() => window.__starts.length === 3", timeout=30000)
    assert asked == split_sentences(REPLY)
    starts = page.evaluate("window.__starts")
    ended = page.evaluate("window.__streamEnded")
    assert starts[0]["streaming"] is True
    assert starts[0]["at"] < ended, (starts, ended)


def test_the_browsers_voice_speaks_sentence_by_sentence_and_stop_silences_it(
    open_page, slow_model, settings
):
    settings.SPEECH_ENGINE = "none"
    page = open_page("/users/signup/")
    asked: list[str] = []
    page.on("request", lambda r: ANY_SPEAK_PATH.search(r.url) and asked.append(r.url))
    chat_with_speech_on(page, "browser_listener")
    send(page, "Talk to me")

    page.wait_for_function("() => window.__spoken.length > 0", timeout=15000)
    assert page.evaluate("window.__spoken") == ["Hello there, my friend."]
    assert page.evaluate("window.__starts[0].streaming") is True
    cancelled = page.evaluate("window.__cancelled")
    page.get_by_role("button", name="Stop").click()
    slow_model.resume()
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    assert page.evaluate("window.__cancelled") > cancelled
    page.wait_for_timeout(500)
    assert page.evaluate("window.__spoken") == ["Hello there, my friend."]
    assert asked == []


def test_a_whole_reply_is_spoken_in_order_in_the_browsers_voice(open_page, fake_llm, settings):
    settings.SPEECH_ENGINE = "none"
    fake_llm.reply_text = REPLY
    page = open_page("/users/signup/")
    chat_with_speech_on(page, "ordered_listener")
    expect_reply_done(page, send(page, "Talk to me"))
    page.wait_for_function("() => window.__spoken.length === 3")
    assert page.evaluate("window.__spoken") == split_sentences(REPLY)


def test_a_regenerated_reply_is_spoken_too(open_page, fake_llm, settings):
    settings.SPEECH_ENGINE = "none"
    fake_llm.reply_text = REPLY
    page = open_page("/users/signup/")
    chat_with_speech_on(page, "regenerating_listener")
    reply = send(page, "Talk to me")
    expect_reply_done(page, reply)
    page.wait_for_function("() => window.__spoken.length === 3")

    fake_llm.reply_text = "A new reply. It is spoken as well."
    reply.get_by_role("button", name="Regenerate this reply").click()
    expect(reply.locator("[data-swipe-count]")).to_have_text("2/2")
    page.wait_for_function("() => window.__spoken.length === 5")
    assert page.evaluate("window.__spoken.slice(3)") == ["A new reply.", "It is spoken as well."]


NO_RECOGNITION = "delete window.SpeechRecognition; delete window.webkitSpeechRecognition;"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_microphone_explains_a_browser_without_recognition(open_page, screenshot, viewport):
    """A browser without the Web Speech API's recognition (Firefox, say): it says so."""
    page = open_page("/users/signup/", viewport=viewport)
    page.add_init_script(NO_RECOGNITION)
    sign_up(page, f"mic_{viewport}")
    open_chat(page)
    assert page.evaluate("!('SpeechRecognition' in window || 'webkitSpeechRecognition' in window)")
    mic = page.get_by_role("button", name="Dictate a message")
    expect(mic).to_be_visible()
    expect(page.get_by_role("button", name="Hands-free")).to_be_hidden()
    mic.click()
    note = page.locator("[data-mic-note]")
    expect(note).to_be_visible()
    expect(note).to_have_text(re.compile("^This browser can’t take dictation"))
    expect(mic).to_have_accessible_description(re.compile("can’t take dictation"))
    expect(mic).to_have_attribute("aria-pressed", "false")
    screenshot(page, f"voice-chat-no-recognition-{viewport}")


def test_headless_chromiums_refusing_recognition_is_explained(open_page, screenshot):
    """Headless Chromium has the API but refuses to listen ("not-allowed"): it says so."""
    page = open_page("/users/signup/")
    sign_up(page, "mic_refused")
    open_chat(page)
    mic = page.get_by_role("button", name="Dictate a message")
    mic.click()
    note = page.locator("[data-mic-note]")
    expect(note).to_have_text(re.compile("^Dictation isn’t available here"))
    expect(mic).to_have_attribute("aria-pressed", "false")
    hands_free = page.get_by_role("button", name="Hands-free")
    hands_free.click()
    expect(note).to_have_text(re.compile("^Dictation isn’t available here"))
    expect(hands_free).to_have_attribute("aria-pressed", "false")
    screenshot(page, "voice-chat-recognition-refused-desktop")


# A recognizer that hears one line each time it is started, and a voice whose utterances end
# at once: the browser parts a headless Chromium cannot provide (its recognition refuses).
HEARING = """
window.__listens = 0;
window.__heard = [];
class HeardRecognition extends EventTarget {
  start() {
    window.__listens += 1;
    const text = window.__heard.shift();
    setTimeout(() => {
      if (text) {
        const result = Object.assign([{ transcript: text }], { isFinal: true });
        this.dispatchEvent(Object.assign(new Event("result"), { results: [result] }));
      } else {
        this.dispatchEvent(Object.assign(new Event("error"), { error: "no-speech" }));
      }
      this.dispatchEvent(new Event("end"));
    }, 50);
  }
  stop() {}
  abort() {}
}
window.SpeechRecognition = HeardRecognition;
window.webkitSpeechRecognition = HeardRecognition;
window.__said = [];
window.speechSynthesis.speak = (utterance) => {
  window.__said.push(utterance.text);
  setTimeout(() => utterance.dispatchEvent(new Event("end")), 50);
};
window.speechSynthesis.cancel = () => {};
"""


def test_hands_free_sends_what_it_hears_and_listens_again_after_the_reply(
    open_page, fake_llm, settings
):
    settings.SPEECH_ENGINE = "none"
    fake_llm.reply_text = "Nice to hear you. Tell me more."
    page = open_page("/users/signup/")
    page.add_init_script(HEARING)
    sign_up(page, "hands_free")
    open_chat(page)
    page.get_by_role("button", name="Speak replies").click()
    page.evaluate("window.__heard.push('Hello by voice')")
    hands_free = page.get_by_role("button", name="Hands-free")
    hands_free.click()
    expect(hands_free).to_have_attribute("aria-pressed", "true")

    # What was heard is sent; the reply is spoken; then the page listens again.
    expect(page.locator(".msg-user .bubble").last).to_have_text("Hello by voice")
    page.wait_for_function("() => window.__listens === 2", timeout=15000)
    assert page.evaluate("window.__said") == ["Nice to hear you.", "Tell me more."]
    expect(page.locator("[data-mic-note]")).to_have_text(re.compile("^Nothing was heard"))
    hands_free.click()
    expect(hands_free).to_have_attribute("aria-pressed", "false")
