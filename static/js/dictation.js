// Talk by voice on the chat page: the microphone button dictates a message with the
// browser's speech recognition (the Web Speech API); hands-free, what is heard is sent and
// the page listens again once the persona has finished speaking its reply. A browser
// without recognition gets an explanation instead.

export const UNSUPPORTED =
  "This browser can’t take dictation: it has no speech recognition. Chrome, Edge and Safari have it; here, type your message.";

// What a recognition that fails says; a browser may have the API and still refuse to
// listen (headless Chromium answers "not-allowed" at once).
const REFUSED =
  "Dictation isn’t available here: the browser refused the microphone or has no speech service. Allow the microphone for this site, or type your message.";
const ERRORS = {
  "not-allowed": REFUSED,
  "service-not-allowed": REFUSED,
  "audio-capture": "No microphone was found. Type your message instead.",
  network: "Dictation needs your browser’s online speech service, which didn’t answer. Type your message instead.",
  "no-speech": "Nothing was heard. Press the microphone and speak.",
};

/**
 * Wire the `[data-mic]` and `[data-handsfree]` buttons and the `[data-mic-note]` of `form`
 * to fill `input`. `speaking()` says whether replies are read aloud; `send()` sends the
 * message. Return `{ replySpoken }`, to call when a reply has been spoken.
 */
export function setUpDictation(form, input, { announce, speaking, send }) {
  const micButton = form.querySelector("[data-mic]");
  const handsFreeButton = form.querySelector("[data-handsfree]");
  const note = form.querySelector("[data-mic-note]");
  const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;

  function explain(text) {
    note.textContent = text;
    note.hidden = !text;
  }

  if (!Recognition) {
    micButton.dataset.unsupported = "";
    micButton.title = UNSUPPORTED;
    micButton.addEventListener("click", () => explain(UNSUPPORTED));
    return { replySpoken() {} };
  }

  let recognition = null;
  let handsFree = false;
  handsFreeButton.hidden = false;

  function setHandsFree(on) {
    handsFree = on;
    handsFreeButton.setAttribute("aria-pressed", String(on));
  }

  function listen() {
    if (recognition) return;
    const before = input.value.trim();
    let heard = false;
    recognition = new Recognition();
    recognition.lang = document.documentElement.lang || "en";
    recognition.interimResults = true;
    recognition.addEventListener("result", (event) => {
      const said = Array.from(event.results, (result) => result[0].transcript).join("").trim();
      input.value = [before, said].filter(Boolean).join(" ");
      input.dispatchEvent(new Event("input", { bubbles: true }));
      heard = event.results[event.results.length - 1].isFinal;
    });
    recognition.addEventListener("error", (event) => {
      if (event.error === "aborted") return;
      explain(ERRORS[event.error] || `Dictation stopped (${event.error}).`);
      if (event.error !== "no-speech") setHandsFree(false);
    });
    recognition.addEventListener("end", () => {
      recognition = null;
      micButton.setAttribute("aria-pressed", "false");
      if (heard && handsFree && input.value.trim()) send();
    });
    recognition.start();
    micButton.setAttribute("aria-pressed", "true");
    explain("");
  }

  micButton.addEventListener("click", () => {
    if (recognition) recognition.stop();
    else listen();
  });
  handsFreeButton.addEventListener("click", () => {
    setHandsFree(!handsFree);
    if (!handsFree) {
      recognition?.abort();
      announce("Hands-free is off.");
      return;
    }
    announce(
      speaking()
        ? "Hands-free: speak, and what you say is sent. I listen again after each reply."
        : "Hands-free: speak, and what you say is sent. Turn on Speak replies to have me listen again after each reply.",
    );
    listen();
  });

  return {
    replySpoken() {
      if (handsFree && speaking()) listen();
    },
  };
}
