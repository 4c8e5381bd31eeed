// The chat page: send with a streamed reply, retry failed replies, scroll back through
// older messages, start a new conversation and switch personas; play replies aloud.
import {
  announce,
  cloneTemplate,
  element,
  errorText,
  fetchJson,
  pageLimit,
  readEvents,
  readJson,
  requestOptions,
  samePath,
  withId,
} from "./common.js";
import { playFrom, playIcon, serverCanSpeak } from "./speech.js";

const root = document.querySelector("[data-chat]");
const scroller = root.querySelector("[data-scroll]");
const log = root.querySelector("[data-log]");
const intro = root.querySelector("[data-intro]");
const introHint = root.querySelector("[data-intro-hint]");
const older = root.querySelector("[data-older]");
const olderText = older.querySelector("[data-older-text]");
const form = root.querySelector("[data-composer]");
const input = form.querySelector("textarea");
const sendButton = form.querySelector("[data-send]");
const composerError = form.querySelector("[data-composer-error]");
const newButton = root.querySelector("[data-new-conversation]");
const switcher = root.querySelector("[data-switcher]");
const announcer = root.querySelector("[data-announce]");
const personaName = root.dataset.personaName;
const speechAudio = root.querySelector("[data-speech-audio]");
const speakToggle = root.querySelector("[data-speak-toggle]");
const SPEAK_KEY = "mybella.speakReplies";
// The server's limit on speech text, as the page states it.
const SPEECH_MAX_CHARS = pageLimit(root, "speechMaxChars");

const state = {
  persona: Number(root.dataset.persona),
  conversation: root.dataset.conversation ? Number(root.dataset.conversation) : null,
  olderUrl: root.dataset.olderUrl || null,
  loadingOlder: false,
  busy: false,
};

const OFFLINE = "You seem to be offline. Check your connection and try again.";
const DROPPED = "The connection dropped before the reply finished. Reload the page to see it.";
const WRITING = "This reply is still being written. Reload to see it.";

// ---------------------------------------------------------------- time stamps

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayAndTime = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
});
const fullDate = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

function showTime(time) {
  const date = new Date(time.dateTime);
  if (Number.isNaN(date.getTime())) return;
  const today = date.toDateString() === new Date().toDateString();
  time.textContent = (today ? timeOnly : dayAndTime).format(date);
  time.title = fullDate.format(date);
}

function setTime(item, iso) {
  let time = item.querySelector("time");
  if (!time) {
    time = element("time");
    item.querySelector(".msg-meta").append(time);
  }
  time.dateTime = iso;
  showTime(time);
}

// ---------------------------------------------------------------- messages

function buildMessage({ id, role, content = "", status = "ok", error = "", created_at: createdAt }) {
  const item = element("li", `msg msg-${role}`);
  if (id) item.dataset.id = id;
  if (role === "assistant") {
    const avatar = element("span", "msg-avatar");
    avatar.setAttribute("aria-hidden", "true");
    avatar.append(cloneTemplate("chat-avatar"));
    item.append(avatar);
  }
  const body = element("div", "msg-body");
  const who = role === "user" ? "You" : role === "assistant" ? personaName : "Note";
  body.append(
    element("span", "visually-hidden", `${who}:`),
    element("div", "bubble", content),
    element("div", "msg-meta"),
  );
  item.append(body);
  if (createdAt) setTime(item, createdAt);
  if (status === "pending") {
    // Only the server knows whether its writer is still at it: a reload shows which.
    showFailed(item, WRITING, null, { reload: true });
    item.classList.replace("msg-failed", "msg-pending");
  } else if (status !== "ok") {
    // Failed, or stopped when the stream broke off: what was written stays, with Retry.
    showFailed(item, error, role === "assistant" ? id : null);
  } else if (role === "assistant" && content) addSpeakButton(item);
  return item;
}

function showTyping(item) {
  const bubble = item.querySelector(".bubble");
  const typing = element("span", "typing");
  typing.append(
    element("span", "typing-dot"),
    element("span", "typing-dot"),
    element("span", "typing-dot"),
    element("span", "visually-hidden", `${personaName} is typing…`),
  );
  bubble.replaceChildren(typing);
  item.classList.add("is-typing");
}

function appendText(item, text) {
  const bubble = item.querySelector(".bubble");
  if (item.classList.contains("is-typing")) {
    item.classList.remove("is-typing");
    bubble.replaceChildren();
  }
  bubble.append(text);
}

function showFailed(item, reason, replyId, { reload = false } = {}) {
  if (item.classList.contains("is-typing")) {
    item.classList.remove("is-typing");
    item.querySelector(".bubble").replaceChildren();
  }
  item.classList.add("msg-failed");
  item.querySelector(".msg-error")?.remove();
  const box = element("div", "msg-error");
  box.append(element("span", "msg-error-text", reason || "The reply didn’t come through."));
  if (replyId) {
    const retry = element("button", "button button-small msg-retry", "Retry");
    retry.type = "button";
    retry.dataset.retry = replyId;
    box.append(retry);
  } else if (reload) {
    const again = element("button", "button button-small msg-retry", "Reload");
    again.type = "button";
    again.dataset.reload = "";
    box.append(again);
  }
  item.querySelector(".msg-body").append(box);
}

// ---------------------------------------------------------------- speech

function addSpeakButton(item) {
  const meta = item.querySelector(".msg-meta");
  if (!meta || meta.querySelector("[data-speak]")) return;
  const button = element("button", "msg-speak");
  button.type = "button";
  button.dataset.speak = "";
  button.title = "Play aloud";
  button.setAttribute("aria-label", "Play this message aloud");
  button.append(playIcon("icon"));
  meta.append(button);
}

async function speak(item) {
  const text = item.querySelector(".bubble").textContent.trim().slice(0, SPEECH_MAX_CHARS);
  if (!text) return;
  const button = item.querySelector("[data-speak]");
  log.querySelectorAll(".msg-speak.is-playing").forEach((b) => b.classList.remove("is-playing"));
  button?.classList.add("is-playing");
  button?.setAttribute("aria-busy", "true");
  try {
    const server = serverCanSpeak(root);
    const how = await playFrom(speechAudio, root.dataset.speakUrl, {
      method: "POST",
      body: { text },
      fallbackText: text,
      server,
    });
    if (how === "browser") {
      // The server lost its engine since the page loaded: stop asking it.
      if (server) root.dataset.speechAvailable = "false";
      announce(announcer, "Speaking with your browser’s voice.");
    }
  } catch (error) {
    button?.classList.remove("is-playing");
    announce(announcer, `Couldn’t play the message: ${error.message}`);
  } finally {
    button?.removeAttribute("aria-busy");
  }
}

speechAudio.addEventListener("ended", () => {
  log.querySelectorAll(".msg-speak.is-playing").forEach((b) => b.classList.remove("is-playing"));
});

function speakReplies() {
  try {
    return window.localStorage.getItem(SPEAK_KEY) === "on";
  } catch {
    return false; // storage blocked: the toggle still works for this page
  }
}

function setSpeakReplies(on) {
  speakToggle.setAttribute("aria-pressed", String(on));
  try {
    window.localStorage.setItem(SPEAK_KEY, on ? "on" : "off");
  } catch {
    // storage blocked: remembered for this page only
  }
}

speakToggle.addEventListener("click", () => {
  const on = speakToggle.getAttribute("aria-pressed") !== "true";
  setSpeakReplies(on);
  if (!on) {
    speechAudio.pause();
    window.speechSynthesis?.cancel();
  }
  announce(announcer, on ? "Replies will be read aloud." : "Replies won’t be read aloud.");
});
speakToggle.setAttribute("aria-pressed", String(speakReplies()));

// ---------------------------------------------------------------- scrolling

function nearBottom() {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
}

function scrollToBottom() {
  scroller.scrollTop = scroller.scrollHeight;
}

function updateOlder() {
  older.hidden = !state.olderUrl;
  intro.hidden = Boolean(state.olderUrl);
}

const observer = new IntersectionObserver(
  (entries) => {
    if (entries.some((entry) => entry.isIntersecting)) loadOlder();
  },
  { root: scroller, rootMargin: "150px 0px 0px 0px" },
);

function watchTop() {
  // Observing again reports the current state, so a top still in view loads the next page.
  observer.unobserve(older);
  if (state.olderUrl) observer.observe(older);
}

async function loadOlder() {
  if (!state.olderUrl || state.loadingOlder) return;
  state.loadingOlder = true;
  older.classList.remove("is-error");
  olderText.textContent = "Loading earlier messages…";
  older.querySelector("button")?.remove();
  const url = state.olderUrl;
  let failed = false;
  try {
    const { ok, status, data } = await fetchJson(url);
    if (!ok || !Array.isArray(data?.results)) throw new Error(`HTTP ${status}`);
    if (state.olderUrl !== url) return; // a new conversation replaced the log meanwhile
    const fresh = data.results.filter((m) => !log.querySelector(`[data-id="${m.id}"]`));
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    log.setAttribute("aria-busy", "true");
    log.prepend(...fresh.map(buildMessage));
    state.olderUrl = data.next ? samePath(data.next) : null;
    updateOlder();
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
    log.setAttribute("aria-busy", String(state.busy));
    if (fresh.length) announce(announcer, `Loaded ${fresh.length} earlier messages.`);
  } catch {
    failed = true;
    older.classList.add("is-error");
    olderText.textContent = "Couldn’t load earlier messages.";
    const again = element("button", "button button-small button-ghost", "Try again");
    again.type = "button";
    again.addEventListener("click", () => loadOlder());
    older.append(again);
  } finally {
    state.loadingOlder = false;
    if (!failed) watchTop();
  }
}

// ---------------------------------------------------------------- sending

function setBusy(busy) {
  state.busy = busy;
  sendButton.disabled = busy;
  newButton.disabled = busy;
  log.setAttribute("aria-busy", String(busy));
}

function showComposerError(text) {
  composerError.textContent = text;
  composerError.hidden = !text;
}

function notSent(userItem, replyItem, reason, text) {
  userItem.remove();
  replyItem.remove();
  if (!input.value.trim()) {
    input.value = text;
    autosize();
  }
  showComposerError(`Not sent: ${reason}`);
  input.focus();
}

async function send(text) {
  setBusy(true);
  showComposerError("");
  const now = new Date().toISOString();
  const userItem = buildMessage({ role: "user", content: text, created_at: now });
  userItem.classList.add("msg-pending");
  const replyItem = buildMessage({ role: "assistant" });
  showTyping(replyItem);
  log.append(userItem, replyItem);
  scrollToBottom();

  const payload = { message: text, persona: state.persona };
  if (state.conversation) payload.conversation = state.conversation;
  let saved = false;
  let finished = false;
  try {
    const response = await fetch(
      root.dataset.sendUrl,
      requestOptions({ method: "POST", body: payload, accept: "text/event-stream" }),
    );
    const type = response.headers.get("Content-Type") || "";
    if (!type.includes("text/event-stream") || !response.body) {
      const data = await readJson(response);
      finished = true;
      notSent(userItem, replyItem, errorText(data, response.status), text);
      return;
    }
    for await (const { event, data } of readEvents(response)) {
      if (event === "message" && data) {
        saved = true;
        userItem.dataset.id = data.id;
        // The reply is saved (pending) from the start: it has its id before its words.
        if (data.assistant_message_id) replyItem.dataset.id = data.assistant_message_id;
        userItem.classList.remove("msg-pending");
        setTime(userItem, data.created_at);
        if (data.conversation) state.conversation = data.conversation;
        // The greeting shown before the first message is now saved just before it.
        const preview = log.querySelector("[data-preview]");
        if (preview) {
          preview.removeAttribute("data-preview");
          preview.querySelector(".msg-body").append(element("div", "msg-meta"));
          setTime(preview, data.created_at);
        }
        introHint.textContent = "This is the start of your conversation.";
      } else if (event === "delta" && data) {
        const stick = nearBottom();
        appendText(replyItem, data.text);
        if (stick) scrollToBottom();
      } else if (event === "done" && data) {
        finished = true;
        replyItem.dataset.id = data.assistant_message_id;
        setTime(replyItem, new Date().toISOString());
        state.conversation = data.conversation_id;
        addSpeakButton(replyItem);
        if (speakToggle.getAttribute("aria-pressed") === "true") speak(replyItem);
      } else if (event === "error") {
        finished = true;
        if (saved || data?.user_message_id) {
          setTime(replyItem, new Date().toISOString());
          if (data?.assistant_message_id) replyItem.dataset.id = data.assistant_message_id;
          showFailed(replyItem, errorText(data, response.status), data?.assistant_message_id);
        } else {
          notSent(userItem, replyItem, errorText(data, response.status), text);
        }
      }
    }
    if (!finished) {
      if (saved) showFailed(replyItem, DROPPED, null, { reload: true });
      else notSent(userItem, replyItem, OFFLINE, text);
    }
  } catch {
    if (saved) showFailed(replyItem, DROPPED, null, { reload: true });
    else notSent(userItem, replyItem, OFFLINE, text);
  } finally {
    setBusy(false);
    if (nearBottom()) scrollToBottom();
  }
}

async function retry(button) {
  const item = button.closest(".msg");
  const id = button.dataset.retry;
  button.disabled = true;
  button.textContent = "Retrying…";
  item.setAttribute("aria-busy", "true");
  try {
    const { ok, status, data } = await fetchJson(withId(root.dataset.retryUrl, id), { method: "POST" });
    const reply = data?.assistant_message;
    if (ok && reply) {
      const stick = nearBottom();
      item.replaceWith(buildMessage(reply));
      if (stick) scrollToBottom();
      input.focus();
    } else {
      showFailed(item, errorText(data, status), reply?.id || id);
      item.querySelector("[data-retry]")?.focus();
    }
  } catch {
    showFailed(item, OFFLINE, id);
    item.querySelector("[data-retry]")?.focus();
  } finally {
    item.removeAttribute("aria-busy");
  }
}

async function startConversation() {
  if (state.busy) return;
  setBusy(true);
  showComposerError("");
  try {
    const started = await fetchJson(root.dataset.conversationsUrl, { method: "POST", body: {} });
    const conversation = started.data;
    if (!started.ok || !conversation?.id) {
      showComposerError(`Couldn’t start a new conversation: ${errorText(conversation, started.status)}`);
      return;
    }
    const first = await fetchJson(withId(root.dataset.messagesUrl, conversation.id));
    const page = first.ok ? first.data : null;
    state.conversation = conversation.id;
    state.olderUrl = page?.next ? samePath(page.next) : null;
    log.replaceChildren(...(page?.results || []).map(buildMessage));
    introHint.textContent = "This is the start of your conversation.";
    updateOlder();
    watchTop();
    scroller.scrollTop = 0;
    announce(announcer, `You started a new conversation with ${personaName}.`);
    input.focus();
  } catch {
    showComposerError(`Couldn’t start a new conversation. ${OFFLINE}`);
  } finally {
    setBusy(false);
  }
}

// ---------------------------------------------------------------- composer

function autosize() {
  // Grow with the text; the stylesheet's max-height caps it.
  input.style.height = "auto";
  input.style.height = `${input.scrollHeight + 2}px`;
}

input.addEventListener("input", () => {
  autosize();
  if (!composerError.hidden && input.value.trim()) showComposerError("");
});

input.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  form.requestSubmit();
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (state.busy) return;
  const text = input.value.trim();
  if (!text) {
    input.focus();
    return;
  }
  input.value = "";
  autosize();
  send(text);
});

log.addEventListener("click", (event) => {
  const speakButton = event.target.closest("[data-speak]");
  if (speakButton) {
    speak(speakButton.closest(".msg"));
    return;
  }
  const retryButton = event.target.closest("[data-retry]");
  if (retryButton && !retryButton.disabled) retry(retryButton);
  else if (event.target.closest("[data-reload]")) window.location.reload();
});

newButton.addEventListener("click", startConversation);

// ---------------------------------------------------------------- switcher

function closeSwitcher({ focus = false } = {}) {
  if (!switcher.open) return;
  switcher.open = false;
  if (focus) switcher.querySelector("summary").focus();
}

switcher.addEventListener("toggle", () => {
  if (switcher.open) switcher.querySelector('[aria-current="true"], .switcher-item')?.focus();
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && switcher.open) closeSwitcher({ focus: true });
});

document.addEventListener("click", (event) => {
  if (switcher.open && !switcher.contains(event.target)) closeSwitcher();
});

// ---------------------------------------------------------------- start

root.querySelectorAll("time").forEach(showTime);
scrollToBottom();
updateOlder();
watchTop();
if (window.matchMedia("(pointer: fine)").matches) input.focus({ preventScroll: true });
