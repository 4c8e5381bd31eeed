// The persona settings page: the create/edit modal, avatar preview and delete
// confirmation. The modal's voice section is persona-voice.js; it hears of each opening
// through the "persona:open" event sent on the form.
import { askToConfirm, jsonScript, wireDialogs } from "./common.js";

const personaData = jsonScript("persona-data", {});
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

// ---------------------------------------------------------------- opening the modal

function opened(id) {
  personaForm.dispatchEvent(new CustomEvent("persona:open", { detail: { id } }));
}

function openCreate() {
  personaForm.reset();
  clearErrors(personaForm);
  personaForm.action = personaForm.dataset.createUrl;
  title.textContent = title.dataset.createTitle;
  placeholder.textContent = "?";
  removeAvatar.hidden = true;
  showAvatar(null);
  opened(null);
}

function openEdit(button) {
  const data = personaData[button.dataset.edit];
  if (!data) return;
  personaForm.reset();
  clearErrors(personaForm);
  personaForm.action = button.dataset.editUrl;
  title.textContent = `Edit ${data.name}`;
  for (const [name, value] of Object.entries(data)) {
    const field = personaForm.elements.namedItem(name);
    if (field && field.type !== "file") field.value = value ?? "";
  }
  placeholder.textContent = (data.name || "?").charAt(0).toUpperCase();
  removeAvatar.hidden = !data.avatar_url;
  showAvatar(data.avatar_url || null);
  opened(button.dataset.edit);
}

// Before wireDialogs' own listener, so the form is reset before its dialog opens.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-open][data-create]")) {
    openCreate();
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
    askToConfirm(deleteModal, {
      action: deleter.dataset.deleteUrl,
      text: deleter.dataset.name,
      slots: "[data-delete-name]",
    });
  }
});
// A form sent back with errors opens again where the user left it, at the first error.
wireDialogs(document);

avatarInput.addEventListener("change", () => {
  const file = avatarInput.files[0];
  if (!file) return;
  previewUrl = URL.createObjectURL(file);
  showAvatar(previewUrl);
});

function showInitial() {
  placeholder.textContent = (personaForm.elements.namedItem("name").value.trim() || "?").charAt(0).toUpperCase();
}

personaForm.elements.namedItem("name").addEventListener("input", showInitial);
showInitial();
