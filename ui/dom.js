// @ts-check
// The small helpers every part of the window uses: find an element by id, make one, say a size in bytes.
// One copy here rather than one per file; nothing in it knows about the app.

/**
 * The elements whose type matters to their callers (a `.value`, `.showModal()`, `.open`); any other id is an
 * HTMLElement. Kept next to `$` so that an element that changes kind in index.html is changed here too.
 * @typedef {{
 *   "prompt": HTMLTextAreaElement, "opt-system": HTMLTextAreaElement,
 *   "model-select": HTMLSelectElement, "lang-select": HTMLSelectElement, "server-kind": HTMLSelectElement,
 *   "think-select": HTMLSelectElement, "detail-select": HTMLSelectElement, "hide-cloud": HTMLInputElement,
 *   "cloud-confirm": HTMLDialogElement, "context-bar": HTMLProgressElement,
 *   "search": HTMLInputElement, "rename-input": HTMLInputElement, "host-input": HTMLInputElement,
 *   "server-name": HTMLInputElement, "server-url": HTMLInputElement, "server-key": HTMLInputElement,
 *   "opt-temperature": HTMLInputElement, "opt-ctx": HTMLInputElement, "opt-keep": HTMLInputElement,
 *   "pull-name": HTMLInputElement, "pull-bar": HTMLProgressElement, "add-server": HTMLDetailsElement,
 *   "rename-dialog": HTMLDialogElement, "confirm-delete": HTMLDialogElement, "settings": HTMLDialogElement,
 *   "models-dialog": HTMLDialogElement, "shortcuts-dialog": HTMLDialogElement, "about-dialog": HTMLDialogElement,
 * }} ElementsById
 */

/**
 * The element with this id in index.html (which has them all: a missing one is a bug, not a case to handle).
 * @template {string} K
 * @param {K} id
 * @returns {K extends keyof ElementsById ? ElementsById[K] : HTMLElement}
 */
export const $ = (id) => /** @type {any} */ (document.getElementById(id));

/**
 * The first element under `root` that `selector` matches, where the caller knows there is one (a part of an
 * element this page built: a message's `.body`).
 * @param {ParentNode} root
 * @param {string} selector
 * @returns {HTMLElement}
 */
export const find = (root, selector) => /** @type {HTMLElement} */ (root.querySelector(selector));

/**
 * Every element under `root` that `selector` matches, as HTML elements.
 * @param {ParentNode} root
 * @param {string} selector
 * @returns {NodeListOf<HTMLElement>}
 */
export const findAll = (root, selector) => root.querySelectorAll(selector);

/**
 * A new element with a class and text.
 * @template {keyof HTMLElementTagNameMap} T
 * @param {T} tag
 * @param {string} [cls]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[T]}
 */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * A button that is only a button (`type="button"`: it never submits the form or dialog it is in).
 * @param {string} cls
 * @param {string} text
 */
export function button(cls, text) {
  const b = el("button", cls, text);
  b.type = "button";
  return b;
}

/**
 * Bytes as people read them, in powers of 1000 as Ollama reports sizes: "3.3 GB".
 * @param {number} bytes
 */
export function humanSize(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = bytes, i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return i === 0 ? `${bytes} B` : `${v.toFixed(1)} ${units[i]}`;
}
