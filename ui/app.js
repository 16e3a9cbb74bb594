// @ts-check
// Gemma Desk's window. All network and file work happens in Rust; the page only calls the app's commands and
// renders what comes back. Model output is shown as text, never as HTML. This module starts the window and wires
// its controls; each concern is a module of its own (attachments, status, chat, sidebar, settings, models,
// batch, help, markdown), holding its own state and exporting what the others may call. They import one
// another's functions freely, cycles included: nothing runs when a module is loaded but this start-up, after
// every module is.

import { addAttachments, onPaste } from "./attachments.js";
import {
  autoGrow, isStreaming, onMessagesScroll, send, setDetail, setThink, setToolsToggle, showChoices, stop, toolsEnabled,
} from "./chat.js";
import { $ } from "./dom.js";
import * as Help from "./help.js";
import { I18n } from "./i18n.js";
import * as Models from "./models.js";
import {
  applyLanguage, addServer, loadAppInfo, openSettings, saveSettings, updateLangToggle,
} from "./settings.js";
import {
  askDelete, deleteConversation, exportAll, exportConversation, importAll, newChat, refreshSidebar,
  renameConversation, saveRename, showEarlier, showStorageProblem, stepConversation,
} from "./sidebar.js";
import { checkStatus, isConnected, serverModels } from "./status.js";

/** @typedef {import("./types.js").AttachmentView} AttachmentView */
/** @typedef {import("./types.js").Lang} Lang */

const { invoke } = window.__TAURI__.core;

async function init() {
  const info = await loadAppInfo();
  I18n.lang = info.language;
  I18n.apply();
  updateLangToggle();
  if (info.settings_warning) console.warn(info.settings_warning);
  showStorageProblem(info.storage_problem);
  refreshSidebar();

  $("send").addEventListener("click", send);
  $("attach").addEventListener("click", async () => addAttachments(await invoke("pick_images")));
  $("attach-folder").addEventListener("click", async () => addAttachments(await invoke("pick_folder")));
  window.__TAURI__.event.listen("attachments", (/** @type {{ payload: AttachmentView[] }} */ e) => addAttachments(e.payload));
  document.addEventListener("paste", onPaste);
  $("tools-toggle").addEventListener("click", () => setToolsToggle(!toolsEnabled()));
  $("stop").addEventListener("click", stop);
  $("earlier").addEventListener("click", () => showEarlier());
  $("messages").addEventListener("scroll", onMessagesScroll, { passive: true });
  $("retry").addEventListener("click", checkStatus);
  $("status").addEventListener("click", checkStatus);
  $("new-chat").addEventListener("click", newChat);
  $("search").addEventListener("input", () => refreshSidebar());
  $("conv-rename").addEventListener("click", renameConversation);
  $("rename-form").addEventListener("submit", saveRename);
  $("rename-cancel").addEventListener("click", () => $("rename-dialog").close());
  $("conv-delete").addEventListener("click", askDelete);
  $("confirm-delete").addEventListener("close", deleteConversation);
  $("conv-export-md").addEventListener("click", () => exportConversation("markdown"));
  $("conv-export-json").addEventListener("click", () => exportConversation("json"));
  $("export-all").addEventListener("click", exportAll);
  $("import").addEventListener("click", importAll);
  $("settings-btn").addEventListener("click", openSettings);
  Models.init({ onChange: checkStatus });
  $("models-btn").addEventListener("click", () => Models.open(serverModels()));
  $("open-settings").addEventListener("click", openSettings);
  $("settings-form").addEventListener("submit", saveSettings);
  $("settings-cancel").addEventListener("click", () => $("settings").close());
  $("server-add").addEventListener("click", addServer);
  $("model-select").addEventListener("change", (e) => {
    invoke("set_model", { model: /** @type {HTMLSelectElement} */ (e.target).value || null });
    showChoices();
  });
  $("think-select").addEventListener("change", () => setThink($("think-select").value));
  $("detail-select").addEventListener("change", () => setDetail($("detail-select").value));
  $("lang-toggle").addEventListener("click", async () => {
    /** @type {Lang} */
    const lang = await invoke("set_language", { language: I18n.lang === "zh" ? "en" : "zh" });
    await applyLanguage(lang);
  });
  const prompt = $("prompt");
  prompt.addEventListener("input", autoGrow);
  prompt.addEventListener("keydown", (e) => {
    // Enter sends; Shift+Enter is a new line; Enter that confirms an IME composition (Chinese input) is not a send.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && isStreaming()) { e.preventDefault(); stop(); }
  });
  Help.init({
    newChat,
    focusSearch: () => $("search").focus(),
    previousConversation: () => stepConversation(-1),
    nextConversation: () => stepConversation(1),
    focusPrompt: () => $("prompt").focus(),
    attach: () => $("attach").click(),
    attachFolder: () => $("attach-folder").click(),
    toggleTools: () => $("tools-toggle").click(),
    models: () => $("models-btn").click(),
    settings: openSettings,
    toggleLanguage: () => $("lang-toggle").click(),
    quit: () => invoke("quit"),
  });
  // The first usable screen is up: the app logs how long start-up took (after the frame is painted).
  requestAnimationFrame(() => requestAnimationFrame(() => invoke("ui_ready")));
  // Re-check the connection: often while it is down, now and then while up, and on focus.
  window.addEventListener("focus", () => { if (!isStreaming()) checkStatus(); });
  setInterval(() => { if (!isStreaming() && !isConnected()) checkStatus(); }, 4000);
  setInterval(() => { if (!isStreaming() && isConnected()) checkStatus(); }, 30000);
  await checkStatus();
  prompt.focus();
}

document.addEventListener("DOMContentLoaded", init);

