// Custom voices in the browser: upload a recording with progress and follow its cloning
// until it settles. Shared by the persona modal; on /users/voices/ it also runs that page.
import { askToConfirm, csrfToken, errorText, fragmentFrom, requestOptions, withId, wireDialogs } from "./common.js";
import { setUpPlayButtons } from "./speech.js";

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

const SETTLED = ["ready", "failed", "waiting"];

/** Fetch a voice's partial (a row or an option) and return its element, htmx wired. */
async function fetchVoice(url) {
  const response = await fetch(url, requestOptions({ accept: "text/html" }));
  if (!response.ok) throw new Error(errorText(null, response.status));
  const row = fragmentFrom(await response.text()).firstElementChild;
  return row;
}

/**
 * Wire an upload box (`[data-voice-upload]`): name + file fields, a progress bar and a
 * status line; the addresses come from the `data-upload-url` and `data-row-url` (the
 * voice's partial, which the server renders) around it. `onCreated(row)` puts the new
 * voice's row in the page; `onSettled(row)` runs when cloning ends. While the voice is
 * cloning its partial polls itself (htmx); each new copy is reported here.
 */
export function setUpUpload(box, { onCreated, onSettled }) {
  const { uploadUrl, rowUrl } = box.closest("[data-upload-url]").dataset;
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
      const id = String(data.id);
      const report = (row) => {
        const { status: state } = row.dataset;
        const error = row.querySelector("[data-voice-error]")?.textContent.trim();
        if (state === "ready") say(`“${data.name}” is ready.`, "ok");
        else if (state === "waiting") say(`“${data.name}” is kept and will be cloned once the server has an ElevenLabs API key.`);
        else if (state === "failed") say(`“${data.name}” couldn’t be cloned: ${error || "unknown error"}`, "error");
        else say(`Uploaded. ${row.querySelector("[data-voice-status]").textContent}…`);
        if (SETTLED.includes(state)) onSettled?.(row);
      };
      const row = await fetchVoice(withId(rowUrl, id));
      onCreated(row);
      if (!SETTLED.includes(row.dataset.status)) {
        const follow = (event) => {
          const fresh = event.target;
          if (fresh.dataset?.voiceId !== id) return;
          if (SETTLED.includes(fresh.dataset.status)) document.removeEventListener("htmx:afterSettle", follow);
          report(fresh);
        };
        document.addEventListener("htmx:afterSettle", follow);
        window.htmx?.process(row);
      }
      report(row);
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

function voicesPage(page) {
  const list = page.querySelector("[data-voice-list]");
  const empty = page.querySelector("[data-voice-empty]");
  const audio = page.querySelector("[data-voice-audio]");
  const dialog = document.getElementById("voice-delete-modal");

  setUpUpload(page.querySelector("[data-voice-upload]"), {
    onCreated(row) {
      list.prepend(row);
      empty.hidden = true;
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
}

const page = document.querySelector("[data-voices-page]");
if (page) voicesPage(page);
