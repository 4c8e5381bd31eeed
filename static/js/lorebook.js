// The lorebook editor in the persona modal's Advanced section. Rows are copies of the
// server-rendered blank entry (<template id="lore-entry-template">); the modal's form
// posts them as a Django formset (prefix "lorebook"). An opened persona's entries are read
// from the API when its dialog opens (a lorebook can be megabytes: the page doesn't carry
// them all). Until they are in, the formset's management form is disabled, so a save sent
// meanwhile (or after the read failed) leaves the lorebook as it is.
import { errorText, requestOptions, withId } from "./common.js";

const PREFIX = "lorebook";
const personaForm = document.querySelector("#persona-modal form");
const section = personaForm.querySelector("[data-lorebook]");
const list = section.querySelector("[data-lore-entries]");
const empty = section.querySelector("[data-lore-empty]");
const template = document.getElementById("lore-entry-template");
const total = personaForm.elements.namedItem(`${PREFIX}-TOTAL_FORMS`);
const initial = personaForm.elements.namedItem(`${PREFIX}-INITIAL_FORMS`);
const addButton = section.querySelector("[data-lore-add]");
const status = section.querySelector("[data-lore-status]");
let reading = null; // the AbortController of the entries being read

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
    else field.value = Array.isArray(value) ? value.join(", ") : (value ?? "");
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

function setReady(ready, text = "") {
  total.disabled = initial.disabled = addButton.disabled = !ready;
  status.textContent = text;
  status.hidden = !text;
}

async function load(id) {
  reading?.abort();
  reset([]);
  if (!id) {
    setReady(true);
    return;
  }
  empty.hidden = true;
  setReady(false, "Loading the lorebook…");
  const controller = (reading = new AbortController());
  const url = withId(section.dataset.personaUrl, id);
  const response = await fetch(url, { ...requestOptions(), signal: controller.signal }).catch(() => null);
  if (controller.signal.aborted) return;
  const data = await response?.json().catch(() => null);
  if (!response?.ok || !Array.isArray(data?.lorebook?.entries)) {
    setReady(false, `Couldn’t load the lorebook: ${errorText(data, response?.status)} Saving leaves it as it is.`);
    return;
  }
  reset(data.lorebook.entries);
  setReady(true);
}

addButton.addEventListener("click", () => {
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
  addButton.focus();
});

personaForm.addEventListener("persona:open", (event) => load(event.detail.id));
