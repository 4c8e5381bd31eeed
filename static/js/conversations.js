// The chat page's conversation panel: a side panel on a wide screen, a drawer on a phone.
// The server renders the list (templates/chat/_conversation_list.html); this script
// fetches it again to search or after a change, renames through the API, and asks before
// a delete (the delete itself is the item's form post).
import { errorText, fetchJson, fragmentFrom, requestOptions, withId, wireDialogs } from "./common.js";

const panel = document.querySelector("[data-convs]");
const chat = document.querySelector("[data-chat]");
const toggle = document.querySelector("[data-convs-toggle]");
const backdrop = document.querySelector("[data-convs-backdrop]");
const searchForm = panel.querySelector("[data-convs-search]");
const searchInput = searchForm.querySelector("input[type=search]");
const SEARCH_DELAY_MS = 250;
const EMPTY_TITLE = "Give the conversation a title.";
const narrow = window.matchMedia("(max-width: 760px)");

// ---------------------------------------------------------------- the drawer (phones)

function setDrawer(open, { focus = true } = {}) {
  panel.classList.toggle("is-open", open);
  backdrop.hidden = !open;
  toggle.setAttribute("aria-expanded", String(open));
  if (!focus) return;
  if (open) (panel.querySelector(".conv-link[aria-current]") || searchInput).focus();
  else toggle.focus();
}

toggle.addEventListener("click", () => setDrawer(!panel.classList.contains("is-open")));
backdrop.addEventListener("click", () => setDrawer(false));
panel.querySelector("[data-convs-close]").addEventListener("click", () => setDrawer(false));
narrow.addEventListener("change", () => setDrawer(false, { focus: false }));

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || document.querySelector("dialog[open]")) return;
  const renaming = event.target.closest?.(".conv.is-renaming");
  if (renaming) setRenaming(renaming, false);
  else if (panel.classList.contains("is-open")) setDrawer(false);
});

// ---------------------------------------------------------------- times

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayOnly = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const fullDate = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

function showTimes(root) {
  root.querySelectorAll("time").forEach((time) => {
    const date = new Date(time.dateTime);
    if (Number.isNaN(date.getTime())) return;
    const today = date.toDateString() === new Date().toDateString();
    time.textContent = (today ? timeOnly : dayOnly).format(date);
    time.title = fullDate.format(date);
  });
}

// ---------------------------------------------------------------- the list

let openId = chat?.dataset.conversation || "";
let pending = null;

/** Fetch the list again (the search in the box, the open conversation marked) and show it. */
async function refresh() {
  const params = new URLSearchParams(new FormData(searchForm));
  params.set("conversation", openId);
  if (!openId) params.delete("conversation");
  pending?.abort();
  const controller = new AbortController();
  pending = controller;
  let response;
  try {
    response = await fetch(`${panel.dataset.listUrl}?${params}`, {
      ...requestOptions({ accept: "text/html" }),
      signal: controller.signal,
    });
  } catch {
    return; // offline, or a newer search took over: the list stays as it was
  }
  if (pending !== controller) return;
  pending = null;
  // A refused search (400) comes with its reason as the list; anything else leaves it be.
  if (!response.ok && response.status !== 400) return;
  const list = fragmentFrom(await response.text()).firstElementChild;
  if (!list) return;
  showTimes(list);
  panel.querySelector("[data-convs-list]").replaceWith(list);
}

let searchTimer = 0;
searchInput.addEventListener("input", () => {
  window.clearTimeout(searchTimer);
  searchTimer = window.setTimeout(refresh, SEARCH_DELAY_MS);
});
searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  window.clearTimeout(searchTimer);
  refresh();
});

// The chat script says when the open conversation changes (a new one, a first message).
chat?.addEventListener("chat:conversation", (event) => {
  const id = event.detail?.id;
  if (!id) return;
  openId = String(id);
  panel.querySelectorAll("input[name=open]").forEach((input) => {
    input.value = openId;
  });
  document.querySelectorAll("#conv-delete-modal input[name=open]").forEach((input) => {
    input.value = openId;
  });
  const url = new URL(window.location.href);
  url.search = new URLSearchParams({ conversation: openId }).toString();
  window.history.replaceState(null, "", url);
  refresh();
});

// ---------------------------------------------------------------- rename

function setRenaming(item, renaming) {
  const form = item.querySelector("[data-conv-rename-form]");
  const button = item.querySelector("[data-conv-rename]");
  item.classList.toggle("is-renaming", renaming);
  form.hidden = !renaming;
  button.setAttribute("aria-expanded", String(renaming));
  showRenameError(form, "");
  if (renaming) {
    const input = form.querySelector("input[name=title]");
    input.focus();
    input.select();
  } else {
    form.reset();
    button.focus();
  }
}

function showRenameError(form, text) {
  const error = form.querySelector("[data-conv-rename-error]");
  error.textContent = text;
  error.hidden = !text;
}

async function rename(form) {
  const title = form.querySelector("input[name=title]").value;
  if (!title.trim()) {
    // The server says the same; no need to ask it.
    showRenameError(form, EMPTY_TITLE);
    form.querySelector("input[name=title]").focus();
    return;
  }
  const save = form.querySelector("button[type=submit]");
  save.disabled = true;
  try {
    const url = withId(panel.dataset.renameUrl, form.dataset.convId);
    const { ok, status, data } = await fetchJson(url, { method: "PATCH", body: { title } });
    if (!ok) {
      showRenameError(form, errorText(data, status));
      return;
    }
    await refresh();
    panel.querySelector(`[data-conv="${form.dataset.convId}"] [data-conv-rename]`)?.focus();
  } catch {
    showRenameError(form, "You seem to be offline. Check your connection and try again.");
  } finally {
    save.disabled = false;
  }
}

panel.addEventListener("click", (event) => {
  const start = event.target.closest("[data-conv-rename]");
  if (start) {
    panel.querySelectorAll(".conv.is-renaming").forEach((item) => setRenaming(item, false));
    setRenaming(start.closest(".conv"), true);
    return;
  }
  const cancel = event.target.closest("[data-conv-rename-cancel]");
  if (cancel) setRenaming(cancel.closest(".conv"), false);
});

panel.addEventListener("submit", (event) => {
  const form = event.target.closest("[data-conv-rename-form]");
  if (!form) return;
  event.preventDefault();
  rename(form);
});

// ---------------------------------------------------------------- delete (asks first)

wireDialogs(document, { closeOnBackdrop: true });

showTimes(panel);
