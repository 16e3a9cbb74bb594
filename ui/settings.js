// @ts-check
// Settings: the server in use and the others (servers), options per model, the language; and what the app says
// about itself (`app_info`), which they change. Saving reconnects; a new language re-labels the whole window.

import { renderAttachments } from "./attachments.js";
import * as Batch from "./batch.js";
import { isStreaming, updateTraceSummary } from "./chat.js";
import { $, button, find } from "./dom.js";
import { reportText, toReport } from "./errors.js";
import { I18n } from "./i18n.js";
import { openedConversation, refreshSidebar, reloadConversation, updateEarlier } from "./sidebar.js";
import { checkStatus, fillModels, forgetConnection, isConnected, serverModels } from "./status.js";

/** @typedef {import("./types.js").AppInfo} AppInfo */
/** @typedef {import("./types.js").Lang} Lang */
/** @typedef {import("./types.js").ModelOptions} ModelOptions */
/** @typedef {import("./types.js").ServerView} ServerView */
/** @typedef {import("./types.js").BackendStatus} BackendStatus */

const { invoke } = window.__TAURI__.core;

/** @type {AppInfo} */
let info;  // from app_info: read at start-up, again after each change of settings

/** What the app said about itself last (language, server in use, model chosen). */
export const appInfo = () => info;

/** Reads `app_info` again. */
export async function loadAppInfo() {
  info = await invoke("app_info");
  return info;
}

export function updateLangToggle() {
  $("lang-toggle").textContent = I18n.t("lang.other");
}

/** @param {Lang} lang */
export async function applyLanguage(lang) {
  await loadAppInfo();
  I18n.lang = lang;
  I18n.apply();
  updateLangToggle();
  updateEarlier();
  document.querySelectorAll("details.trace").forEach(updateTraceSummary);
  Batch.relabel();
  renderAttachments();
  // Answers carry labels of their own (code blocks' Copy): show the open conversation again.
  if (openedConversation() && !isStreaming()) reloadConversation();
  refreshSidebar();
  if (isConnected()) checkStatus(); else if (serverModels()) fillModels();
}

// ---------- servers (in Settings) ----------

async function renderServers() {
  /** @type {ServerView[]} */
  const servers = await invoke("list_servers");
  const list = $("server-list");
  list.replaceChildren();
  for (const sv of servers) {
    const li = document.createElement("li");
    li.className = "server";
    li.dataset.id = sv.id;
    const label = document.createElement("label");
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "default-server";
    radio.checked = sv.default;
    radio.setAttribute("aria-label", I18n.t("servers.use", { name: sv.name }));
    radio.addEventListener("change", async () => {
      await invoke("set_default_server", { id: sv.id });
      $("host-input").value = (await loadAppInfo()).host_setting || "";
      forgetConnection();
      checkStatus();
    });
    const name = document.createElement("strong");
    name.textContent = sv.name;
    const meta = document.createElement("span");
    meta.className = "hint";
    meta.textContent = ` · ${I18n.t("servers.kind." + sv.kind)} · ${sv.address}${sv.has_api_key ? " · " + I18n.t("servers.hasKey") : ""}`;
    label.append(radio, " ", name, meta);
    const test = button("ghost small", I18n.t("servers.test"));
    const result = document.createElement("div");
    result.className = "server-result hint";
    result.setAttribute("role", "status");
    test.addEventListener("click", async () => {
      result.textContent = I18n.t("servers.testing");
      try {
        /** @type {BackendStatus} */
        const st = await invoke("test_server", { id: sv.id });
        result.textContent = I18n.t("servers.ok", { count: st.models.length });
      } catch (err) {
        result.textContent = reportText(err);
      }
    });
    const remove = button("ghost small danger-text", I18n.t("servers.remove"));
    remove.hidden = servers.length <= 1;
    remove.addEventListener("click", async () => {
      try {
        await invoke("remove_server", { id: sv.id });
        renderServers();
        forgetConnection();
        checkStatus();
      } catch (err) {
        $("settings-error").textContent = toReport(err).message;
      }
    });
    li.append(label, test, remove, result);
    if (sv.insecure) {
      const warn = document.createElement("div");
      warn.className = "server-warning";
      warn.textContent = "⚠ " + I18n.t("servers.insecure");
      li.append(warn);
    }
    list.append(li);
  }
}

export async function addServer() {
  $("settings-error").textContent = "";
  try {
    await invoke("add_server", {
      name: $("server-name").value,
      kind: $("server-kind").value,
      baseUrl: $("server-url").value,
      apiKey: $("server-key").value || null,
      makeDefault: true,
    });
    for (const id of /** @type {const} */ (["server-name", "server-url", "server-key"])) $(id).value = "";
    $("add-server").open = false;
    $("host-input").value = (await loadAppInfo()).host_setting || "";
    await renderServers();
    forgetConnection();
    checkStatus();
  } catch (err) {
    $("settings-error").textContent = reportText(err);
  }
}

async function loadModelOptions() {
  const model = $("model-select").value;
  $("opts-title").textContent = I18n.t("opts.title", { model: model || "—" });
  find(document, ".model-opts").hidden = !model;
  if (!model) return;
  /** @type {ModelOptions} */
  const o = await invoke("model_options", { model });
  $("opt-system").value = o.system_prompt || "";
  $("opt-temperature").value = String(o.temperature ?? "");
  $("opt-ctx").value = String(o.num_ctx ?? "");
  $("opt-keep").value = o.keep_alive || "";
}

async function saveModelOptions() {
  const model = $("model-select").value;
  if (!model) return;
  /** @param {"opt-temperature" | "opt-ctx"} id */
  const num = (id) => ($(id).value.trim() === "" ? null : Number($(id).value));
  await invoke("set_model_options", {
    model,
    options: {
      system_prompt: $("opt-system").value || null,
      temperature: num("opt-temperature"),
      num_ctx: num("opt-ctx"),
      keep_alive: $("opt-keep").value || null,
    },
  });
}

export function openSettings() {
  renderServers();
  loadModelOptions();
  $("host-input").value = info.host_setting || "";
  const source = info.host_source === "OLLAMA_HOST" ? I18n.t("settings.hostEnv") : I18n.t("settings.hostDefault");
  const fallback = info.host_source === "settings" ? "" : info.host;
  $("host-note").textContent = fallback ? I18n.t("settings.hostNote", { source, host: fallback }) : "";
  $("lang-select").value = info.language_setting || "";
  $("hide-cloud").checked = info.hide_cloud_models;
  $("settings-error").textContent = "";
  $("settings").showModal();
  $("host-input").focus();
}

/** @param {SubmitEvent} ev */
export async function saveSettings(ev) {
  ev.preventDefault();
  try {
    await saveModelOptions();
    await invoke("set_host", { host: $("host-input").value });
    const lang = await invoke("set_language", { language: $("lang-select").value || null });
    const hide = $("hide-cloud").checked;
    if (hide !== info.hide_cloud_models) {
      await invoke("set_hide_cloud_models", { hide });
      info.hide_cloud_models = hide;
    }
    $("settings").close();
    forgetConnection();
    await applyLanguage(lang);
    checkStatus();
  } catch (err) {
    $("settings-error").textContent = toReport(err).message;
  }
}
