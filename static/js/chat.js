// The chat page: send with a streamed reply (and stop it), retry failed replies,
// regenerate the last reply and swipe between its alternatives, edit, delete and copy
// messages, scroll back through older messages, start a new conversation and switch
// personas; play replies aloud. Every row comes rendered from the server.
import {
  announce,
  cloneTemplate,
  errorText,
  fetchJson,
  fragmentFrom,
  readEvents,
  readJson,
  requestOptions,
  samePath,
  withId,
} from "./common.js";
import { setUpDictation } from "./dictation.js";
import { SpeechQueue, serverCanSpeak } from "./speech.js";

const root = document.querySelector("[data-chat]");
const scroller = root.querySelector("[data-scroll]");
const log = root.querySelector("[data-log]");
const intro = root.querySelector("[data-intro]");
const introHint = root.querySelector("[data-intro-hint]");
const older = root.querySelector("[data-older]");
const olderText = older.querySelector("[data-older-text]");
const olderAgain = older.querySelector("[data-older-again]");
const form = root.querySelector("[data-composer]");
const input = form.querySelector("textarea");
const sendButton = form.querySelector("[data-send]");
const stopButton = form.querySelector("[data-stop]");
const deleteDialog = document.getElementById("msg-delete-modal");
const composerError = form.querySelector("[data-composer-error]");
const newButton = root.querySelector("[data-new-conversation]");
const switcher = root.querySelector("[data-switcher]");
const announcer = root.querySelector("[data-announce]");
const personaName = root.dataset.personaName;
const speechAudio = root.querySelector("[data-speech-audio]");
const speakToggle = root.querySelector("[data-speak-toggle]");
const SPEAK_KEY = "mybella.speakReplies";

const state = {
  persona: Number(root.dataset.persona),
  conversation: root.dataset.conversation ? Number(root.dataset.conversation) : null,
  olderUrl: root.dataset.olderUrl || null,
  loadingOlder: false,
  busy: false,
  // Aborts the reply being streamed (the Stop button); null when none is.
  streaming: null,
  // The row the delete dialog asks about.
  deleting: null,
};

const OFFLINE = "You seem to be offline. Check your connection and try again.";

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
  const time = item.querySelector("time");
  time.dateTime = iso;
  showTime(time);
}

// ---------------------------------------------------------------- messages
// The server renders every message (templates/chat/_message.html): the page holds the
// placeholders shown while one is sent, and the finished rows are fetched from it.

/** Fetch message rows from the page's partial endpoints: {ok, status, rows, text, response}. */
async function fetchRows(url, { method = "GET" } = {}) {
  const response = await fetch(url, requestOptions({ method, accept: "text/html" }));
  const text = await response.text();
  const rows = response.ok ? [...fragmentFrom(text).children] : [];
  rows.forEach((row) => row.querySelectorAll("time").forEach(showTime));
  return { ok: response.ok, status: response.status, rows, text, response };
}

/** Swap the items shown while streaming for the server's rows of the same messages. */
async function swapForRows(items) {
  const ids = items.map((item) => item.dataset.id).filter(Boolean);
  if (!ids.length) return items;
  try {
    const url = `${root.dataset.rowsUrl}?ids=${ids.join(",")}`;
    const { ok, rows } = await fetchRows(url);
    if (!ok) return items;
    return items.map((item) => {
      const row = rows.find((r) => r.dataset.id === item.dataset.id);
      if (!row || !item.isConnected) return item;
      item.replaceWith(row);
      return row;
    });
  } catch {
    return items; // offline: what was streamed stays as it is
  }
}

function appendText(item, text) {
  const bubble = item.querySelector(".bubble");
  if (item.classList.contains("is-typing")) {
    item.classList.remove("is-typing");
    bubble.replaceChildren();
  }
  bubble.append(text);
}

/** Show the placeholder's hidden "reload to see it" box, with `reason` if given. */
function showDropped(item, reason) {
  if (item.classList.contains("is-typing")) {
    item.classList.remove("is-typing");
    item.querySelector(".bubble").replaceChildren();
  }
  item.classList.add("msg-failed");
  const box = item.querySelector("[data-dropped]");
  if (reason) box.querySelector(".msg-error-text").textContent = reason;
  box.hidden = false;
}

// ---------------------------------------------------------------- speech

// "Speak replies": a streamed reply is spoken sentence by sentence while it arrives, each
// sentence as the stream tells it (its `sentence` events). ▶ on a reply speaks it the same
// way, its sentences told by the server (the rule: mybella/core/sentences.py), so the first
// plays while the rest are made; pressed again while it plays, it stops.
let playing = null; // the ▶ whose reply is being said

function showPlaying(button) {
  playing?.classList.remove("is-playing");
  playing?.setAttribute("aria-pressed", "false");
  playing = button;
  button?.classList.add("is-playing");
  button?.setAttribute("aria-pressed", "true");
}

const replySpeech = new SpeechQueue(speechAudio, root.dataset.speakSentenceUrl, {
  server: () => serverCanSpeak(root),
  onBrowser: () => {
    root.dataset.speechAvailable = "false";
    announce(announcer, "Speaking with your browser’s voice.");
  },
  onError: (message) => announce(announcer, `Couldn’t speak the reply: ${message}`),
  onIdle: () => {
    const played = playing;
    showPlaying(null);
    if (!played) dictation.replySpoken();
  },
  onStop: () => showPlaying(null),
});

async function speak(button) {
  if (button === playing) {
    replySpeech.stop();
    return;
  }
  replySpeech.startReply(); // silences anything else
  showPlaying(button);
  button.setAttribute("aria-busy", "true");
  try {
    const url = withId(root.dataset.messageSentencesUrl, button.closest(".msg").dataset.id);
    const { ok, status, data } = await fetchJson(url);
    if (playing !== button) return; // stopped, or something else spoken, meanwhile
    if (!ok) throw new Error(errorText(data, status));
    if (!serverCanSpeak(root)) announce(announcer, "Speaking with your browser’s voice.");
    data.sentences.forEach((sentence) => replySpeech.add(sentence));
    replySpeech.finish();
  } catch (error) {
    if (playing === button) replySpeech.stop();
    announce(announcer, `Couldn’t play the message: ${error.message}`);
  } finally {
    button.removeAttribute("aria-busy");
  }
}

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
  if (!on) replySpeech.stop();
  announce(announcer, on ? "Replies will be read aloud." : "Replies won’t be read aloud.");
});
speakToggle.setAttribute("aria-pressed", String(speakReplies()));

// Talk by voice: dictate a message; hands-free, listen again once the reply is spoken.
const dictation = setUpDictation(form, input, {
  announce: (text) => announce(announcer, text),
  speaking: () => speakToggle.getAttribute("aria-pressed") === "true",
  send: () => form.requestSubmit(),
});

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
  olderAgain.hidden = true;
  const url = state.olderUrl;
  let failed = false;
  try {
    const { ok, status, rows, response } = await fetchRows(url);
    if (!ok) throw new Error(`HTTP ${status}`);
    if (state.olderUrl !== url) return; // a new conversation replaced the log meanwhile
    const fresh = rows.filter((row) => !log.querySelector(`[data-id="${row.dataset.id}"]`));
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    log.setAttribute("aria-busy", "true");
    log.prepend(...fresh);
    const next = response.headers.get("X-Older-Url");
    state.olderUrl = next ? samePath(next) : null;
    updateOlder();
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
    log.setAttribute("aria-busy", String(state.busy));
    if (fresh.length) announce(announcer, `Loaded ${fresh.length} earlier messages.`);
  } catch {
    failed = true;
    older.classList.add("is-error");
    olderText.textContent = "Couldn’t load earlier messages.";
    olderAgain.hidden = false;
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
  log.classList.toggle("is-busy", busy);
  log.setAttribute("aria-busy", String(busy));
}

/** Start streaming a reply: Stop replaces Send until `endStreaming`. Return the abort signal. */
function startStreaming() {
  state.streaming = new AbortController();
  sendButton.hidden = true;
  stopButton.hidden = false;
  return state.streaming.signal;
}

function endStreaming() {
  const focused = document.activeElement === stopButton;
  state.streaming = null;
  stopButton.hidden = true;
  sendButton.hidden = false;
  if (focused) input.focus();
}

function stopped(error) {
  return error?.name === "AbortError";
}

const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

/**
 * Swap `items` for the server's rows once the server has noticed a stopped stream: it
 * saves the reply (stopped, with what was written) when it next tries to write to us.
 */
async function settleStopped(items) {
  let rows = items;
  for (let attempt = 0; attempt < 40; attempt += 1) {
    rows = await swapForRows(rows);
    const reply = rows[rows.length - 1];
    if (reply.dataset.id && !reply.classList.contains("msg-pending") && !reply.classList.contains("is-typing")) {
      return rows;
    }
    await sleep(250);
  }
  return rows;
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
  const userItem = cloneTemplate("msg-user-pending").firstElementChild;
  userItem.querySelector(".bubble").textContent = text;
  setTime(userItem, now);
  let replyItem = cloneTemplate("msg-reply-pending").firstElementChild;
  log.append(userItem, replyItem);
  scrollToBottom();

  const payload = { message: text, persona: state.persona };
  if (state.conversation) payload.conversation = state.conversation;
  let saved = false;
  let finished = false;
  let speaking = speakToggle.getAttribute("aria-pressed") === "true";
  if (speaking) replySpeech.startReply();
  const signal = startStreaming();
  try {
    const response = await fetch(root.dataset.sendUrl, {
      ...requestOptions({ method: "POST", body: payload, accept: "text/event-stream" }),
      signal,
    });
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
        conversationChanged();
        // The greeting shown before the first message is now saved just before it.
        const preview = log.querySelector("[data-preview]");
        if (preview) {
          preview.removeAttribute("data-preview");
          preview.querySelector(".msg-meta").hidden = false;
          setTime(preview, data.created_at);
        }
        introHint.textContent = "This is the start of your conversation.";
      } else if (event === "delta" && data) {
        const stick = nearBottom();
        appendText(replyItem, data.text);
        if (stick) scrollToBottom();
      } else if (event === "sentence" && data) {
        if (speaking) replySpeech.add(data.text);
      } else if (event === "done" && data) {
        finished = true;
        replyItem.dataset.id = data.assistant_message_id;
        setTime(replyItem, new Date().toISOString());
        state.conversation = data.conversation_id;
        [, replyItem] = await swapForRows([userItem, replyItem]);
      } else if (event === "error") {
        finished = true;
        if (saved || data?.user_message_id) {
          if (data?.user_message_id) userItem.dataset.id = data.user_message_id;
          if (data?.assistant_message_id) replyItem.dataset.id = data.assistant_message_id;
          const [, row] = await swapForRows([userItem, replyItem]);
          // The row could not be fetched: the reason, and a reload shows the rest.
          if (row === replyItem) showDropped(replyItem, errorText(data, response.status));
        } else {
          notSent(userItem, replyItem, errorText(data, response.status), text);
        }
      }
    }
    if (!finished) {
      if (saved) showDropped(replyItem);
      else notSent(userItem, replyItem, OFFLINE, text);
    }
  } catch (error) {
    if (speaking && stopped(error)) {
      replySpeech.stop(); // Stop silences the reply too
      speaking = false;
    }
    if (stopped(error) && saved) {
      await settleStopped([userItem, replyItem]);
      announce(announcer, "Stopped. What was written is kept.");
    } else if (saved) showDropped(replyItem);
    else notSent(userItem, replyItem, stopped(error) ? "you stopped it." : OFFLINE, text);
  } finally {
    if (speaking) replySpeech.finish();
    endStreaming();
    setBusy(false);
    if (nearBottom()) scrollToBottom();
  }
}

// ---------------------------------------------------------------- regenerate and swipe

async function regenerate(item) {
  if (state.busy) return;
  setBusy(true);
  showComposerError("");
  const id = item.dataset.id;
  const replyItem = cloneTemplate("msg-reply-pending").firstElementChild;
  replyItem.dataset.id = id;
  item.replaceWith(replyItem);
  let speaking = speakToggle.getAttribute("aria-pressed") === "true";
  if (speaking) replySpeech.startReply();
  const signal = startStreaming();
  let finished = false;
  let settled = false;
  let reason = "";
  try {
    const response = await fetch(withId(root.dataset.regenerateUrl, id), {
      ...requestOptions({ method: "POST", body: { stream: true }, accept: "text/event-stream" }),
      signal,
    });
    const type = response.headers.get("Content-Type") || "";
    if (!type.includes("text/event-stream") || !response.body) {
      reason = errorText(await readJson(response), response.status);
    } else {
      for await (const { event, data } of readEvents(response)) {
        if (event === "delta" && data) {
          const stick = nearBottom();
          appendText(replyItem, data.text);
          if (stick) scrollToBottom();
        } else if (event === "sentence" && data) {
          if (speaking) replySpeech.add(data.text);
        } else if (event === "done" || event === "error") {
          finished = true;
          if (event === "error") reason = errorText(data, response.status);
        }
      }
      if (!finished) reason = "The connection dropped before the reply finished.";
    }
  } catch (error) {
    if (speaking && stopped(error)) {
      replySpeech.stop(); // Stop silences the reply too
      speaking = false;
    }
    if (stopped(error)) {
      settled = true;
      await settleStopped([replyItem]);
      announce(announcer, "Stopped. What was written is kept.");
    } else reason = OFFLINE;
  } finally {
    if (speaking) replySpeech.finish();
    endStreaming();
    setBusy(false);
  }
  if (!settled) {
    // The server's row of the reply: the new alternative, or the reply as it was.
    const [row] = await swapForRows([replyItem]);
    if (row === replyItem) replyItem.replaceWith(item);
    if (row === replyItem && !reason) reason = "Couldn’t show the new reply; reload to see it.";
    if (reason) showComposerError(`Couldn’t regenerate: ${reason}`);
    else announce(announcer, "New reply written.");
  }
  if (nearBottom()) scrollToBottom();
}

async function select(item, index) {
  const { ok, status, data } = await fetchJson(withId(root.dataset.selectUrl, item.dataset.id), {
    method: "POST",
    body: { index: Number(index) },
  }).catch(() => ({ ok: false, status: 0, data: null }));
  if (!ok) {
    showComposerError(`Couldn’t switch replies: ${errorText(data, status)}`);
    return;
  }
  const [row] = await swapForRows([item]);
  const count = row.querySelector("[data-swipe-count]")?.textContent;
  if (count) announce(announcer, `Reply ${count.replace("/", " of ")}.`);
  row.querySelector(`[data-select="${Number(index) + 1}"]:not(:disabled)`)?.focus();
}

// ---------------------------------------------------------------- copy, edit, delete

async function copy(item, button) {
  const text = item.querySelector(".bubble").innerText.trim();
  try {
    await navigator.clipboard.writeText(text);
    button.classList.add("is-done");
    window.setTimeout(() => button.classList.remove("is-done"), 1500);
    announce(announcer, "Copied.");
  } catch {
    announce(announcer, "Couldn’t copy: your browser didn’t allow it.");
  }
}

async function edit(item) {
  if (item.querySelector("[data-edit-form]")) return;
  const url = withId(root.dataset.messageUrl, item.dataset.id);
  const { ok, status, data } = await fetchJson(url).catch(() => ({ ok: false, status: 0 }));
  if (!ok) {
    showComposerError(`Couldn’t edit: ${errorText(data, status)}`);
    return;
  }
  const editor = cloneTemplate("msg-edit-form").firstElementChild;
  const field = editor.querySelector("textarea");
  const problem = editor.querySelector("[data-edit-error]");
  const bubble = item.querySelector(".bubble");
  const meta = item.querySelector(".msg-meta");
  field.value = data.content;
  bubble.hidden = true;
  meta.hidden = true;
  item.classList.add("is-editing");
  bubble.after(editor);
  field.focus();

  const close = () => {
    editor.remove();
    bubble.hidden = false;
    meta.hidden = false;
    item.classList.remove("is-editing");
    item.querySelector("[data-edit]")?.focus();
  };
  editor.querySelector("[data-edit-cancel]").addEventListener("click", close);
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  const refuse = (reason) => {
    problem.textContent = reason;
    problem.hidden = false;
    field.focus();
  };
  editor.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!field.value.trim()) {
      refuse("Write something first.");
      return;
    }
    const saved = await fetchJson(url, { method: "PATCH", body: { content: field.value } }).catch(
      () => ({ ok: false, status: 0, data: null }),
    );
    if (!saved.ok) {
      refuse(errorText(saved.data, saved.status));
      return;
    }
    const [row] = await swapForRows([item]);
    if (row === item) close();
    else row.querySelector("[data-edit]")?.focus();
    announce(announcer, "Message saved.");
  });
}

function askToDelete(item) {
  state.deleting = item;
  deleteDialog.returnValue = "";
  deleteDialog.showModal();
}

async function deleteMessage(item) {
  const url = withId(root.dataset.messageUrl, item.dataset.id);
  const response = await fetch(url, requestOptions({ method: "DELETE" })).catch(() => null);
  if (!response || (!response.ok && response.status !== 404)) {
    showComposerError(`Couldn’t delete: ${errorText(await response?.json().catch(() => null), response?.status)}`);
    return;
  }
  const next = item.nextElementSibling || item.previousElementSibling;
  item.remove();
  announce(announcer, "Message deleted.");
  (next?.querySelector("[data-delete]") || input).focus();
}

deleteDialog.addEventListener("click", (event) => {
  if (event.target.closest("[data-close]")) deleteDialog.close();
});

deleteDialog.addEventListener("close", () => {
  const item = state.deleting;
  state.deleting = null;
  if (item && deleteDialog.returnValue === "delete") deleteMessage(item);
  else item?.querySelector("[data-delete]")?.focus();
});

stopButton.addEventListener("click", () => state.streaming?.abort());

async function retry(button) {
  const item = button.closest(".msg");
  const id = button.dataset.retry;
  button.disabled = true;
  button.textContent = "Retrying…";
  item.setAttribute("aria-busy", "true");
  let reason = "";
  try {
    const { ok, status, rows, text } = await fetchRows(withId(root.dataset.retryUrl, id), {
      method: "POST",
    });
    if (ok && rows.length) {
      const stick = nearBottom();
      item.replaceWith(rows[0]);
      if (stick) scrollToBottom();
      if (rows[0].querySelector("[data-retry]")) rows[0].querySelector("[data-retry]").focus();
      else input.focus();
      return;
    }
    reason = status === 400 && text ? text : errorText(null, status);
  } catch {
    reason = OFFLINE;
  } finally {
    item.removeAttribute("aria-busy");
  }
  item.querySelector(".msg-error-text").textContent = reason;
  button.disabled = false;
  button.textContent = "Retry";
  button.focus();
}

/** Tell the conversation list (conversations.js) which conversation is open, and that it changed. */
function conversationChanged() {
  root.dispatchEvent(new CustomEvent("chat:conversation", { detail: { id: state.conversation } }));
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
    const first = await fetchRows(`${root.dataset.olderBaseUrl}?conversation=${conversation.id}`);
    const next = first.ok && first.response.headers.get("X-Older-Url");
    state.conversation = conversation.id;
    conversationChanged();
    state.olderUrl = next ? samePath(next) : null;
    log.replaceChildren(...first.rows);
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
    speak(speakButton);
    return;
  }
  const tool = event.target.closest("[data-select], [data-copy], [data-edit], [data-delete], [data-regenerate]");
  if (tool && !tool.disabled) {
    const item = tool.closest(".msg");
    if (tool.dataset.select !== undefined) select(item, tool.dataset.select);
    else if (tool.dataset.copy !== undefined) copy(item, tool);
    else if (tool.dataset.edit !== undefined) edit(item);
    else if (tool.dataset.delete !== undefined) askToDelete(item);
    else regenerate(item);
    return;
  }
  const retryButton = event.target.closest("[data-retry]");
  if (retryButton && !retryButton.disabled) retry(retryButton);
  else if (event.target.closest("[data-reload]")) window.location.reload();
});

newButton.addEventListener("click", startConversation);
olderAgain.addEventListener("click", () => loadOlder());

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
