// Custom voices in the browser: upload a recording with progress and follow its cloning
// until it settles. Shared by the persona modal; on /users/voices/ it also runs that page.
import { askToConfirm, csrfToken, element, errorText, fetchJson, withId, wireDialogs } from "./common.js";
import { playIcon, setUpPlayButtons } from "./speech.js";

export const STATUS_LABELS = {
  pending: "Waiting",
  cloning: "Cloning",
  ready: "Ready",
  failed: "Failed",
};

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
    const { ok, status, data: voice } = await fetchJson(url);
    if (status === 404) return null; // deleted meanwhile
    if (ok && voice) {
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

/** Follow each voice in `list` still cloning when the page loaded; `onUpdate(row, voice)` with each answer. */
export function followUnsettled(list, voiceUrl, onUpdate) {
  list.querySelectorAll("[data-voice-id]").forEach((row) => {
    if (row.dataset.status === "pending" || row.dataset.status === "cloning") {
      followVoice(withId(voiceUrl, row.dataset.voiceId), (voice) => {
        setStatus(row, voice);
        onUpdate(row, voice);
      });
    }
  });
}

/**
 * Wire an upload box (`[data-voice-upload]`): name + file fields, a progress bar and a
 * status line; the addresses come from the `data-upload-url` and `data-voice-url` around
 * it. `onCreated(voice)` returns the row to keep up to date; `onSettled(voice)` runs when
 * cloning ends.
 */
export function setUpUpload(box, { onCreated, onSettled }) {
  const { uploadUrl, voiceUrl } = box.closest("[data-upload-url]").dataset;
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
    if (!file || nameInput.value.trim()) return;
    const name = file.name.replace(/\.[^.]+$/, "");
    // The field's maxlength (rendered from the model) is the limit; -1 when it has none.
    nameInput.value = nameInput.maxLength >= 0 ? name.slice(0, nameInput.maxLength) : name;
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

// ---------------------------------------------------------------- the /users/voices/ page

function postForm(action, label, className, ariaLabel) {
  const form = element("form", "inline-form");
  form.method = "post";
  form.action = action;
  const token = element("input");
  token.type = "hidden";
  token.name = "csrfmiddlewaretoken";
  token.value = csrfToken();
  const button = element("button", className, label);
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
    const row = element("li", "voice-row");
    row.dataset.voiceId = voice.id;
    row.setAttribute("aria-label", voice.name);
    const main = element("div", "voice-row-main");
    const meta = element("span", "voice-meta");
    const pill = element("span", "status-pill");
    pill.dataset.voiceStatus = "";
    meta.append(pill, " ", element("span", "muted", `${Math.round(voice.duration)} s · ${voice.format.toUpperCase()}`));
    const error = element("span", "voice-error small");
    error.dataset.voiceError = "";
    main.append(element("span", "voice-name", voice.name), meta, error);
    const actions = element("div", "voice-row-actions");
    const play = element("button", "play-button");
    play.type = "button";
    play.dataset.playUrl = withId(page.dataset.sampleUrl, voice.id);
    play.setAttribute("aria-label", `Play your recording of ${voice.name}`);
    play.title = "Play your recording";
    play.append(playIcon("play-icon"));
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
  wireDialogs(document);
  list.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-confirm-delete]");
    if (!form) return;
    event.preventDefault();
    askToConfirm(dialog, { action: form.action, text: form.dataset.name, slots: "[data-delete-name]" });
  });

  // Voices still cloning when the page loaded settle here too.
  followUnsettled(list, page.dataset.voiceUrl, (row, voice) => {
    const retry = row.querySelector("[data-retry-form]");
    if (retry) retry.hidden = voice.status !== "failed";
  });
}

const page = document.querySelector("[data-voices-page]");
if (page) voicesPage(page);
