// @ts-check
// Photos attached to the next message: picked, dropped, pasted or from a folder, shown as thumbnails under
// the conversation until they are sent, captioned one by one ("Caption all") or removed. Rust prepares and
// keeps them (an id each); the page keeps only what it shows.

import * as Batch from "./batch.js";
import { addMessage, addNote, autoGrow, scrollDown } from "./chat.js";
import { $, find } from "./dom.js";
import { toReport } from "./errors.js";
import { I18n } from "./i18n.js";
import { serverModels } from "./status.js";

/** @typedef {import("./types.js").AttachmentView} AttachmentView */

const { invoke } = window.__TAURI__.core;

/** @type {AttachmentView[]} */
let pending = [];  // photos attached to the next message: [{id, name, thumbnail}]

/** The photos and clips ready to go with the next message (not the ones that could not be read). */
export const readyPhotos = () => pending.filter((a) => a.id);

/** Whether an attachment is an audio clip. @param {AttachmentView} a */
export const isClip = (a) => a.kind === "audio";

/** A clip's length as m:ss. @param {number | null | undefined} ms */
export const clipLength = (ms) => {
  const s = Math.round((ms || 0) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

/** A small player for a clip (its `data:` URI made in Rust). @param {string} src @param {string} label */
export function player(src, label) {
  const audio = document.createElement("audio");
  audio.controls = true;
  audio.preload = "metadata";
  audio.src = src;
  audio.setAttribute("aria-label", label);
  return audio;
}

/** Nothing attached any more (sent, or a new chat). */
export function clearAttachments() {
  pending = [];
  renderAttachments();
}

/** @param {AttachmentView[]} views */
export function addAttachments(views) {
  for (const v of views) {
    if (v.id) pending.push(v);
    else pending.push({ ...v, failed: true });
  }
  renderAttachments();
}

export function renderAttachments() {
  const strip = $("attachments");
  strip.replaceChildren();
  for (const a of pending) {
    const fig = document.createElement("figure");
    fig.className = a.failed ? "thumb failed" : "thumb";
    if (a.thumbnail) {
      const img = document.createElement("img");
      img.src = a.thumbnail;  // a data: URI made in Rust
      img.alt = a.name;
      fig.append(img);
    }
    if (isClip(a)) fig.classList.add("clip");
    if (a.audio) fig.append(player(a.audio, a.name));
    const cap = document.createElement("figcaption");
    const length = isClip(a) && !a.failed ? ` · ${clipLength(a.duration_ms)}` : "";
    cap.textContent = a.failed ? `${a.name}: ${a.error}` : `${a.name}${length}`;
    const rm = document.createElement("button");
    rm.type = "button";
    rm.className = "remove";
    rm.textContent = "×";
    rm.setAttribute("aria-label", I18n.t("attach.remove", { name: a.name }));
    rm.addEventListener("click", () => {
      pending = pending.filter((x) => x !== a);
      if (a.id) invoke("remove_attachment", { id: a.id });
      renderAttachments();
    });
    fig.append(cap, rm);
    strip.append(fig);
  }
  const ok = pending.filter((a) => a.id && !isClip(a)).length;
  if (ok >= 2) {
    // Many photos: caption each on its own rather than asking about all of them at once.
    const all = document.createElement("button");
    all.type = "button";
    all.id = "caption-all";
    all.className = "primary caption-all";
    all.textContent = I18n.t("batch.start", { count: pending.length });
    all.title = I18n.t("batch.startTitle");
    all.addEventListener("click", captionAll);
    strip.append(all);
  }
  strip.hidden = pending.length === 0;
}

// A photo pasted from the clipboard (a screenshot, an image copied from a browser). When the paste
// event carries image files, their bytes go to Rust to be prepared like a dropped file. WebKitGTK's
// paste events carry no images, so when the clipboard offers nothing the prompt could take, Rust
// reads the system clipboard's image itself. Text pastes are left alone.
/** @param {ClipboardEvent} e */
export async function onPaste(e) {
  const data = e.clipboardData;
  const items = [...((data && data.items) || [])];
  const files = /** @type {File[]} */ (items.filter((i) => i.kind === "file" && i.type.startsWith("image/")).map((i) => i.getAsFile()).filter(Boolean));
  if (files.length === 0) {
    const types = [...((data && data.types) || [])];
    if (types.some((t) => t.startsWith("text/"))) return;
    e.preventDefault();
    try {
      const view = await invoke("attach_clipboard_image");
      if (view) addAttachments([view]);
    } catch (err) {
      console.warn(err);
    }
    return;
  }
  e.preventDefault();
  for (const f of files) {
    const bytes = new Uint8Array(await f.arrayBuffer());
    // Header values must be plain ASCII; Rust names the photo itself otherwise.
    /** @type {Record<string, string>} */
    const headers = /^[\x20-\x7e]{1,200}$/.test(f.name || "") ? { "x-name": f.name } : {};
    try {
      addAttachments([await invoke("attach_pasted", bytes, { headers })]);
    } catch (err) {
      addAttachments([{ name: f.name || "?", error: toReport(err).message }]);
    }
  }
}

// Images only go to models that see them, clips to models that hear: say so, and name the ones that can, before
// sending anything.
/** @param {string} model */
export function refuseIfBlind(model) {
  return refuseUnless(model, "vision", "attach.noVision", "attach.noVisionHint", "attach.noVisionNone");
}

/** @param {string} model */
export function refuseIfDeaf(model) {
  return refuseUnless(model, "audio", "attach.noAudio", "attach.noAudioHint", "attach.noAudioNone");
}

/**
 * @param {string} model
 * @param {string} capability
 * @param {string} what the notice's key
 * @param {string} hint the key of the hint naming the models that can
 * @param {string} none the key of the hint when no model can
 */
function refuseUnless(model, capability, what, hint, none) {
  const info = serverModels().find((m) => m.name === model);
  if (!info || info.capabilities.includes(capability)) return false;
  const able = serverModels().filter((m) => m.capabilities.includes(capability)).map((m) => m.name);
  const wrap = addMessage("assistant", "");
  wrap.classList.add("refused");
  find(wrap, ".body").hidden = true;  // nothing was asked: only the notice
  find(wrap, ".who").textContent = "Gemma Desk";
  addNote(wrap, "error", I18n.t(what, { model }), able.length ? I18n.t(hint, { models: able.join(", ") }) : I18n.t(none));
  return true;
}

function captionAll() {
  const model = $("model-select").value;
  if (!model) return;
  if (refuseIfBlind(model)) return;
  const prompt = $("prompt").value.trim() || I18n.t("attach.defaultPrompt");
  $("prompt").value = "";
  autoGrow();
  $("empty").hidden = true;
  Batch.start({ photos: pending.filter((a) => !isClip(a)), prompt, model, container: $("messages"), onScroll: () => scrollDown() });
  clearAttachments();
  scrollDown(true);
}

/** @param {AttachmentView[]} attachments */
export function thumbsFor(attachments) {
  const row = document.createElement("div");
  row.className = "sent-thumbs";
  for (const a of attachments) {
    if (isClip(a)) {
      if (a.audio) row.append(player(a.audio, a.name));
      continue;
    }
    const img = document.createElement("img");
    img.src = /** @type {string} */ (a.thumbnail);  // photos ready to send have one
    img.alt = a.name;
    img.title = a.name;
    row.append(img);
  }
  return row;
}
