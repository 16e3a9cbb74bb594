// @ts-check
// The Models dialog: installed models with their details, delete (confirmed), and pulling a model
// with a progress bar (size, speed, time left) that can be cancelled. All the work is in Rust
// (`pull_model`, …); this file shows it. `onChange()` re-reads the server's model list.

import { $, button, el, humanSize } from "./dom.js";
import { reportText, toReport } from "./errors.js";
import { I18n } from "./i18n.js";

/** @typedef {import("./types.js").ModelInfo} ModelInfo */
/** @typedef {import("./types.js").ModelDetails} ModelDetails */
/** @typedef {import("./types.js").Offer} Offer */
/** @typedef {import("./types.js").PullProgress} PullProgress */

const { invoke, Channel } = window.__TAURI__.core;
/** @type {() => Promise<void> | void} */
let onChange = () => {};
/** @type {string | null} */
let pulling = null;  // the model being pulled

/** @param {number} secs */
function humanDuration(secs) {
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return I18n.t("time.seconds", { s });
  const m = Math.floor(s / 60);
  if (m < 60) return I18n.t("time.minutes", { m, s: s % 60 });
  return I18n.t("time.hours", { h: Math.floor(m / 60), m: m % 60 });
}

/** @param {unknown} err */
function showError(err) {
  $("models-error").textContent = reportText(err);
}

// ---------- installed ----------

/** @param {ModelInfo[]} models */
function renderInstalled(models) {
  const list = $("models-list");
  list.replaceChildren();
  for (const m of models) {
    const li = el("li", "model-row");
    li.dataset.name = m.name;
    const caps = m.capabilities.filter((c) => c !== "completion").map((c) => I18n.t("cap." + c));
    const main = el("div", "model-main");
    const size = m.size && !m.cloud ? ` · ${humanSize(m.size)}` : "";
    main.append(el("strong", "", m.name));
    if (m.cloud) {
      // Where it runs, in words: a cloud model's text and photos leave the user's server.
      const badge = el("span", "badge cloud", `☁ ${I18n.t("cloud.badge")}`);
      badge.title = I18n.t("cloud.where", { host: m.remote_host || "ollama.com" });
      main.append(badge);
    }
    main.append(el("span", "hint", `${size}${caps.length ? " · " + caps.join(", ") : ""}`));
    const details = button("ghost small", I18n.t("models.details"));
    details.setAttribute("aria-expanded", "false");
    details.addEventListener("click", () => toggleDetails(li, m.name, details));
    const del = button("ghost small danger-text", I18n.t("models.delete"));
    del.setAttribute("aria-label", I18n.t("models.deleteLabel", { name: m.name }));
    del.addEventListener("click", () => confirmDelete(li, m.name));
    li.append(main, details, del);
    list.append(li);
  }
  $("models-none").hidden = models.length > 0;
}

/**
 * @param {HTMLElement} li
 * @param {string} name
 * @param {HTMLButtonElement} button
 */
async function toggleDetails(li, name, button) {
  const open = li.querySelector(".model-details");
  if (open) { open.remove(); button.setAttribute("aria-expanded", "false"); return; }
  try {
    /** @type {ModelDetails} */
    const d = await invoke("model_details", { model: name });
    const dl = el("dl", "model-details");
    /**
     * @param {string} key
     * @param {unknown} value
     */
    const row = (key, value) => {
      if (value === null || value === undefined || value === "") return;
      dl.append(el("dt", "", I18n.t(key)), el("dd", "", String(value)));
    };
    row("models.family", d.family);
    row("models.parameters", d.parameter_size);
    row("models.quantization", d.quantization);
    row("models.context", d.context_length ? d.context_length.toLocaleString() : null);
    row("models.capabilities", d.capabilities.map((c) => I18n.t("cap." + c)).join(", "));
    row("models.imageSize", d.vision_image_size ? `${d.vision_image_size} px` : null);
    row("models.size", d.size ? humanSize(d.size) : null);
    li.append(dl);
    button.setAttribute("aria-expanded", "true");
  } catch (err) {
    showError(err);
  }
}

/**
 * @param {HTMLElement} li
 * @param {string} name
 */
function confirmDelete(li, name) {
  if (li.querySelector(".confirm")) return;
  const box = el("div", "confirm");
  box.append(el("span", "", I18n.t("models.deleteConfirm", { name })));
  const yes = button("danger small", I18n.t("models.delete"));
  const no = button("ghost small", I18n.t("settings.cancel"));
  no.addEventListener("click", () => box.remove());
  yes.addEventListener("click", async () => {
    try {
      await invoke("delete_model", { model: name });
      li.remove();
      await onChange();
    } catch (err) {
      showError(err);
    }
  });
  box.append(yes, no);
  li.append(box);
  no.focus();
}

// ---------- pulling ----------

/** @param {ModelInfo[]} installed */
async function renderOffers(installed) {
  /** @type {Offer[]} */
  const offers = await invoke("model_catalogue");
  const box = $("model-offers");
  box.replaceChildren();
  for (const o of offers) {
    const have = installed.some((m) => m.name === o.name);
    const b = button(o.recommended ? "primary small" : "ghost small", o.summary);
    b.dataset.model = o.name;
    b.disabled = have || pulling !== null;
    if (have) b.title = I18n.t("models.installed");
    b.addEventListener("click", () => pull(o.name));
    box.append(b);
  }
}

/** @param {string} name */
async function pull(name) {
  name = name.trim();
  if (!name || pulling) return;
  pulling = name;
  $("models-error").textContent = "";
  const box = $("pull-progress");
  box.hidden = false;
  $("pull-title").textContent = I18n.t("models.pulling", { name });
  $("pull-bar").removeAttribute("value");
  $("pull-numbers").textContent = "";
  $("pull-cancel").hidden = false;
  /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll("#model-offers button, #pull-form button")).forEach((b) => { b.disabled = true; });
  /** @type {TauriChannel<PullProgress>} */
  const channel = new Channel();
  channel.onmessage = (p) => {
    $("pull-phase").textContent = I18n.t("phase." + p.phase);
    if (p.fraction !== null && p.fraction !== undefined) $("pull-bar").value = p.fraction;
    const parts = [];
    if (p.total) parts.push(`${humanSize(p.completed)} / ${humanSize(p.total)}`);
    if (p.bytes_per_second) parts.push(`${humanSize(p.bytes_per_second)}/s`);
    if (p.eta_seconds !== null && p.eta_seconds !== undefined) parts.push(I18n.t("models.left", { time: humanDuration(p.eta_seconds) }));
    $("pull-numbers").textContent = parts.join(" · ");
  };
  try {
    await invoke("pull_model", { model: name, onProgress: channel });
    $("pull-bar").value = 1;
    $("pull-phase").textContent = I18n.t("phase.done");
    $("pull-title").textContent = I18n.t("models.pulled", { name });
    await onChange();
  } catch (err) {
    const r = toReport(err);
    $("pull-phase").textContent = r.kind === "cancelled" ? I18n.t("models.cancelled") : "";
    if (r.kind !== "cancelled") showError(r);
  } finally {
    $("pull-cancel").hidden = true;
    pulling = null;
    /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll("#pull-form button")).forEach((b) => { b.disabled = false; });
    refresh();
  }
}

function cancel() {
  if (pulling) invoke("cancel_pull", { model: pulling });
}

// ---------- the dialog ----------

/** @type {ModelInfo[]} */
let current = [];
/** @param {ModelInfo[]} [models] */
function refresh(models) {
  if (models) current = models;
  renderInstalled(current);
  renderOffers(current).catch(showError);
}

/**
 * @param {ModelInfo[]} models
 * @param {string} [pullName] a model to start pulling
 */
export function open(models, pullName) {
  $("models-error").textContent = "";
  refresh(models);
  const dialog = $("models-dialog");
  if (!dialog.open) dialog.showModal();
  if (pullName) pull(pullName);
}

/** @param {{ onChange: () => Promise<void> | void }} options */
export function init(options) {
  onChange = options.onChange;
  $("pull-form").addEventListener("submit", (e) => { e.preventDefault(); pull($("pull-name").value); });
  $("pull-cancel").addEventListener("click", cancel);
  $("models-close").addEventListener("click", () => $("models-dialog").close());
}

// Called with each new model list (while the dialog is open it re-renders).
/** @param {ModelInfo[]} models */
export function update(models) {
  current = models;
  if ($("models-dialog").open) refresh(models);
}
