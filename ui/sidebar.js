// @ts-check
// Saved conversations: the sidebar's list and search, the open conversation (put in the page a page at a time),
// its versions, rename, delete and export, and backing up or importing them all. Rust's store holds them;
// this module holds which one is open.

import * as Batch from "./batch.js";
import { clearAttachments } from "./attachments.js";
import {
  dropMessage, isStreaming, messageElement, resetChoices, scrollDown, setToolsToggle, showChoices, showContext, stop,
} from "./chat.js";
import { $, find, findAll } from "./dom.js";
import { toReport } from "./errors.js";
import { I18n } from "./i18n.js";

/** @typedef {import("./types.js").Conversation} Conversation */
/** @typedef {import("./types.js").ErrorReport} ErrorReport */
/** @typedef {import("./types.js").ImportReport} ImportReport */
/** @typedef {import("./types.js").ListItem} ListItem */
/** @typedef {import("./types.js").View} View */
/** @typedef {import("./types.js").ViewMessage} ViewMessage */

const { invoke } = window.__TAURI__.core;

/** @type {Conversation | null} */
let conversation = null;  // the open conversation (saved in Rust's store), null for a new one

/** The open conversation, null for a new one. */
export const openedConversation = () => conversation;

/**
 * The conversation a turn was saved in (a new chat's first turn makes one).
 * @param {Conversation} c
 */
export function setOpenedConversation(c) {
  conversation = c;
}

function clearMessages() {
  document.querySelectorAll("#messages .msg").forEach(dropMessage);
  $("empty").hidden = false;
  shown.messages = [];
  shown.start = 0;
  updateEarlier();
}

export function showConversationHead() {
  const c = conversation;
  $("conv-head").hidden = !c;
  if (c) $("conv-title").textContent = c.title || I18n.t("conv.untitled");
  $("conv-status").textContent = "";
  findAll(document, "#conversation-list .conv").forEach((b) => {
    if (c && Number(b.dataset.id) === c.id) b.setAttribute("aria-current", "true");
    else b.removeAttribute("aria-current");
  });
}

// A long conversation is put in the page a page of messages at a time: the newest first, earlier ones when the
// user scrolls up to the top (or presses "Show earlier messages" there). All 2,000 of a long conversation at once
// froze the window for seconds, and every message in the page slows scrolling (docs/performance.md).
const PAGE = 40;
/** @type {{ messages: ViewMessage[], start: number }} */
const shown = { messages: [], start: 0 };  // the conversation's current path; messages[start..] are in the page

/**
 * Show `messages` (the current path). `from`: the index of the first one to put in the page (default: the last
 * page); `focus`: a message id that must be in the page.
 * @param {ViewMessage[]} messages
 * @param {{ from?: number, focus?: number | null }} [where]
 */
export function renderMessages(messages, { from, focus } = {}) {
  clearMessages();
  let start = from ?? Math.max(0, messages.length - PAGE);
  const at = focus == null ? -1 : messages.findIndex((m) => m.id === focus);
  if (at >= 0) start = Math.min(start, Math.max(0, at - 2));
  shown.messages = messages;
  shown.start = Math.min(start, Math.max(0, messages.length - 1));
  // Built apart and added at once: one layout, not one per message.
  const part = document.createDocumentFragment();
  for (const m of messages.slice(shown.start)) part.append(messageElement(m));
  $("messages").append(part);
  $("empty").hidden = messages.length > 0;
  const last = messages[messages.length - 1];
  showContext(last && last.role === "assistant" ? last.stats : null, last ? last.model : null);
  updateEarlier();
  scrollDown(true);
  fillEarlier();
}

// Earlier messages while scrolling up: a few per frame, so building them (~2.5 ms a message with its Markdown
// decorated) never holds a frame long; a whole page at once made one long frame per page.
const EARLIER = 10;

export function showEarlier(count = PAGE) {
  if (shown.start === 0) return;
  const list = $("messages");
  const first = find(list, ".msg");
  const top = first.getBoundingClientRect().top;
  const start = Math.max(0, shown.start - count);
  const part = document.createDocumentFragment();
  for (const m of shown.messages.slice(start, shown.start)) part.append(messageElement(m));
  shown.start = start;
  first.before(part);
  updateEarlier();  // (hiding the button at the top moves everything up too)
  list.scrollTop += first.getBoundingClientRect().top - top;  // what the user was reading stays in place
}

// Scrolling up towards the top brings earlier messages in before the user gets there.
let filling = false;
export function fillEarlier() {
  if (filling || shown.start === 0 || $("messages").scrollTop >= 1500) return;
  showEarlier(EARLIER);
  filling = true;  // then again next frame while still near the top
  requestAnimationFrame(() => { filling = false; fillEarlier(); });
}

export function updateEarlier() {
  const button = $("earlier");
  button.hidden = shown.start === 0;
  if (!button.hidden) button.textContent = I18n.t("conv.earlier", { count: shown.start });
}

/**
 * @param {number} id
 * @param {number | null} [messageId] a search hit to show (centred, marked)
 */
async function openConversation(id, messageId) {
  if (isStreaming()) stop();
  try {
    /** @type {View} */
    const view = await invoke("open_conversation", { id, message: messageId || null });
    conversation = view.conversation;
    showChoices();
    renderMessages(view.messages, { focus: messageId });
    showConversationHead();
    if (messageId) {
      const hit = document.querySelector(`#messages .msg[data-id="${Number(messageId)}"]`);
      if (hit) { hit.scrollIntoView({ block: "center" }); hit.classList.add("hit"); }
    }
  } catch (err) {
    showSidebarStatus(toReport(err).message);
  }
}

export async function reloadConversation() {
  if (!conversation) return;
  /** @type {View} */
  const view = await invoke("open_conversation", { id: conversation.id, message: null });
  conversation = view.conversation;
  renderMessages(view.messages);
  showConversationHead();
}

/** @param {number | undefined} messageId */
export async function switchVersion(messageId) {
  if (isStreaming() || messageId === undefined) return;
  try {
    /** @type {ViewMessage[]} */
    const path = await invoke("switch_version", { message: messageId });
    const keep = $("messages").scrollTop;
    renderMessages(path, { from: shown.start });  // the messages above the switched one are unchanged
    $("messages").scrollTop = keep;
  } catch (err) {
    $("conv-status").textContent = toReport(err).message;
  }
}

/** @param {string} [text] */
function showSidebarStatus(text) {
  $("sidebar-status").textContent = text || "";
}

let searchSeq = 0;
export async function refreshSidebar() {
  const query = $("search").value.trim();
  const seq = ++searchSeq;
  /** @type {ListItem[]} */
  let items;
  try {
    items = await invoke("list_conversations", { query: query || null });
  } catch (err) {
    showSidebarStatus(toReport(err).message);
    return;
  }
  if (seq !== searchSeq) return;  // a newer search is on its way
  const list = $("conversation-list");
  list.replaceChildren();
  for (const c of items) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "conv";
    b.dataset.id = String(c.id);
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = c.title || I18n.t("conv.untitled");
    b.append(title);
    if (c.snippet) {
      const s = document.createElement("span");
      s.className = "snippet";
      s.textContent = c.snippet;
      b.append(s);
    }
    b.addEventListener("click", () => openConversation(c.id, c.message_id));
    li.append(b);
    list.append(li);
  }
  const empty = $("conversation-empty");
  empty.hidden = items.length > 0;
  empty.textContent = I18n.t(query ? "conv.noneFound" : "conv.none");
  showConversationHead();
}

// Alt+↑ / Alt+↓: the conversation above or below the open one in the sidebar.
/** @param {number} step */
export function stepConversation(step) {
  const items = [...findAll(document, "#conversation-list .conv")];
  if (!items.length) return;
  const at = items.findIndex((b) => conversation && Number(b.dataset.id) === conversation.id);
  const next = at < 0 ? (step > 0 ? 0 : items.length - 1) : Math.min(items.length - 1, Math.max(0, at + step));
  items[next].click();
  items[next].focus();
}

export function newChat() {
  stop();
  Batch.stopAll();
  conversation = null;
  clearAttachments();
  setToolsToggle(true);
  resetChoices();
  showContext(null, null);
  clearMessages();
  showConversationHead();
  $("prompt").focus();
}

export function renameConversation() {
  if (!conversation) return;
  $("rename-input").value = conversation.title || "";
  $("rename-dialog").showModal();
  $("rename-input").select();
}

/** @param {SubmitEvent} ev */
export async function saveRename(ev) {
  ev.preventDefault();
  $("rename-dialog").close();
  try {
    conversation = await invoke("rename_conversation", { id: /** @type {Conversation} */ (conversation).id, title: $("rename-input").value });
    showConversationHead();
    refreshSidebar();
  } catch (err) {
    $("conv-status").textContent = toReport(err).message;
  }
}

export function askDelete() {
  if (!conversation) return;
  $("confirm-delete-text").textContent = I18n.t("conv.deleteText", { title: conversation.title || I18n.t("conv.untitled") });
  $("confirm-delete").showModal();
}

export async function deleteConversation() {
  if ($("confirm-delete").returnValue !== "delete" || !conversation) return;
  try {
    await invoke("delete_conversation", { id: conversation.id });
    newChat();
    refreshSidebar();
  } catch (err) {
    $("conv-status").textContent = toReport(err).message;
  }
}

/** @param {"markdown" | "json"} format */
export async function exportConversation(format) {
  if (!conversation) return;
  try {
    const path = await invoke("export_conversation", { id: conversation.id, format });
    if (path) $("conv-status").textContent = I18n.t("batch.saved", { path });
  } catch (err) {
    $("conv-status").textContent = toReport(err).message;
  }
}

export async function exportAll() {
  try {
    const path = await invoke("export_all");
    if (path) showSidebarStatus(I18n.t("batch.saved", { path }));
  } catch (err) {
    showSidebarStatus(toReport(err).message);
  }
}

export async function importAll() {
  try {
    /** @type {ImportReport | null} */
    const report = await invoke("import_conversations");
    if (report) {
      showSidebarStatus(I18n.t("conv.imported", { conversations: report.conversations_added, messages: report.messages_added }));
      refreshSidebar();
    }
  } catch (err) {
    showSidebarStatus(toReport(err).message);
  }
}

/** @param {ErrorReport | null} report */
export function showStorageProblem(report) {
  $("storage-problem").hidden = !report;
  if (!report) return;
  $("storage-message").textContent = report.message;
  $("storage-hint").textContent = report.hint || "";
}

