// Playing speech: audio from the server into an <audio> element, or the browser's own
// voice when the server has no speech engine. Used by the chat, the persona modal's voice
// section and the voices page.
import { errorText, readJson, requestOptions } from "./common.js";

export const NO_ENGINE_NOTE = "The server has no speech engine, so your browser’s voice is speaking.";

/** Say `text` with the browser's speech synthesis; false when the browser has none. */
export function speakInBrowser(text) {
  if (!("speechSynthesis" in window) || !text) return false;
  window.speechSynthesis.cancel();
  window.speechSynthesis.speak(new SpeechSynthesisUtterance(text));
  return true;
}

/** Whether the server said (in `data-speech-available` on `el`) it has a speech engine. */
export function serverCanSpeak(el) {
  return el?.dataset.speechAvailable !== "false";
}

function speakOrThrow(text) {
  if (!speakInBrowser(text)) throw new Error("No voice is available, neither on the server nor in this browser.");
  return "browser";
}

/**
 * Fetch audio from `url`: resolve to a Blob, or to null on a 503 (no engine on the
 * server: the caller speaks in the browser); throw on other errors.
 */
export async function fetchAudio(url, { method = "GET", body } = {}) {
  const response = await fetch(url, requestOptions({ method, body, accept: "audio/*, application/json" }));
  const type = response.headers.get("Content-Type") || "";
  if (response.status === 503 && type.includes("json")) return null;
  if (!response.ok || type.includes("json")) {
    throw new Error(errorText(await readJson(response), response.status));
  }
  return response.blob();
}

/** Play `blob` in `audio`; resolve once it has started. */
async function playBlob(audio, blob) {
  if (audio.dataset.objectUrl) URL.revokeObjectURL(audio.dataset.objectUrl);
  const objectUrl = URL.createObjectURL(blob);
  audio.dataset.objectUrl = objectUrl;
  audio.src = objectUrl;
  await audio.play();
}

/** Resolve when `audio` stops playing: at its end, paused, or failing. */
function untilSilent(audio) {
  return new Promise((resolve) => {
    const events = ["ended", "pause", "error"];
    const done = () => {
      events.forEach((name) => audio.removeEventListener(name, done));
      resolve();
    };
    events.forEach((name) => audio.addEventListener(name, done));
  });
}

/**
 * Fetch audio from `url` and play it in `audio`. A 503 (no engine on the server) speaks
 * `fallbackText` in the browser instead; with `server: false` (the page already knows the
 * server has no engine) it does so without asking. Resolve to "server" or "browser";
 * throw on errors.
 */
export async function playFrom(audio, url, { method = "GET", body, fallbackText = "", server = true } = {}) {
  if (!server) return speakOrThrow(fallbackText);
  const blob = await fetchAudio(url, { method, body });
  if (blob === null) return speakOrThrow(fallbackText);
  await playBlob(audio, blob);
  return "server";
}

/**
 * Speech that starts at the first sentence: sentences are added as they become known (the
 * `sentence` events of a streamed reply: the server splits, mybella/core/sentences.py) and
 * spoken in order, each as soon as the one before has ended. Each sentence's audio is
 * asked for from `url` (a POST of its text to `…/speak/sentence/`) while the one before
 * it (or AHEAD before it) is said, so it is ready when that one ends, and a reply of many
 * sentences never has more than AHEAD + 1 requests open at once (ElevenLabs' plans refuse
 * requests past a few at a time); without a server engine the browser's voice says them.
 *
 * `server()` says whether to ask the server; `onBrowser()` is called when the server turns
 * out to have no engine, `onError(message)` when a sentence can't be spoken,
 * `onIdle()` once everything added before `finish()` has been said, and `onStop()` when
 * `stop()` (or `startReply()`) silences it.
 */
// How many sentences after the one being said have their audio asked for already.
const AHEAD = 1;

export class SpeechQueue {
  #items = [];
  #running = false;
  #finished = true;
  #voices = 0; // utterances handed to the browser and not yet over
  #generation = 0;

  constructor(audio, url, { server, onBrowser, onError, onIdle, onStop } = {}) {
    this.audio = audio;
    this.url = url;
    this.server = server ?? (() => true);
    this.onBrowser = onBrowser;
    this.onError = onError;
    this.onIdle = onIdle;
    this.onStop = onStop;
  }

  /** Whether anything is being said or waits to be. */
  get busy() {
    return this.#running || this.#items.length > 0 || this.#voices > 0 || !this.#finished;
  }

  /** Speak `text` after everything added before it. */
  add(text) {
    if (!text) return;
    this.#items.push({ text, server: this.server(), audio: null });
    this.#finished = false;
    if (this.#running) this.#askAhead();
    else this.#run();
  }

  /** Ask the server for `item`'s audio, once. */
  #ask(item) {
    if (!item.server || item.audio) return;
    item.audio = fetchAudio(this.url, { method: "POST", body: { text: item.text } });
    item.audio.catch(() => {}); // reported when its turn comes
  }

  /** Ask for the audio of the AHEAD sentences after the one being said. */
  #askAhead() {
    this.#items.slice(0, AHEAD).forEach((item) => this.#ask(item));
  }

  /** Silence anything else and start a reply whose sentences arrive one by one (`add`). */
  startReply() {
    this.stop();
    this.#finished = false;
  }

  /** Nothing more will be added: `onIdle` follows the last sentence. */
  finish() {
    this.#finished = true;
    this.#idleCheck();
  }

  /** Silence it all now and forget what waits. */
  stop() {
    this.#generation += 1;
    this.#items = [];
    this.#running = false;
    this.#finished = true;
    this.#voices = 0;
    this.audio.pause();
    window.speechSynthesis?.cancel();
    this.onStop?.();
  }

  #idleCheck() {
    if (this.#finished && !this.#running && !this.#items.length && !this.#voices) this.onIdle?.();
  }

  #sayInBrowser(text) {
    if (!("speechSynthesis" in window)) throw new Error("No voice is available, neither on the server nor in this browser.");
    const utterance = new SpeechSynthesisUtterance(text);
    const generation = this.#generation;
    const over = () => {
      if (generation !== this.#generation) return;
      this.#voices -= 1;
      this.#idleCheck();
    };
    utterance.addEventListener("end", over);
    utterance.addEventListener("error", over);
    this.#voices += 1;
    window.speechSynthesis.speak(utterance); // the browser queues utterances in order
  }

  async #run() {
    const generation = this.#generation;
    this.#running = true;
    while (this.#items.length && generation === this.#generation) {
      const item = this.#items.shift();
      this.#ask(item);
      this.#askAhead();
      const { text, audio } = item;
      try {
        const blob = audio ? await audio : null;
        if (generation !== this.#generation) return;
        if (blob) {
          const silent = untilSilent(this.audio);
          await playBlob(this.audio, blob);
          await silent;
        } else {
          if (audio) this.onBrowser?.();
          this.#sayInBrowser(text);
        }
      } catch (error) {
        if (generation !== this.#generation) return;
        this.onError?.(error.message);
      }
    }
    if (generation !== this.#generation) return;
    this.#running = false;
    this.#idleCheck();
  }
}

/**
 * Make every `[data-play-url]` button inside `root` play into `audio`. Buttons marked
 * `data-needs-engine` speak their fallback text in the browser when `root` carries
 * `data-speech-available="false"`.
 */
export function setUpPlayButtons(root, audio, onError) {
  root.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-play-url]");
    if (!button) return;
    button.setAttribute("aria-busy", "true");
    try {
      await playFrom(audio, button.dataset.playUrl, {
        fallbackText: button.dataset.fallbackText || "",
        server: !("needsEngine" in button.dataset) || serverCanSpeak(root),
      });
    } catch (error) {
      onError?.(error.message, button);
    } finally {
      button.removeAttribute("aria-busy");
    }
  });
}
