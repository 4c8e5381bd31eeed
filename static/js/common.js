// What every page script shares: talking to the server (CSRF, JSON, error texts,
// server-sent events), limits the page states, small DOM nodes, screen-reader
// announcements, and dialogs. Page scripts import from here instead of keeping copies.

// ---------------------------------------------------------------- the server

/** Return this page's CSRF token (from a form's hidden field; base.html's logout form has one). */
export function csrfToken() {
  return document.querySelector("[name=csrfmiddlewaretoken]")?.value || "";
}

/** Put `id` into an address rendered with a 0 placeholder: `/api/v1/voices/0/` → `/api/v1/voices/7/`. */
export function withId(template, id) {
  return template.replace("/0/", `/${id}/`);
}

/** Keep only the path and query of `url`: the API builds absolute links, and a proxy's scheme mustn't matter. */
export function samePath(url) {
  const parsed = new URL(url, window.location.href);
  return parsed.pathname + parsed.search;
}

/** Return the JSON body of `response`, or null when it has none. */
export async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** Return what to tell the user about a failed request: the server's words when it gave some. */
export function errorText(data, status) {
  if (data && typeof data.detail === "string") return data.detail;
  if (data && typeof data === "object") {
    for (const value of Object.values(data)) {
      if (Array.isArray(value) && value.length) return String(value[0]);
      if (typeof value === "string" && value) return value;
    }
  }
  if (status === 413) return "That file is too large.";
  if (status === 429) return "Too many requests; wait a moment and try again.";
  return `Something went wrong (${status || "no connection"}). Try again.`;
}

/**
 * Return fetch() options for a request to this site: `body` sent as JSON, the CSRF token
 * on anything but GET, and `accept` as the Accept header.
 */
export function requestOptions({ method = "GET", body, accept = "application/json" } = {}) {
  const headers = { Accept: accept };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  };
}

/** Send a JSON request (see requestOptions) and resolve to {ok, status, data}; throw when offline. */
export async function fetchJson(url, options) {
  const response = await fetch(url, requestOptions(options));
  return { ok: response.ok, status: response.status, data: await readJson(response) };
}

// ---------------------------------------------------------------- server-sent events

/** Parse one block of a text/event-stream into {event, data} (data parsed as JSON), or null. */
export function parseEventBlock(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  try {
    return { event, data: JSON.parse(data.join("\n")) };
  } catch {
    return { event, data: null };
  }
}

/** Yield the events of a streamed text/event-stream response as they arrive. */
export async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n?/g, "\n");
      let end = buffer.indexOf("\n\n");
      while (end !== -1) {
        const event = parseEventBlock(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event) yield event;
        end = buffer.indexOf("\n\n");
      }
    }
    const last = parseEventBlock(buffer + decoder.decode());
    if (last) yield last;
  } finally {
    reader.releaseLock();
  }
}

// ---------------------------------------------------------------- what the page states

/** Return the data of a `json_script` element, or `fallback` when the page has none. */
export function jsonScript(id, fallback = null) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : fallback;
}

// ---------------------------------------------------------------- DOM

/** Return a new `tag` element with an optional class name and text. */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Parse markup the server rendered (a partial) into a fragment of elements. */
export function fragmentFrom(html) {
  const holder = document.createElement("template");
  holder.innerHTML = html;
  return holder.content;
}

/** Return a copy of the content of the `<template>` with this id. */
export function cloneTemplate(id) {
  return document.getElementById(id).content.cloneNode(true);
}

/** Say `text` in the live region `region`; the same words twice are said twice. */
export function announce(region, text) {
  region.textContent = "";
  // A fresh text node after a tick makes screen readers repeat the same words.
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}

// ---------------------------------------------------------------- dialogs

/**
 * Open `dialog` to confirm a destructive action: its form posts to `action`, and every
 * node matching `slots` inside it shows `text` (what goes).
 */
export function askToConfirm(dialog, { action, text = "", slots = "[data-confirm-text]" }) {
  dialog.querySelector("form").action = action;
  dialog.querySelectorAll(slots).forEach((node) => {
    node.textContent = text;
  });
  dialog.showModal();
}

/**
 * Wire the dialogs inside `root`: `[data-open="<dialog id>"]` opens one, `[data-close]`
 * closes its own, and with `closeOnBackdrop` so does a click on the backdrop (for dialogs
 * whose form fills them). `form[data-confirm="<dialog id>"]` asks in that dialog before it
 * posts (see askToConfirm; its `data-confirm-text` says what goes); without the script
 * it posts straight away. A `dialog[data-open-on-load]` (a form sent back with errors)
 * opens at once, focused on its first error.
 */
export function wireDialogs(root = document, { closeOnBackdrop = false } = {}) {
  root.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open]");
    if (opener) {
      document.getElementById(opener.dataset.open).showModal();
      return;
    }
    const closer = event.target.closest("[data-close]");
    if (closer) {
      closer.closest("dialog").close();
      return;
    }
    // A click on the backdrop lands on the dialog itself.
    if (closeOnBackdrop && event.target instanceof HTMLDialogElement) event.target.close();
  });

  root.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-confirm]");
    if (!form) return;
    event.preventDefault();
    askToConfirm(document.getElementById(form.dataset.confirm), {
      action: form.action,
      text: form.dataset.confirmText || "",
    });
  });

  root.querySelectorAll("dialog[data-open-on-load]").forEach((dialog) => {
    dialog.showModal();
    (
      dialog.querySelector(".has-error :is(input, textarea, select)") ||
      dialog.querySelector("input:not([type=hidden]):not([type=file])")
    )?.focus();
  });
}
