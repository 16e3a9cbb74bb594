// @ts-check
// The connection to the server in use and the models it has: the status pill in the top bar, the banner when it
// is down, the model picker, and the offer of a model that sees when none does. The one place that asks
// `server_status`, so the rest of the page reads the model list from here.

import { $, humanSize } from "./dom.js";
import { toReport } from "./errors.js";
import { I18n } from "./i18n.js";
import * as Models from "./models.js";
import { showChoices } from "./chat.js";
import { appInfo } from "./settings.js";

/** @typedef {import("./types.js").BackendStatus} BackendStatus */
/** @typedef {import("./types.js").ModelInfo} ModelInfo */
/** @typedef {import("./types.js").Offer} Offer */

const { invoke } = window.__TAURI__.core;

let connected = false;
let checking = false;
/** @type {ModelInfo[]} */
let models = [];  // from server_status

/** Whether the last check reached the server. */
export const isConnected = () => connected;

/** The models the server had at the last check that reached it. */
export const serverModels = () => models;

/** The server changed (Settings): until the next check says otherwise, it is not connected. */
export function forgetConnection() {
  connected = false;
}

export async function checkStatus() {
  if (checking) return;
  checking = true;
  if (!connected) setStatus("checking", I18n.t("status.checking"));
  try {
    /** @type {BackendStatus} */
    const status = await invoke("server_status");
    showConnected(status);
  } catch (err) {
    showUnreachable(err);
  } finally {
    checking = false;
  }
}

/**
 * @param {"checking" | "connected" | "unreachable"} state
 * @param {string} text
 * @param {string} [title]
 */
function setStatus(state, text, title) {
  const el = $("status");
  el.dataset.state = state;
  $("status-text").textContent = text;
  el.title = title || I18n.t("status.recheck");
}

/** @param {BackendStatus} status */
function showConnected(status) {
  connected = true;
  models = status.models;
  const n = status.models.length;
  let text = n === 1 ? I18n.t("status.connected1", { version: status.version })
                     : I18n.t("status.connected", { version: status.version, count: n });
  if (status.kind === "openai" || !status.version) text = I18n.t("status.connectedOpenai", { host: status.host.replace(/^https?:\/\//, ""), count: n });
  const notes = [status.host];
  if (status.insecure) notes.push(I18n.t("servers.insecure"));
  if (status.capabilities_guessed) notes.push(I18n.t("status.guessed"));
  setStatus("connected", text, notes.join("\n"));
  $("status").classList.toggle("insecure", !!status.insecure);
  $("unreachable").hidden = true;
  fillModels();
  Models.update(models);
  offerVisionModel();
}

/** @param {unknown} err */
function showUnreachable(err) {
  connected = false;
  const report = toReport(err);
  setStatus("unreachable", I18n.t("status.unreachable"), report.message);
  $("unreachable-message").textContent = report.message;
  $("unreachable-hint").textContent = report.hint || "";
  $("unreachable").hidden = false;
  $("model-select").disabled = true;
  $("model-select").hidden = models.length === 0;
}

// First run (or no model that sees): offer the model recommended for this machine's memory, with its size and
// what it can do, before anyone drops a photo on a model that cannot see it. A machine too small for one that sees
// is offered the smallest that does.
async function offerVisionModel() {
  const box = $("vision-offer");
  if (!connected || models.some((m) => m.capabilities.includes("vision"))) { box.hidden = true; return; }
  /** @type {Offer[]} */
  const offers = await invoke("model_catalogue");
  /** @param {Offer} o */
  const sees = (o) => o.capabilities.includes("vision");
  const best = offers.find((o) => o.recommended && sees(o)) || offers.find(sees) || offers[0];
  $("vision-offer-text").textContent = I18n.t("models.offer", { summary: best.summary });
  $("vision-offer-pull").textContent = I18n.t("models.offerButton", { name: best.name });
  $("vision-offer-pull").onclick = () => Models.open(models, best.name);
  box.hidden = false;
}

/** @param {ModelInfo} m */
function capsLabel(m) {
  const extra = m.capabilities.filter((c) => c !== "completion").map((c) => I18n.t("cap." + c));
  return extra.length ? " · " + extra.join(", ") : "";
}

/** @param {ModelInfo} m */
function canChat(m) { return m.capabilities.includes("completion"); }

/** Fills the model picker from the last model list, keeping the model chosen where it is still there. */
export function fillModels() {
  const select = $("model-select");
  select.hidden = false;
  const previous = select.value || (appInfo() && appInfo().model) || "";
  select.replaceChildren();
  const hideCloud = !!appInfo()?.hide_cloud_models;
  const shown = models.filter((m) => !(hideCloud && m.cloud));
  for (const m of shown) {
    const opt = document.createElement("option");
    opt.value = m.name;
    // Sizes are unknown over OpenAI-compatible servers (and a cloud model's is only its manifest's).
    const size = m.size && !m.cloud ? " · " + humanSize(m.size) : "";
    opt.textContent = `${m.cloud ? "☁ " : ""}${m.name}${size}${cloudLabel(m)}${capsLabel(m)}`;
    if (m.cloud) opt.title = I18n.t("cloud.where", { host: m.remote_host || "ollama.com" });
    opt.disabled = !canChat(m);
    select.append(opt);
  }
  const usable = shown.filter(canChat);
  if (usable.length === 0) {
    const opt = document.createElement("option");
    opt.value = "";
    opt.textContent = I18n.t("model.none");
    select.append(opt);
    select.value = "";
    select.disabled = true;
    return;
  }
  select.disabled = false;
  const keep = usable.find((m) => m.name === previous);
  // A cloud model is never chosen unasked: text and photos would leave the user's server.
  const local = usable.filter((m) => !m.cloud);
  const gemma = local.find((m) => m.name.startsWith("gemma3"));
  select.value = (keep || gemma || local[0] || usable[0]).name;
  showChoices();
}

/** Where a cloud model runs, in the picker. @param {ModelInfo} m */
export function cloudLabel(m) {
  if (!m.cloud) return "";
  const host = (m.remote_host || "").replace(/^https?:\/\//, "").replace(/:443$/, "") || "ollama.com";
  return ` · ${I18n.t("cloud.badge")}: ${host}`;
}
