// Voices in the browser: play server audio (or the browser's own voice when the server has
// no engine), upload a recording with progress, and follow its cloning until it settles.
// Shared by the persona modal and the chat; on /users/voices/ it also runs that page.

export const STATUS_LABELS = {
  pending: "Waiting",
  cloning: "Cloning",
  ready: "Ready",
  failed: "Failed",
};
export const NO_ENGINE_NOTE = "The server has no speech engine, so your browser’s voice is speaking.";

export function csrfToken() {
  return document.querySelector("[name=csrfmiddlewaretoken]")?.value || "";
}

export function withId(template, id) {
  return template.replace("/0/", `/${id}/`);
}

export function errorText(data, status) {
  if (data && typeof data.detail === "string") return data.detail;
  if (data && typeof data === "object") {
    for (const value of Object.values(data)) {
      if (Array.isArray(value) && value.length) return String(value[0]);
      if (typeof value === "string" && value) return value;
    }
  }
  if (status === 413) return "That file is too large.";
  if (status === 429) return "Too many requests; wait a moment and try again.";
  return `Something went wrong (${status || "no connection"}). Try again.`;
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

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
  const headers = { Accept: "audio/*, application/json" };
  if (method !== "GET") {
    headers["X-CSRFToken"] = csrfToken();
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
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

/** Send a recording with XHR (fetch can't report upload progress); resolve {ok, status, data}. */
export function uploadVoice(url, { file, name, onProgress }) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const data = new FormData();
    data.append("name", name);
    data.append("sample", file);
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded / event.total);
    };
    xhr.onload = () => {
      let json;
      try {
        json = JSON.parse(xhr.responseText);
      } catch {
        json = null;
      }
      resolve({ ok: xhr.status >= 200 && xhr.status < 300, status: xhr.status, data: json });
    };
    xhr.onerror = () => reject(new Error("The upload failed: check your connection and try again."));
    xhr.send(data);
  });
}

const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

/** Ask for a voice until it is ready or failed, calling `onUpdate` with each answer. */
export async function followVoice(url, onUpdate, { interval = 1500, tries = 400 } = {}) {
  for (let i = 0; i < tries; i += 1) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (response.status === 404) return null; // deleted meanwhile
    const voice = response.ok ? await readJson(response) : null;
    if (voice) {
      onUpdate(voice);
      if (voice.status === "ready" || voice.status === "failed") return voice;
    }
    await sleep(interval);
  }
  return null;
}

export function setStatus(row, voice) {
  row.dataset.status = voice.status;
  const pill = row.querySelector("[data-voice-status]");
  if (pill) {
    pill.textContent = STATUS_LABELS[voice.status] || voice.status;
    pill.className = `status-pill status-${voice.status}`;
  }
  const error = row.querySelector("[data-voice-error]");
  if (error) {
    error.textContent = voice.status === "failed" ? voice.error || "" : "";
    error.hidden = !(voice.status === "failed" && voice.error);
  }
}

/**
 * Wire an upload box (`[data-voice-upload]`): name + file fields, a progress bar and a
 * status line. `onCreated(voice)` returns the row to keep up to date; `onSettled(voice)`
 * runs when cloning ends.
 */
export function setUpUpload(box, { uploadUrl, voiceUrl, onCreated, onSettled }) {
  const nameInput = box.querySelector("[data-upload-name]");
  const fileInput = box.querySelector("[data-upload-file]");
  const button = box.querySelector("[data-upload-button]");
  const wrap = box.querySelector("[data-upload-progress-wrap]");
  const progress = box.querySelector("[data-upload-progress]");
  const percent = box.querySelector("[data-upload-percent]");
  const status = box.querySelector("[data-upload-status]");

  const say = (text, kind = "") => {
    status.textContent = text;
    status.dataset.kind = kind;
  };
  const show = (fraction) => {
    const value = Math.round(fraction * 100);
    progress.value = value;
    percent.textContent = `${value}%`;
  };

  fileInput.addEventListener("change", () => {
    const file = fileInput.files[0];
    if (file && !nameInput.value.trim()) nameInput.value = file.name.replace(/\.[^.]+$/, "").slice(0, 80);
  });

  async function start() {
    const file = fileInput.files[0];
    const name = nameInput.value.trim();
    if (!name) {
      say("Give the voice a name.", "error");
      nameInput.focus();
      return;
    }
    if (!file) {
      say("Choose a recording to upload.", "error");
      fileInput.focus();
      return;
    }
    button.disabled = true;
    wrap.hidden = false;
    show(0);
    say("Uploading…");
    try {
      const { ok, status: code, data } = await uploadVoice(uploadUrl, { file, name, onProgress: show });
      if (!ok || !data?.id) {
        wrap.hidden = true;
        say(errorText(data, code), "error");
        return;
      }
      show(1);
      nameInput.value = "";
      fileInput.value = "";
      const row = onCreated(data);
      const update = (voice) => {
        if (row) setStatus(row, voice);
        if (voice.status === "ready") say(`“${voice.name}” is ready.`, "ok");
        else if (voice.status === "failed") say(`“${voice.name}” couldn’t be cloned: ${voice.error || "unknown error"}`, "error");
        else say(`Uploaded. ${STATUS_LABELS[voice.status]}…`);
      };
      update(data);
      const settled =
        data.status === "ready" || data.status === "failed" ? data : await followVoice(withId(voiceUrl, data.id), update);
      if (settled) onSettled?.(settled, row);
    } catch (error) {
      wrap.hidden = true;
      say(error.message, "error");
    } finally {
      button.disabled = false;
    }
  }

  if (box.tagName === "FORM") {
    box.addEventListener("submit", (event) => {
      event.preventDefault();
      start();
    });
  } else {
    button.addEventListener("click", start);
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

// ---------------------------------------------------------------- the /users/voices/ page

function playIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "play-icon");
  svg.setAttribute("viewBox", "0 0 20 20");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M6 4v12l10-6z");
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function postForm(action, label, className, ariaLabel) {
  const form = el("form", "inline-form");
  form.method = "post";
  form.action = action;
  const token = el("input");
  token.type = "hidden";
  token.name = "csrfmiddlewaretoken";
  token.value = csrfToken();
  const button = el("button", className, label);
  button.type = "submit";
  button.setAttribute("aria-label", ariaLabel);
  form.append(token, button);
  return form;
}

function voicesPage(page) {
  const list = page.querySelector("[data-voice-list]");
  const empty = page.querySelector("[data-voice-empty]");
  const audio = page.querySelector("[data-voice-audio]");
  const dialog = document.getElementById("voice-delete-modal");

  function buildRow(voice) {
    const row = el("li", "voice-row");
    row.dataset.voiceId = voice.id;
    row.setAttribute("aria-label", voice.name);
    const main = el("div", "voice-row-main");
    const meta = el("span", "voice-meta");
    const pill = el("span", "status-pill");
    pill.dataset.voiceStatus = "";
    meta.append(pill, " ", el("span", "muted", `${Math.round(voice.duration)} s · ${voice.format.toUpperCase()}`));
    const error = el("span", "voice-error small");
    error.dataset.voiceError = "";
    main.append(el("span", "voice-name", voice.name), meta, error);
    const actions = el("div", "voice-row-actions");
    const play = el("button", "play-button");
    play.type = "button";
    play.dataset.playUrl = withId(page.dataset.sampleUrl, voice.id);
    play.setAttribute("aria-label", `Play your recording of ${voice.name}`);
    play.title = "Play your recording";
    play.append(playIcon());
    const retry = postForm(withId(page.dataset.retryUrl, voice.id), "Retry", "button button-small button-ghost", `Retry cloning ${voice.name}`);
    retry.dataset.retryForm = "";
    const remove = postForm(withId(page.dataset.deleteUrl, voice.id), "Delete", "button button-small button-danger-ghost", `Delete ${voice.name}`);
    remove.dataset.confirmDelete = "";
    remove.dataset.name = voice.name;
    actions.append(play, retry, remove);
    row.append(main, actions);
    setStatus(row, voice);
    retry.hidden = voice.status !== "failed";
    return row;
  }

  setUpUpload(page.querySelector("[data-voice-upload]"), {
    uploadUrl: page.dataset.uploadUrl,
    voiceUrl: page.dataset.voiceUrl,
    onCreated(voice) {
      const row = buildRow(voice);
      list.prepend(row);
      empty.hidden = true;
      return row;
    },
    onSettled(voice, row) {
      const retry = row?.querySelector("[data-retry-form]");
      if (retry) retry.hidden = voice.status !== "failed";
    },
  });

  setUpPlayButtons(list, audio, (message, button) => {
    const row = button.closest(".voice-row");
    const error = row.querySelector("[data-voice-error]");
    error.textContent = message;
    error.hidden = false;
  });
  audio.addEventListener("play", () => {
    audio.hidden = false;
  });

  // Ask before deleting; without the script the form posts straight away.
  list.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-confirm-delete]");
    if (!form || form.dataset.confirmed) return;
    event.preventDefault();
    dialog.querySelector("form").action = form.action;
    dialog.querySelectorAll("[data-delete-name]").forEach((node) => {
      node.textContent = form.dataset.name;
    });
    dialog.showModal();
  });
  dialog.addEventListener("click", (event) => {
    if (event.target.closest("[data-close]")) dialog.close();
  });

  // Voices still cloning when the page loaded settle here too.
  list.querySelectorAll(".voice-row").forEach((row) => {
    if (row.dataset.status === "pending" || row.dataset.status === "cloning") {
      followVoice(withId(page.dataset.voiceUrl, row.dataset.voiceId), (voice) => {
        setStatus(row, voice);
        const retry = row.querySelector("[data-retry-form]");
        if (retry) retry.hidden = voice.status !== "failed";
      });
    }
  });
}

const page = document.querySelector("[data-voices-page]");
if (page) voicesPage(page);
