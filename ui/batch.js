// "Caption all": a queue that captions the attached photos one by one, each with its own streamed
// caption. One bad file or one failed answer does not stop the batch; failed ones can be retried.
// Each photo is one `send_chat` with no history and no tools, so Stop works the same way as in chat.
"use strict";

const Batch = (() => {
  const { invoke, Channel } = window.__TAURI__.core;
  let seq = 0;
  const batches = new Set();  // the batches on screen (for Stop on "New chat" and relabelling)

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const button = (key, onClick, cls) => {
    const b = el("button", cls || "ghost small", I18n.t(key));
    b.type = "button";
    b.dataset.i18n = key;
    b.addEventListener("click", onClick);
    return b;
  };

  // photos: [{id, name, thumbnail}] (prepared) or [{name, error, failed: true}] (unreadable files).
  function start({ photos, prompt, model, container, onScroll }) {
    const batch = { id: ++seq, model, prompt, rows: [], stopped: false, current: null, active: false };
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
      const row = { photo: p, li, state, text, copyOne, caption: null, error: p.failed ? p.error : null };
      setRow(row, p.failed ? "error" : "queued");
      batch.rows.push(row);
    }
    batches.add(batch);
    run(batch);
    return batch;
  }

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

  function update(batch) {
    const done = batch.rows.filter((r) => r.li.dataset.state === "done").length;
    const failed = batch.rows.filter((r) => ["error", "stopped"].includes(r.li.dataset.state)).length;
    const total = batch.rows.length;
    batch.bar.value = done + failed;
    batch.count.textContent = I18n.t("batch.count", { done, total, failed });
    batch.stopBtn.hidden = !batch.active;
    batch.retryBtn.hidden = batch.active || !batch.rows.some(retryable);
    const finished = !batch.active;
    batch.card.classList.toggle("finished", finished);
    for (const b of [batch.copyAll, ...batch.exports]) b.disabled = !finished || done + failed === 0;
  }

  const retryable = (r) => r.photo.id && ["error", "stopped"].includes(r.li.dataset.state);

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

  async function captionOne(batch, row) {
    const id = `batch-${batch.id}-${batch.rows.indexOf(row)}-${Date.now()}`;
    batch.current = id;
    row.caption = null;
    row.error = null;
    setRow(row, "running");
    let partial = "";
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
      const out = await invoke("ask_once", { id, model: batch.model, messages, tools: false, onEvent: channel });
      row.caption = out.answer.trim();
      setRow(row, "done");
    } catch (err) {
      const report = err && typeof err === "object" && "message" in err ? err : { kind: "other", message: String(err) };
      if (report.kind === "cancelled") {
        setRow(row, "stopped");
      } else {
        row.error = report.hint ? `${report.message} ${report.hint}` : report.message;
        setRow(row, "error");
      }
    } finally {
      batch.current = null;
    }
  }

  function stop(batch) {
    batch.stopped = true;
    if (batch.current) invoke("stop_chat", { id: batch.current });
  }

  function retry(batch) {
    if (batch.active) return;
    for (const r of batch.rows) if (retryable(r)) setRow(r, "queued");
    run(batch);
  }

  // Rows as the exports and "Copy all" see them: finished rows only, in order.
  function rows(batch) {
    return batch.rows
      .filter((r) => ["done", "error", "stopped"].includes(r.li.dataset.state))
      .map((r) => r.li.dataset.state === "done"
        ? { file: r.photo.name, caption: r.caption }
        : { file: r.photo.name, error: r.error || I18n.t("batch.state.stopped") });
  }

  function rowsText(batch) {
    return rows(batch).map((r) => `${r.file}: ${r.caption !== undefined ? r.caption : I18n.t("batch.errorPrefix") + r.error}`).join("\n");
  }

  async function copy(text) {
    try {
      await invoke("copy_text", { text });
    } catch (err) {
      console.warn(err);
    }
  }

  async function exportRows(batch, format) {
    batch.status.textContent = "";
    try {
      const path = await invoke("export_captions", { format, rows: rows(batch) });
      if (path) batch.status.textContent = I18n.t("batch.saved", { path });
    } catch (err) {
      batch.status.textContent = (err && err.message) || String(err);
    }
  }

  function stopAll() {
    for (const b of batches) stop(b);
    batches.clear();
  }

  // Re-translate the parts that carry numbers (the rest follow data-i18n).
  function relabel() {
    for (const b of batches) {
      update(b);
      for (const r of b.rows) r.copyOne.setAttribute("aria-label", I18n.t("batch.copyOne", { name: r.photo.name }));
    }
  }

  return { start, stopAll, relabel };
})();
window.Batch = Batch;
