// The lorebook editor in the persona modal's Advanced section. Rows are copies of the
// server-rendered blank entry (<template id="lore-entry-template">); the modal's form
// posts them as a Django formset (prefix "lorebook"). An opened persona's entries come
// from the "lorebook-data" JSON, by persona id.
import { jsonScript } from "./common.js";

const PREFIX = "lorebook";
const lorebookData = jsonScript("lorebook-data", {});
const personaForm = document.querySelector("#persona-modal form");
const section = personaForm.querySelector("[data-lorebook]");
const list = section.querySelector("[data-lore-entries]");
const empty = section.querySelector("[data-lore-empty]");
const template = document.getElementById("lore-entry-template");
const total = personaForm.elements.namedItem(`${PREFIX}-TOTAL_FORMS`);
const initial = personaForm.elements.namedItem(`${PREFIX}-INITIAL_FORMS`);

function showEmpty() {
  empty.hidden = Boolean(list.querySelector("[data-lore-entry]:not([hidden])"));
}

function addRow(values = {}) {
  const index = Number(total.value);
  const row = template.content.firstElementChild.cloneNode(true);
  for (const el of row.querySelectorAll("[name], [id], [for]")) {
    for (const attr of ["name", "id", "for"]) {
      const value = el.getAttribute(attr);
      if (value) el.setAttribute(attr, value.replace("__prefix__", String(index)));
    }
  }
  for (const [name, value] of Object.entries(values)) {
    const field = row.querySelector(`[name="${PREFIX}-${index}-${name}"]`);
    if (!field) continue;
    if (field.type === "checkbox") field.checked = Boolean(value);
    else field.value = value ?? "";
  }
  total.value = String(index + 1);
  list.append(row);
  showEmpty();
  return row;
}

function reset(entries) {
  list.replaceChildren();
  total.value = "0";
  initial.value = "0";
  for (const entry of entries) addRow(entry);
  showEmpty();
}

section.querySelector("[data-lore-add]").addEventListener("click", () => {
  const row = addRow();
  row.querySelector("input[type='text'], textarea")?.focus();
});

list.addEventListener("click", (event) => {
  const remove = event.target.closest("[data-lore-remove]");
  if (!remove) return;
  const row = remove.closest("[data-lore-entry]");
  // The row stays in the formset, marked for deletion, so the numbering holds.
  row.querySelector(`input[name$="-DELETE"]`).checked = true;
  row.hidden = true;
  showEmpty();
  section.querySelector("[data-lore-add]").focus();
});

personaForm.addEventListener("persona:open", (event) => {
  reset(event.detail.id ? lorebookData[event.detail.id] || [] : []);
});
