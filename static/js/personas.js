// The persona settings page: the create/edit modal, avatar preview, delete confirmation.
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

function openCreate() {
  personaForm.reset();
  clearErrors(personaForm);
  personaForm.action = personaForm.dataset.createUrl;
  title.textContent = title.dataset.createTitle;
  placeholder.textContent = "?";
  removeAvatar.hidden = true;
  showAvatar(null);
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
    if (field && field.type !== "file") field.value = value;
  }
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
