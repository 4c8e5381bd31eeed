// The memory page: inline edit toggles and confirmation dialogs. Every change is a plain
// form POST the server answers with a redirect; this script only adds the niceties.
import { wireDialogs } from "./common.js";

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
  const edit = event.target.closest("[data-edit]");
  if (edit) {
    // One memory at a time: opening another puts the first back as it was.
    document.querySelectorAll("[data-memory].is-editing").forEach((item) => setEditing(item, false));
    setEditing(edit.closest("[data-memory]"), true);
    return;
  }
  const cancel = event.target.closest("[data-edit-cancel]");
  if (cancel) setEditing(cancel.closest("[data-memory]"), false);
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const item = event.target.closest?.("[data-memory].is-editing");
  if (item) setEditing(item, false);
});

// Opening and closing dialogs, and a destructive form asking first in its dialog.
// Each dialog's form fills it, so a click on the dialog itself is on its backdrop.
wireDialogs(document, { closeOnBackdrop: true });

// A memory sent back with errors opens at its first error.
const invalid = document.querySelector("[data-memory].is-editing");
if (invalid) {
  invalid.querySelector("[data-edit]").setAttribute("aria-expanded", "true");
  invalid.scrollIntoView({ block: "center" });
  (invalid.querySelector(".has-error :is(input, textarea, select)") || invalid.querySelector("textarea")).focus();
} else {
  document.querySelector(".has-error :is(input, textarea, select)")?.focus();
}
