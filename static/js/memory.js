// The memory page: inline edit toggles and confirmation dialogs. Every change is a plain
// form POST the server answers with a redirect; this script only adds the niceties.

function setEditing(item, editing) {
  const form = item.querySelector("[data-edit-form]");
  const toggle = item.querySelector("[data-edit]");
  item.classList.toggle("is-editing", editing);
  toggle.setAttribute("aria-expanded", String(editing));
  if (editing) {
    const content = form.querySelector("textarea");
    content.focus();
    content.setSelectionRange(content.value.length, content.value.length);
  } else {
    form.reset();
    toggle.focus();
  }
}

document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-open]");
  if (opener) {
    document.getElementById(opener.dataset.open).showModal();
    return;
  }
  const edit = event.target.closest("[data-edit]");
  if (edit) {
    // One memory at a time: opening another puts the first back as it was.
    document.querySelectorAll("[data-memory].is-editing").forEach((item) => setEditing(item, false));
    setEditing(edit.closest("[data-memory]"), true);
    return;
  }
  const cancel = event.target.closest("[data-edit-cancel]");
  if (cancel) {
    setEditing(cancel.closest("[data-memory]"), false);
    return;
  }
  const closer = event.target.closest("[data-close]");
  if (closer) {
    closer.closest("dialog").close();
    return;
  }
  // A click on the backdrop lands on the dialog itself: the form fills everything else.
  if (event.target instanceof HTMLDialogElement) event.target.close();
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const item = event.target.closest?.("[data-memory].is-editing");
  if (item) setEditing(item, false);
});

// A destructive form asks first: its dialog shows what goes and posts to the same address.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (!form) return;
  event.preventDefault();
  const dialog = document.getElementById(form.dataset.confirm);
  dialog.querySelector("form").action = form.action;
  dialog.querySelectorAll("[data-confirm-text]").forEach((el) => {
    el.textContent = form.dataset.confirmText || "";
  });
  dialog.showModal();
});

// A memory sent back with errors opens at its first error.
const invalid = document.querySelector("[data-memory].is-editing");
if (invalid) {
  invalid.querySelector("[data-edit]").setAttribute("aria-expanded", "true");
  invalid.scrollIntoView({ block: "center" });
  (invalid.querySelector(".has-error :is(input, textarea, select)") || invalid.querySelector("textarea")).focus();
} else {
  document.querySelector(".has-error :is(input, textarea, select)")?.focus();
}
