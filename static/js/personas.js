// The persona settings page: the create/edit modal, avatar preview, delete confirmation,
// and the modal's voice section (previews, uploads, sliders, testing the saved voice).
import {
  NO_ENGINE_NOTE,
  followVoice,
  playFrom,
  serverCanSpeak,
  setStatus,
  setUpPlayButtons,
  setUpUpload,
  withId,
} from "./voices.js";

const personaData = JSON.parse(document.getElementById("persona-data")?.textContent || "{}");
const personaModal = document.getElementById("persona-modal");
const personaForm = personaModal.querySelector("form");
const deleteModal = document.getElementById("delete-modal");
const preview = personaForm.querySelector("[data-avatar-preview]");
const placeholder = personaForm.querySelector("[data-avatar-placeholder]");
const removeAvatar = personaForm.querySelector("[data-remove-avatar]");
const avatarInput = personaForm.querySelector('input[type="file"][name="avatar"]');
const title = personaModal.querySelector("#persona-modal-title");
let previewUrl = null;

function showAvatar(url) {
  if (previewUrl && previewUrl !== url) URL.revokeObjectURL(previewUrl);
  preview.hidden = !url;
  placeholder.hidden = Boolean(url);
  if (url) preview.src = url;
  else preview.removeAttribute("src");
}

function clearErrors(form) {
  form.querySelectorAll(".field-errors, .form-errors").forEach((el) => el.remove());
  form.querySelectorAll(".has-error").forEach((el) => el.classList.remove("has-error"));
}

// ---------------------------------------------------------------- voice section

const voiceSection = personaForm.querySelector("[data-voice-section]");
const voiceAudio = voiceSection.querySelector("[data-voice-audio]");
const customList = voiceSection.querySelector("[data-custom-voices]");
const testButton = voiceSection.querySelector("[data-test-voice]");
const testNote = voiceSection.querySelector("[data-test-note]");
const uploadStatus = voiceSection.querySelector("[data-upload-status]");
const TEST_HINT = "Plays their greeting with the saved voice; save to hear changes.";
const CREATE_HINT = "Save the persona first, then test how their greeting sounds.";
let editingId = personaForm.dataset.editingId || null;

function showSliders() {
  voiceSection.querySelectorAll("[data-slider-output]").forEach((output) => {
    const input = document.getElementById(output.dataset.sliderOutput);
    output.textContent = input ? Number(input.value).toFixed(2) : "";
  });
}

function setTesting(id) {
  editingId = id;
  testButton.disabled = !id;
  testNote.textContent = id ? TEST_HINT : CREATE_HINT;
  voiceAudio.pause();
  voiceAudio.hidden = true;
  uploadStatus.textContent = "";
  voiceSection.querySelector("[data-upload-progress-wrap]").hidden = true;
}

function makeReady(row) {
  const radio = row.querySelector('input[type="radio"]');
  radio.disabled = false;
  row.querySelector(".voice-option").classList.remove("is-unavailable");
  return radio;
}

function customOption(voice) {
  const row = document.createElement("div");
  row.className = "voice-option-row";
  row.dataset.voiceId = voice.id;
  const label = document.createElement("label");
  label.className = "voice-option is-unavailable";
  const radio = document.createElement("input");
  radio.type = "radio";
  radio.name = "custom_voice";
  radio.value = voice.id;
  radio.disabled = true;
  const text = document.createElement("span");
  text.className = "voice-option-text";
  const name = document.createElement("span");
  name.className = "voice-name";
  name.textContent = voice.name;
  const meta = document.createElement("span");
  meta.className = "voice-meta";
  const pill = document.createElement("span");
  pill.dataset.voiceStatus = "";
  const error = document.createElement("span");
  error.className = "voice-error";
  error.dataset.voiceError = "";
  meta.append(pill, " ", error);
  text.append(name, meta);
  label.append(radio, text);
  row.append(label);
  setStatus(row, voice);
  return row;
}

setUpUpload(voiceSection.querySelector("[data-voice-upload]"), {
  uploadUrl: voiceSection.dataset.uploadUrl,
  voiceUrl: voiceSection.dataset.voiceUrl,
  onCreated(voice) {
    const row = customOption(voice);
    customList.append(row);
    return row;
  },
  onSettled(voice, row) {
    // A freshly cloned voice is most likely the one wanted: choose it.
    if (voice.status === "ready" && row) makeReady(row).checked = true;
  },
});

setUpPlayButtons(voiceSection, voiceAudio, (message) => {
  uploadStatus.textContent = message;
});
voiceAudio.addEventListener("play", () => {
  voiceAudio.hidden = false;
});
voiceSection.addEventListener("input", (event) => {
  if (event.target.type === "range") showSliders();
});

testButton.addEventListener("click", async () => {
  if (!editingId) return;
  const data = personaData[editingId] || {};
  const greeting = (data.greeting || "").trim() || `Hi, I'm ${data.name || "here"}.`;
  testButton.disabled = true;
  testNote.textContent = "Getting their voice…";
  try {
    const how = await playFrom(voiceAudio, withId(voiceSection.dataset.speakUrl, editingId), {
      method: "POST",
      body: {},
      fallbackText: greeting,
      server: serverCanSpeak(voiceSection),
    });
    testNote.textContent = how === "browser" ? NO_ENGINE_NOTE : TEST_HINT;
  } catch (error) {
    testNote.textContent = error.message;
  } finally {
    testButton.disabled = false;
  }
});

personaModal.addEventListener("close", () => {
  voiceAudio.pause();
  window.speechSynthesis?.cancel();
});

// Voices still cloning when the page loaded become selectable once ready.
customList.querySelectorAll(".voice-option-row[data-voice-id]").forEach((row) => {
  if (row.dataset.status === "pending" || row.dataset.status === "cloning") {
    followVoice(withId(voiceSection.dataset.voiceUrl, row.dataset.voiceId), (voice) => {
      setStatus(row, voice);
      if (voice.status === "ready") makeReady(row);
    });
  }
});

// ---------------------------------------------------------------- opening the modal

function openCreate() {
  personaForm.reset();
  setTesting(null);
  clearErrors(personaForm);
  personaForm.action = personaForm.dataset.createUrl;
  title.textContent = title.dataset.createTitle;
  placeholder.textContent = "?";
  removeAvatar.hidden = true;
  showAvatar(null);
  showSliders();
}

function openEdit(button) {
  const data = personaData[button.dataset.edit];
  if (!data) return;
  personaForm.reset();
  clearErrors(personaForm);
  personaForm.action = button.dataset.editUrl;
  setTesting(button.dataset.edit);
  title.textContent = `Edit ${data.name}`;
  for (const [name, value] of Object.entries(data)) {
    const field = personaForm.elements.namedItem(name);
    if (field && field.type !== "file") field.value = value ?? "";
  }
  showSliders();
  placeholder.textContent = (data.name || "?").charAt(0).toUpperCase();
  removeAvatar.hidden = !data.avatar_url;
  showAvatar(data.avatar_url || null);
}

document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-open]");
  if (opener) {
    if (opener.hasAttribute("data-create")) openCreate();
    document.getElementById(opener.dataset.open).showModal();
    return;
  }
  const editor = event.target.closest("[data-edit]");
  if (editor) {
    openEdit(editor);
    personaModal.showModal();
    return;
  }
  const deleter = event.target.closest("[data-delete-url]");
  if (deleter) {
    deleteModal.querySelector("form").action = deleter.dataset.deleteUrl;
    deleteModal.querySelectorAll("[data-delete-name]").forEach((el) => {
      el.textContent = deleter.dataset.name;
    });
    deleteModal.showModal();
    return;
  }
  const closer = event.target.closest("[data-close]");
  if (closer) closer.closest("dialog").close();
});

avatarInput.addEventListener("change", () => {
  const file = avatarInput.files[0];
  if (!file) return;
  previewUrl = URL.createObjectURL(file);
  showAvatar(previewUrl);
});

personaForm.elements.namedItem("name").addEventListener("input", (event) => {
  placeholder.textContent = (event.target.value.trim() || "?").charAt(0).toUpperCase();
});

// A form sent back with errors opens again where the user left it, at the first error.
document.querySelectorAll("dialog[data-open-on-load]").forEach((dialog) => {
  dialog.showModal();
  (dialog.querySelector(".has-error :is(input, textarea, select)") || dialog.querySelector("input:not([type=hidden]):not([type=file])"))?.focus();
  const name = personaForm.elements.namedItem("name").value.trim();
  if (name) placeholder.textContent = name.charAt(0).toUpperCase();
});
showSliders();
