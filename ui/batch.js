// @ts-check
// "Caption all": a queue that captions the attached photos one by one, each with its own streamed
// caption. One bad file or one failed answer does not stop the batch; failed ones can be retried.
// Each photo is one `send_chat` with no history and no tools, so Stop works the same way as in chat.

import { button as buttonOf, el } from "./dom.js";
import { reportText, toReport } from "./errors.js";
import { I18n } from "./i18n.js";

/** @typedef {import("./types.js").AttachmentView} AttachmentView */
/** @typedef {import("./types.js").AgentOutcome} AgentOutcome */
/** @typedef {import("./types.js").CaptionRow} CaptionRow */

/**
 * A photo's line in a batch. `li.dataset.state` is where it is: queued, running, done, error or stopped.
 * @typedef {{
 *   photo: AttachmentView, li: HTMLLIElement, state: HTMLElement, text: HTMLElement, copyOne: HTMLButtonElement,
 *   caption: string | null, error: string | null | undefined,
 * }} Row
 */

/**
 * One "Caption all" on screen.
 * @typedef {{
 *   id: number, model: string, prompt: string, rows: Row[], stopped: boolean, current: string | null,
 *   active: boolean, card: HTMLElement, count: HTMLElement, bar: HTMLProgressElement,
 *   stopBtn: HTMLButtonElement, retryBtn: HTMLButtonElement, copyAll: HTMLButtonElement,
 *   exports: HTMLButtonElement[], status: HTMLElement, list: HTMLElement, onScroll: () => void,
 * }} BatchState
 */

const { invoke, Channel } = window.__TAURI__.core;
let seq = 0;
/** @type {Set<BatchState>} */
const batches = new Set();  // the batches on screen (for Stop on "New chat" and relabelling)

/**
 * @param {string} key
 * @param {() => void} onClick
 * @param {string} [cls]
 */
const button = (key, onClick, cls) => {
  const b = buttonOf(cls || "ghost small", I18n.t(key));
  b.dataset.i18n = key;
  b.addEventListener("click", onClick);
  return b;
};

/**
 * photos: [{id, name, thumbnail}] (prepared) or [{name, error, failed: true}] (unreadable files).
 * @param {{ photos: AttachmentView[], prompt: string, model: string, container: HTMLElement, onScroll: () => void }} what
 */
export function start({ photos, prompt, model, container, onScroll }) {
  const batch = /** @type {BatchState} */ (/** @type {unknown} */ ({ id: ++seq, model, prompt, rows: [], stopped: false, current: null, active: false }));
  const card = el("article", "msg batch");
  card.setAttribute("aria-label", I18n.t("batch.title"));
  const head = el("div", "batch-head");
  const title = el("strong", "", I18n.t("batch.title"));
  title.dataset.i18n = "batch.title";
  const count = el("span", "batch-count");
  count.setAttribute("role", "status");
  const bar = el("progress", "batch-progress");
  bar.max = photos.length;
  bar.value = 0;
  const actions = el("div", "batch-actions");
  const stopBtn = button("batch.stop", () => stop(batch), "danger small");
  const retryBtn = button("batch.retry", () => retry(batch));
  const copyAll = button("batch.copyAll", () => copy(rowsText(batch)));
  const exportLabel = el("span", "hint", I18n.t("batch.export"));
  exportLabel.dataset.i18n = "batch.export";
  const exports = ["csv", "jsonl", "markdown"].map((f) => {
    const b = button("batch.format." + f, () => exportRows(batch, f));
    b.dataset.format = f;
    return b;
  });
  actions.append(stopBtn, retryBtn, copyAll, exportLabel, ...exports);
  const status = el("div", "batch-status hint");
  status.setAttribute("role", "status");
  head.append(title, count, bar, actions, status);
  const list = el("ol", "batch-rows");
  card.append(head, list);
  container.append(card);
  Object.assign(batch, { card, count, bar, stopBtn, retryBtn, copyAll, exports, status, list, onScroll });

  for (const p of photos) {
    const li = el("li", "batch-row");
    if (p.thumbnail) {
      const img = el("img");
      img.src = p.thumbnail;  // a data: URI made in Rust
      img.alt = p.name;
      li.append(img);
    } else {
      li.append(el("div", "no-thumb", "⚠"));
    }
    const main = el("div", "row-main");
    const name = el("div", "name", p.name);
    const state = el("div", "state hint");
    const text = el("div", "caption");
    main.append(name, state, text);
    const copyOne = button("batch.copy", () => copy(row.caption || ""));
    copyOne.setAttribute("aria-label", I18n.t("batch.copyOne", { name: p.name }));
    copyOne.hidden = true;
    li.append(main, copyOne);
    list.append(li);
    /** @type {Row} */
    const row = { photo: p, li, state, text, copyOne, caption: null, error: p.failed ? p.error : null };
    setRow(row, p.failed ? "error" : "queued");
    batch.rows.push(row);
  }
  batches.add(batch);
  run(batch);
  return batch;
}

/**
 * @param {Row} row
 * @param {string} state
 * @param {string} [detail]
 */
function setRow(row, state, detail) {
  row.li.dataset.state = state;
  row.copyOne.hidden = state !== "done";
  if (state === "error") {
    row.text.textContent = row.error || "";
    row.text.className = "caption error-text";
    row.text.setAttribute("role", "alert");
  } else {
    row.text.className = "caption";
    row.text.removeAttribute("role");
    row.text.textContent = row.caption || detail || "";
  }
  row.state.dataset.i18n = "batch.state." + state;
  row.state.textContent = I18n.t("batch.state." + state);
}

/** @param {BatchState} batch */
function update(batch) {
  const done = batch.rows.filter((r) => r.li.dataset.state === "done").length;
  const failed = batch.rows.filter((r) => ["error", "stopped"].includes(stateOf(r))).length;
  const total = batch.rows.length;
  batch.bar.value = done + failed;
  batch.count.textContent = I18n.t("batch.count", { done, total, failed });
  batch.stopBtn.hidden = !batch.active;
  batch.retryBtn.hidden = batch.active || !batch.rows.some(retryable);
  const finished = !batch.active;
  batch.card.classList.toggle("finished", finished);
  for (const b of [batch.copyAll, ...batch.exports]) b.disabled = !finished || done + failed === 0;
}

/** @param {Row} r */
const stateOf = (r) => r.li.dataset.state || "";

/** @param {Row} r */
const retryable = (r) => r.photo.id && ["error", "stopped"].includes(stateOf(r));

/** @param {BatchState} batch */
async function run(batch) {
  batch.active = true;
  batch.stopped = false;
  batch.status.textContent = "";
  update(batch);
  for (const row of batch.rows) {
    if (batch.stopped) break;
    if (row.li.dataset.state !== "queued") continue;
    await captionOne(batch, row);
    update(batch);
  }
  for (const row of batch.rows) if (row.li.dataset.state === "queued") setRow(row, "stopped");
  batch.active = false;
  update(batch);
}

/**
 * @param {BatchState} batch
 * @param {Row} row
 */
async function captionOne(batch, row) {
  const id = `batch-${batch.id}-${batch.rows.indexOf(row)}-${Date.now()}`;
  batch.current = id;
  row.caption = null;
  row.error = null;
  setRow(row, "running");
  let partial = "";
  /** @type {TauriChannel<import("./types.js").TurnEvent>} */
  const channel = new Channel();
  channel.onmessage = (msg) => {
    if (msg.event === "delta") {
      partial += msg.data.text;
      row.text.textContent = partial;
      batch.onScroll && batch.onScroll();
    }
  };
  try {
    const messages = [{ role: "user", content: batch.prompt, attachments: [row.photo.id] }];
    /** @type {AgentOutcome} */
    const out = await invoke("ask_once", { id, model: batch.model, messages, tools: false, onEvent: channel });
    row.caption = out.answer.trim();
    setRow(row, "done");
  } catch (err) {
    if (toReport(err).kind === "cancelled") {
      setRow(row, "stopped");
    } else {
      row.error = reportText(err);
      setRow(row, "error");
    }
  } finally {
    batch.current = null;
  }
}

/** @param {BatchState} batch */
function stop(batch) {
  batch.stopped = true;
  if (batch.current) invoke("stop_chat", { id: batch.current });
}

/** @param {BatchState} batch */
function retry(batch) {
  if (batch.active) return;
  for (const r of batch.rows) if (retryable(r)) setRow(r, "queued");
  run(batch);
}

// Rows as the exports and "Copy all" see them: finished rows only, in order.
/**
 * @param {BatchState} batch
 * @returns {CaptionRow[]}
 */
function rows(batch) {
  return batch.rows
    .filter((r) => ["done", "error", "stopped"].includes(stateOf(r)))
    .map((r) => r.li.dataset.state === "done"
      ? { file: r.photo.name, caption: /** @type {string} */ (r.caption) }
      : { file: r.photo.name, error: r.error || I18n.t("batch.state.stopped") });
}

/** @param {BatchState} batch */
function rowsText(batch) {
  return rows(batch).map((r) => `${r.file}: ${r.caption !== undefined ? r.caption : I18n.t("batch.errorPrefix") + r.error}`).join("\n");
}

/** @param {string} text */
async function copy(text) {
  try {
    await invoke("copy_text", { text });
  } catch (err) {
    console.warn(err);
  }
}

/**
 * @param {BatchState} batch
 * @param {string} format
 */
async function exportRows(batch, format) {
  batch.status.textContent = "";
  try {
    const path = await invoke("export_captions", { format, rows: rows(batch) });
    if (path) batch.status.textContent = I18n.t("batch.saved", { path });
  } catch (err) {
    batch.status.textContent = toReport(err).message || String(err);
  }
}

export function stopAll() {
  for (const b of batches) stop(b);
  batches.clear();
}

// Re-translate the parts that carry numbers (the rest follow data-i18n).
export function relabel() {
  for (const b of batches) {
    update(b);
    for (const r of b.rows) r.copyOne.setAttribute("aria-label", I18n.t("batch.copyOne", { name: r.photo.name }));
  }
}
