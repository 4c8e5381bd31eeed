// The persona modal's voice section: preset previews, uploading and cloning a voice,
// the sliders, and testing the saved voice. It follows the modal through the
// "persona:open" event personas.js sends on the form (detail.id: the persona being
// edited, null for a new one), so personas.js knows nothing about voices.
import { jsonScript, withId } from "./common.js";
import { NO_ENGINE_NOTE, playFrom, serverCanSpeak, setUpPlayButtons } from "./speech.js";
import { setUpUpload } from "./voices.js";

const personaData = jsonScript("persona-data", {});
const voiceSection = document.querySelector("[data-voice-section]");
const personaForm = voiceSection.closest("form");
const personaModal = voiceSection.closest("dialog");
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

setUpUpload(voiceSection.querySelector("[data-voice-upload]"), {
  onCreated(row) {
    customList.append(row);
  },
  onSettled(row) {
    // A freshly cloned voice is most likely the one wanted: choose it.
    const radio = row.querySelector('input[type="radio"]');
    if (row.dataset.status === "ready" && radio) radio.checked = true;
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
  const greeting = personaData[editingId]?.voice_test_line || "";
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

personaForm.addEventListener("persona:open", (event) => {
  setTesting(event.detail.id);
  showSliders();
});
showSliders();
