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
 * Fetch audio from `url` and play it in `audio`. A 503 (no engine on the server) speaks
 * `fallbackText` in the browser instead; with `server: false` (the page already knows the
 * server has no engine) it does so without asking. Resolve to "server" or "browser";
 * throw on errors.
 */
export async function playFrom(audio, url, { method = "GET", body, fallbackText = "", server = true } = {}) {
  if (!server) return speakOrThrow(fallbackText);
  const response = await fetch(url, requestOptions({ method, body, accept: "audio/*, application/json" }));
  const type = response.headers.get("Content-Type") || "";
  if (response.status === 503 && type.includes("json")) return speakOrThrow(fallbackText);
  if (!response.ok || type.includes("json")) {
    throw new Error(errorText(await readJson(response), response.status));
  }
  const blob = await response.blob();
  if (audio.dataset.objectUrl) URL.revokeObjectURL(audio.dataset.objectUrl);
  const objectUrl = URL.createObjectURL(blob);
  audio.dataset.objectUrl = objectUrl;
  audio.src = objectUrl;
  await audio.play();
  return "server";
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
