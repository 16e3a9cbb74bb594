// @ts-check
// Keyboard shortcuts (one table: it both drives the keys and fills the help sheet), the About box and
// "Copy diagnostics".

import { $ } from "./dom.js";
import { toReport } from "./errors.js";
import { I18n } from "./i18n.js";

/** @typedef {import("./types.js").About} About */

const { invoke } = window.__TAURI__.core;
const isMac = /Mac|iPhone|iPad/.test(navigator.platform);

/**
 * What the shortcuts do, by the names in the table's `action`s; given by app.js.
 * @typedef {Record<string, () => unknown>} Actions
 */

// `Mod` is Ctrl, or ⌘ on macOS. Rows without `action` are handled where they apply (the composer, dialogs).
/** @type {{ label: string, keys: string[], action?: string[] }[]} */
export const rows = [
  { label: "keys.send", keys: ["Enter"] },
  { label: "keys.newline", keys: ["Shift+Enter"] },
  { label: "keys.stop", keys: ["Escape"] },
  { label: "keys.new", keys: ["Mod+N"], action: ["newChat"] },
  { label: "keys.search", keys: ["Mod+K"], action: ["focusSearch"] },
  { label: "keys.prevNext", keys: ["Alt+ArrowUp", "Alt+ArrowDown"], action: ["previousConversation", "nextConversation"] },
  { label: "keys.prompt", keys: ["Mod+L"], action: ["focusPrompt"] },
  { label: "keys.attach", keys: ["Mod+O"], action: ["attach"] },
  { label: "keys.folder", keys: ["Mod+Shift+O"], action: ["attachFolder"] },
  { label: "keys.tools", keys: ["Mod+T"], action: ["toggleTools"] },
  { label: "keys.models", keys: ["Mod+M"], action: ["models"] },
  { label: "keys.settings", keys: ["Mod+,"], action: ["settings"] },
  { label: "keys.lang", keys: ["Mod+Shift+L"], action: ["toggleLanguage"] },
  { label: "keys.help", keys: ["F1", "Mod+/"], action: ["help", "help"] },
  { label: "keys.quit", keys: ["Mod+Q"], action: ["quit"] },
  { label: "keys.tab", keys: ["Tab", "Shift+Tab"] },
];

/** @type {Actions} */
let actions = {};
/** @type {Map<string, string>} */
const bindings = new Map();

// The combination an event stands for, in the table's notation. Letters by physical key, so that a
// shortcut works whatever the keyboard layout or input method says the letter is.
/** @param {KeyboardEvent} e */
function comboOf(e) {
  let key = e.key;
  if (e.code && e.code.startsWith("Key")) key = e.code.slice(3);
  else if (e.code === "Slash") key = "/";
  else if (e.code === "Comma") key = ",";
  else if (key.length === 1) key = key.toUpperCase();
  const parts = [];
  if (e.ctrlKey || e.metaKey) parts.push("Mod");
  if (e.altKey) parts.push("Alt");
  if (e.shiftKey) parts.push("Shift");
  parts.push(key);
  return parts.join("+");
}

/** @param {string} combo */
function shown(combo) {
  /** @type {Record<string, string>} */
  const names = { Mod: isMac ? "⌘" : "Ctrl", ArrowUp: "↑", ArrowDown: "↓", Escape: "Esc" };
  return combo.split("+").map((k) => names[k] || k);
}

/** @param {HTMLElement | null} el */
function typingIn(el) {
  return el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
}

/** @param {KeyboardEvent} e */
function onKey(e) {
  if (e.isComposing || e.keyCode === 229) return;  // an input method (Chinese) is composing
  const combo = comboOf(e);
  // "?" on its own opens the sheet, except where it is a character being typed.
  const name = bindings.get(combo) || (e.key === "?" && !e.ctrlKey && !e.metaKey && !e.altKey && !typingIn(/** @type {HTMLElement | null} */ (e.target)) ? "help" : null);
  if (!name) return;
  // With a dialog open, only its own keys work (and quitting).
  if (document.querySelector("dialog[open]") && name !== "quit" && name !== "help") return;
  e.preventDefault();
  if (name === "help") openSheet();
  else if (actions[name]) actions[name]();
}

export function openSheet() {
  const body = $("shortcuts-list");
  body.replaceChildren();
  for (const row of rows) {
    const tr = document.createElement("tr");
    const keys = document.createElement("td");
    row.keys.forEach((combo, i) => {
      if (i) keys.append(" / ");
      shown(combo).forEach((k, j) => {
        if (j) keys.append("+");
        const kbd = document.createElement("kbd");
        kbd.textContent = k;
        keys.append(kbd);
      });
    });
    const what = document.createElement("td");
    what.textContent = I18n.t(row.label);
    tr.append(keys, what);
    body.append(tr);
  }
  /** @type {NodeListOf<HTMLDialogElement>} */ (document.querySelectorAll("dialog[open]")).forEach((d) => d.close());
  $("shortcuts-dialog").showModal();
}

export async function openAbout() {
  /** @type {NodeListOf<HTMLDialogElement>} */ (document.querySelectorAll("dialog[open]")).forEach((d) => d.close());
  /** @type {About} */
  const info = await invoke("about");
  $("about-version").textContent = I18n.t("about.version", { version: info.version });
  $("about-license").textContent = I18n.t("about.license", { license: info.license });
  $("about-runtime").textContent = I18n.t("about.runtime", { tauri: info.tauri, webview: info.webview || "?" });
  $("about-terms").onclick = () => invoke("open_link", { url: info.gemma_terms });
  $("about-components-summary").textContent = I18n.t("about.components", { count: info.components.length });
  const list = $("about-components");
  list.replaceChildren(...info.components.map((c) => {
    const li = document.createElement("li");
    li.textContent = `${c.name} ${c.version} — ${c.license}`;
    return li;
  }));
  $("diag-text").hidden = true;
  $("diag-status").textContent = "";
  $("about-dialog").showModal();
}

async function showDiagnostics() {
  const pre = $("diag-text");
  pre.textContent = await invoke("diagnostics");
  pre.hidden = false;
  return pre.textContent;
}

async function copyDiagnostics() {
  const text = await showDiagnostics();
  try {
    await invoke("copy_text", { text });
    $("diag-status").textContent = I18n.t("diag.copied");
  } catch (err) {
    $("diag-status").textContent = toReport(err).message || String(err);
  }
}

/** @param {Actions} handlers */
export function init(handlers) {
  actions = handlers;
  for (const row of rows) {
    (row.action || []).forEach((name, i) => bindings.set(row.keys[i], name));
  }
  document.addEventListener("keydown", onKey);
  $("help-btn").addEventListener("click", openSheet);
  $("shortcuts-close").addEventListener("click", () => $("shortcuts-dialog").close());
  $("shortcuts-about").addEventListener("click", openAbout);
  $("settings-about").addEventListener("click", openAbout);
  $("about-close").addEventListener("click", () => $("about-dialog").close());
  $("diag-show").addEventListener("click", showDiagnostics);
  $("diag-copy").addEventListener("click", copyDiagnostics);
}
