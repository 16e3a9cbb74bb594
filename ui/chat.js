// @ts-check
// The conversation in the window: messages as elements (a question, an answer with its Markdown, tool trace,
// notes and actions), the composer, and one turn streamed from Rust into the page. The store saves as it
// streams; this only shows. The view stays at the end while the user is there (see `pin`).

import { clearAttachments, isClip, player, readyPhotos, refuseIfBlind, refuseIfDeaf, thumbsFor } from "./attachments.js";
import { $, button, find, findAll } from "./dom.js";
import { toReport } from "./errors.js";
import { I18n } from "./i18n.js";
import * as Markdown from "./markdown.js";
import {
  fillEarlier, openedConversation, refreshSidebar, reloadConversation, setOpenedConversation, showConversationHead,
  switchVersion,
} from "./sidebar.js";
import { checkStatus, serverModels } from "./status.js";

/** @typedef {import("./types.js").ViewMessage} ViewMessage */
/** @typedef {import("./types.js").ImageRef} ImageRef */
/** @typedef {import("./types.js").Step} Step */
/** @typedef {import("./types.js").Turn} Turn */
/** @typedef {import("./types.js").TurnEvent} TurnEvent */
/** @typedef {import("./types.js").ModelInfo} ModelInfo */
/** @typedef {import("./types.js").AnswerStats} AnswerStats */

const { invoke, Channel } = window.__TAURI__.core;

/** @type {{ id: string, wrap: HTMLElement } | null} */
let streaming = null;  // the answer being streamed
let toolsOn = true;    // time tools for this conversation

// What each conversation chose, for this session: thinking, photo detail, and whether sending to a cloud model
// was confirmed. A new conversation's choices move to its id when it is saved.
/** @typedef {{ think: string, detail: string, cloudOk: boolean }} Choices */
/** @type {Map<number | "new", Choices>} */
const perConversation = new Map();
const choiceKey = () => openedConversation()?.id ?? "new";

/** This conversation's choices. @returns {Choices} */
function choices() {
  const key = choiceKey();
  let c = perConversation.get(key);
  if (!c) {
    c = { think: "auto", detail: "standard", cloudOk: false };
    perConversation.set(key, c);
  }
  return c;
}

/** A new conversation starts with the defaults. */
export function resetChoices() {
  perConversation.delete("new");
  showChoices();
}

/** The model picked now, as the server lists it. @returns {ModelInfo | undefined} */
const pickedModel = () => serverModels().find((m) => m.name === $("model-select").value);

// Gemma 4 treats every level as "on": only models that may distinguish them are offered the levels.
/** @param {ModelInfo} m */
const takesThinkLevels = (m) => m.family !== "gemma4" && !/gemma-?4/i.test(m.name);

/**
 * Shows the Think and Detail choices where the picked model has them (never a Think control for a model that
 * does not think), set to this conversation's choices.
 */
export function showChoices() {
  const m = pickedModel();
  const think = $("think-select");
  const thinks = !!m && m.capabilities.includes("thinking");
  think.hidden = !thinks;
  for (const o of findAll(think, "option.level")) o.hidden = !m || !takesThinkLevels(m);
  const c = choices();
  if (m && !takesThinkLevels(m) && !["auto", "off", "on"].includes(c.think)) c.think = "on";
  think.value = c.think;
  const detail = $("detail-select");
  detail.hidden = !m || !m.image_detail;
  detail.value = c.detail;
}

/** @param {string} value */
export function setThink(value) { choices().think = value; }
/** @param {string} value */
export function setDetail(value) { choices().detail = value; }

/** What goes to the model: a truthy `think` only to a model that thinks. */
function thinkArg() {
  const m = pickedModel();
  return m && m.capabilities.includes("thinking") ? choices().think : "auto";
}

/**
 * Before the first message of a conversation goes to a cloud model, the user says yes (once per conversation).
 * @param {string} model
 * @returns {Promise<boolean>}
 */
async function cloudConfirmed(model) {
  const m = serverModels().find((x) => x.name === model);
  if (!m || !m.cloud || choices().cloudOk) return true;
  const dialog = $("cloud-confirm");
  $("cloud-confirm-text").textContent =
    I18n.t("cloud.confirmText", { model, host: m.remote_host || "ollama.com" });
  dialog.returnValue = "";
  dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
  const ok = dialog.returnValue === "send";
  if (ok) choices().cloudOk = true;
  return ok;
}

/** Whether an answer is arriving. */
export const isStreaming = () => streaming !== null;

/** Whether the time tools are on for the next message. */
export const toolsEnabled = () => toolsOn;

function nearBottom() {
  const m = $("messages");
  return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
}

/** @param {boolean} [force] scroll even when the user has scrolled up */
export function scrollDown(force) {
  const m = $("messages");
  if (force || nearBottom()) {
    m.scrollTop = m.scrollHeight;
    pin.on = true;
  }
}

// While the user is at the end, the end stays in view when messages grow after they are shown (an answer
// arriving, code highlighting and maths that load late); scrolling up lets go.
const pin = { on: true };
const grown = new ResizeObserver(() => { if (pin.on) scrollDown(true); });

/** A message leaves the page: it no longer keeps the view at the end when it grows. @param {Element} el */
export function dropMessage(el) {
  grown.unobserve(el);
  el.remove();
}

export function onMessagesScroll() {
  pin.on = nearBottom();
  fillEarlier();
}

const newRunId = () => (crypto.randomUUID && crypto.randomUUID()) || String(Date.now() + Math.random());

/**
 * A message element, not yet in the page.
 * @param {string} role
 * @param {string} text
 * @param {string | null} [model]
 */
function newMessage(role, text, model) {
  const wrap = document.createElement("article");
  wrap.className = `msg ${role}`;
  const who = document.createElement("div");
  who.className = "who";
  if (role === "user") {
    who.dataset.i18n = "chat.you";  // re-translated when the language changes
    who.textContent = I18n.t("chat.you");
  } else {
    who.textContent = model || $("model-select").value || "Gemma";
  }
  const body = document.createElement("div");
  body.className = role === "user" ? "body" : "body md";
  body.textContent = text;
  const actions = document.createElement("div");
  actions.className = "actions";
  wrap.append(who, body, actions);
  grown.observe(wrap);
  return wrap;
}

/**
 * @param {string} role
 * @param {string} text
 * @param {string | null} [model]
 */
export function addMessage(role, text, model) {
  $("empty").hidden = true;
  const wrap = newMessage(role, text, model);
  $("messages").append(wrap);
  pin.on = true;  // scrolled to by the ResizeObserver after the next layout: no layout forced here
  return wrap;
}

/**
 * A notice under a message: a `note` (stopped, incomplete) or an `error`.
 * @param {HTMLElement} wrap
 * @param {string} cls
 * @param {string} text
 * @param {string | null} [hint]
 */
export function addNote(wrap, cls, text, hint) {
  const note = document.createElement("div");
  note.className = cls;
  note.setAttribute("role", cls === "error" ? "alert" : "status");
  const main = document.createElement("div");
  main.textContent = text;
  note.append(main);
  if (hint) {
    const h = document.createElement("div");
    h.className = "hint";
    h.textContent = hint;
    note.append(h);
  }
  find(wrap, ".actions").before(note);
  if (wrap.isConnected) scrollDown();
}

// A saved message as the chat view shows it (a reopened conversation), not yet in the page.
/** @param {ViewMessage} m */
export function messageElement(m) {
  const wrap = newMessage(m.role, "", m.model);
  const body = find(wrap, ".body");
  if (m.role === "user") {
    body.textContent = m.content;
    if (m.images.length) body.before(storedThumbs(m.images));
  } else {
    Markdown.renderInto(body, m.html || "");
    if (m.thinking_html) {
      const panel = thinkingPanel(wrap, false);
      Markdown.renderInto(panel.body, m.thinking_html);
      setThoughtSummary(panel.el, m.stats?.thinking_ms ?? null);
      panel.copy.onclick = () => invoke("copy_text", { text: m.thinking || "" });
    }
    for (const step of m.trace || []) addStep(wrap, step);
    if (m.status === "incomplete") addNote(wrap, "note", I18n.t("chat.savedIncomplete"));
    if (m.status === "error") addNote(wrap, "error", m.error || "");
    if (m.stats && m.stats.done_reason === "length") addNote(wrap, "note", I18n.t("chat.incomplete"));
  }
  setActions(wrap, m);
  return wrap;
}

// Photos of a saved message, loaded from the store (they were sent at the model's size).
/** @param {ImageRef[]} images */
function storedThumbs(images) {
  const row = document.createElement("div");
  row.className = "sent-thumbs";
  for (const i of images) {
    if (i.mime.startsWith("audio/")) {
      const audio = player("", I18n.t("attach.clip"));
      invoke("image_data", { sha256: i.sha256 }).then((uri) => { audio.src = uri; }, () => {});
      row.append(audio);
      continue;
    }
    const img = document.createElement("img");
    img.alt = `${i.width}×${i.height}`;
    img.width = Math.round((96 * i.width) / Math.max(1, i.height));
    img.height = 96;
    invoke("image_data", { sha256: i.sha256 }).then((uri) => { img.src = uri; }, () => { img.alt = "⚠"; });
    row.append(img);
  }
  return row;
}

// Under a saved message: versions ‹ 2/3 ›, and Copy / Regenerate (answers) or Edit (questions).
/**
 * @param {HTMLElement} wrap
 * @param {ViewMessage} m
 */
function setActions(wrap, m) {
  wrap.dataset.id = String(m.id);
  const bar = find(wrap, ".actions");
  bar.replaceChildren();
  /**
   * @param {string} key
   * @param {() => void} onClick
   * @param {string} [label]
   */
  const btn = (key, onClick, label) => {
    const b = button("ghost small", I18n.t(key));
    b.dataset.i18n = key;
    if (label) b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    bar.append(b);
    return b;
  };
  const versions = m.versions || [m.id];
  if (versions.length > 1) {
    const i = versions.indexOf(m.id);
    const prev = btn("ver.prev", () => switchVersion(versions[i - 1]), I18n.t("ver.prevLabel"));
    prev.classList.add("ver");
    prev.disabled = i <= 0;
    const count = document.createElement("span");
    count.className = "ver-count hint";
    count.textContent = `${i + 1}/${versions.length}`;
    bar.append(count);
    const next = btn("ver.next", () => switchVersion(versions[i + 1]), I18n.t("ver.nextLabel"));
    next.classList.add("ver");
    next.disabled = i >= versions.length - 1;
  }
  if (m.role === "assistant") {
    btn("msg.copy", () => invoke("copy_text", { text: m.content }));
    btn("msg.regenerate", () => regenerate(wrap, m));
  } else if (m.role === "user") {
    btn("msg.edit", () => startEdit(wrap, m));
  }
}

// How full the context is after the last answer (the server's token counts against the length it runs the model
// with), and a warning with a way out before Ollama starts dropping the oldest messages.
const CONTEXT_WARN = 0.8;

/**
 * @param {AnswerStats | null | undefined} stats the last answer's
 * @param {string | null} model
 */
export async function showContext(stats, model) {
  const meter = $("context-meter");
  const used = (stats?.prompt_tokens || 0) + (stats?.completion_tokens || 0);
  /** @type {number | null} */
  const total = used && model ? await invoke("context_window", { model }).catch(() => null) : null;
  if (!used || !total || !model) { meter.hidden = true; return; }
  const share = Math.min(1, used / total);
  const pct = Math.round(share * 100);
  const full = share >= CONTEXT_WARN;
  meter.hidden = false;
  meter.classList.toggle("warn", full);
  $("context-bar").value = share;
  const fmt = (/** @type {number} */ n) => n.toLocaleString(I18n.lang === "zh" ? "zh-CN" : "en-US");
  $("context-text").textContent = I18n.t(full ? "ctx.full" : "ctx.used", { used: fmt(used), total: fmt(total), pct });
  const raise = $("context-raise");
  const info = serverModels().find((m) => m.name === model);
  const most = info?.context_length || Infinity;
  const next = Math.min(most, total * 2);
  raise.hidden = !full || next <= total || info?.cloud === true;
  raise.textContent = I18n.t("ctx.raise", { n: fmt(next) });
  raise.onclick = async () => {
    const options = await invoke("model_options", { model });
    await invoke("set_model_options", { model, options: { ...options, num_ctx: next } });
    raise.hidden = true;
    meter.classList.remove("warn");
    $("context-text").textContent = I18n.t("ctx.raised", { model, n: fmt(next) });
  };
}

/** @param {boolean} on */
function setStreaming(on) {
  $("send").hidden = on;
  $("stop").hidden = !on;
  if (!on) $("prompt").focus();
}

// A thinking model's thinking, above its answer: open while it streams ("Thinking…"), closed once the answer
// starts ("Thought for 12 s"), reopened with a click. Rendered as safe Markdown, like the answer.
/**
 * @param {HTMLElement} wrap
 * @param {boolean} live
 * @returns {{ el: HTMLDetailsElement, body: HTMLElement, copy: HTMLButtonElement }}
 */
function thinkingPanel(wrap, live) {
  const el = document.createElement("details");
  el.className = live ? "thinking live" : "thinking";
  el.open = live;
  const summary = document.createElement("summary");
  summary.textContent = I18n.t("think.live");
  const body = document.createElement("div");
  body.className = "thinking-body md";
  const copy = button("ghost small", I18n.t("think.copy"));
  copy.dataset.i18n = "think.copy";
  el.append(summary, body, copy);
  find(wrap, ".body").before(el);
  return { el, body, copy: /** @type {HTMLButtonElement} */ (copy) };
}

/**
 * @param {HTMLDetailsElement} el
 * @param {number | null} ms how long the model thought, when known
 */
function setThoughtSummary(el, ms) {
  el.classList.remove("live");
  find(el, "summary").textContent = ms === null
    ? I18n.t("think.thought")
    : I18n.t("think.thoughtFor", { secs: Math.max(1, Math.round(ms / 1000)) });
}

// The tool trace under an answer: collapsed, one line per tool call, expandable for details.
/**
 * @param {HTMLElement} wrap
 * @param {Step} step
 */
function addStep(wrap, step) {
  let trace = wrap.querySelector("details.trace");
  if (!trace) {
    trace = document.createElement("details");
    trace.className = "trace";
    trace.append(document.createElement("summary"), document.createElement("ol"));
    find(wrap, ".body").after(trace);
  }
  const li = document.createElement("li");
  const call = document.createElement("div");
  call.className = "call";
  const name = document.createElement("code");
  name.textContent = step.tool;
  const input = document.createElement("code");
  input.className = "input";
  input.textContent = typeof step.input === "string" ? step.input : JSON.stringify(step.input);
  call.append(name, " ", input);
  const obs = document.createElement("div");
  obs.className = "observation";
  obs.textContent = step.observation;
  li.append(call, obs);
  if (step.thought) {
    const th = document.createElement("div");
    th.className = "thought";
    th.textContent = step.thought;
    li.prepend(th);
  }
  find(trace, "ol").append(li);
  updateTraceSummary(trace);
  if (wrap.isConnected) scrollDown();
}

/** @param {Element} trace */
export function updateTraceSummary(trace) {
  const n = trace.querySelectorAll("li").length;
  find(trace, "summary").textContent =
    n === 1 ? I18n.t("trace.summary1") : I18n.t("trace.summary", { count: n });
}

/** @param {boolean} on */
export function setToolsToggle(on) {
  toolsOn = on;
  $("tools-toggle").setAttribute("aria-pressed", String(on));
}

// Stream one turn of `command` (chat_send / chat_regenerate / chat_edit) into the answer element
// `wrap`. The store saves as it streams; this only shows. Resolves with the saved turn or null.
/**
 * @param {"chat_send" | "chat_regenerate" | "chat_edit"} command
 * @param {Record<string, unknown>} args
 * @param {HTMLElement} wrap
 * @param {HTMLElement | null} userWrap
 * @param {number | "new"} [choicesOf] whose choices these are (a new conversation's move to its id when saved)
 * @returns {Promise<Turn | null>}
 */
async function streamTurn(command, args, wrap, userWrap, choicesOf = choiceKey()) {
  const body = find(wrap, ".body");
  wrap.classList.add("streaming");
  const md = Markdown.streamer(body, { onRender: () => scrollDown() });
  const id = newRunId();
  streaming = { id, wrap };
  setStreaming(true);
  let partial = "";
  /**
   * The thinking panel, once thinking arrives (a holder: the channel's callback sets it).
   * @type {{ now: { panel: ReturnType<typeof thinkingPanel>, md: ReturnType<typeof Markdown.streamer>, text: string, since: number, done: boolean } | null }}
   */
  const live = { now: null };
  const endThinking = () => {
    const t = live.now;
    if (!t || t.done) return;
    t.done = true;
    t.panel.el.open = false;
    setThoughtSummary(t.panel.el, Date.now() - t.since);
  };
  /** @type {TauriChannel<TurnEvent>} */
  const channel = new Channel();
  channel.onmessage = (msg) => {
    if (msg.event === "started") {
      const d = msg.data;
      const c = perConversation.get(choicesOf);
      if (choicesOf === "new" && c) {
        perConversation.set(d.conversation.id, c);
        perConversation.delete("new");
      }
      setOpenedConversation(d.conversation);
      wrap.dataset.id = String(d.answer_id);
      if (userWrap && d.user) setActions(userWrap, d.user);
      showConversationHead();
      refreshSidebar();
    } else if (msg.event === "thinking") {
      let t = live.now;
      if (!t) {
        const panel = thinkingPanel(wrap, true);
        const md = Markdown.streamer(panel.body, { onRender: () => scrollDown() });
        const fresh = { panel, md, text: "", since: Date.now(), done: false };
        panel.copy.onclick = () => invoke("copy_text", { text: fresh.text });
        t = live.now = fresh;
      }
      t.text += msg.data.text;
      t.md.update(t.text);
    } else if (msg.event === "delta") {
      endThinking();
      partial += msg.data.text;
      md.update(partial);
    } else if (msg.event === "step") {
      addStep(wrap, msg.data);
    } else if (msg.event === "retract") {
      partial = "";  // that text was the model thinking aloud before a tool call
      md.update("");
    }
  };
  try {
    /** @type {Turn} */
    const turn = await invoke(command, { ...args, id, onEvent: channel });
    await md.finish(turn.answer.content);  // the whole answer, whatever the channel delivered
    const t = live.now;
    if (t) {
      const saved = turn.answer.thinking;
      await t.md.finish(saved || t.text);
      if (saved) t.text = saved;
      endThinking();
    }
    setOpenedConversation(turn.conversation);
    setActions(wrap, turn.answer);
    if (userWrap && turn.user) setActions(userWrap, turn.user);
    const stats = turn.answer.stats || {};
    showContext(stats, turn.answer.model);
    if (stats.done_reason === "length") addNote(wrap, "note", I18n.t("chat.incomplete"));
    if (stats.tokens_per_second) find(wrap, ".who").title = `${stats.tokens_per_second.toFixed(1)} tok/s`;
    return turn;
  } catch (err) {
    const report = toReport(err);
    md.finish(partial);
    if (live.now) { live.now.md.finish(live.now.text); endThinking(); }
    if (report.kind === "cancelled") {
      addNote(wrap, "note stopped", I18n.t("chat.stopped"));
    } else {
      addNote(wrap, "error", report.message, report.hint);
      if (report.kind === "unreachable") checkStatus();
    }
    return null;
  } finally {
    wrap.classList.remove("streaming");
    streaming = null;
    setStreaming(false);
    refreshSidebar();
  }
}

export async function send() {
  const promptEl = $("prompt");
  const photos = readyPhotos();
  let text = promptEl.value;
  if ((!text.trim() && photos.length === 0) || streaming) return;
  const model = $("model-select").value;
  const clips = photos.filter(isClip);
  if (photos.length > clips.length && refuseIfBlind(model)) return;
  if (clips.length && refuseIfDeaf(model)) return;
  if (photos.length && !text.trim()) {
    text = I18n.t(clips.length === photos.length ? "attach.defaultAudioPrompt" : "attach.defaultPrompt");
  }
  if (model && !(await cloudConfirmed(model))) return;  // the text stays in the composer
  promptEl.value = "";
  autoGrow();
  const userWrap = addMessage("user", text);
  if (photos.length) find(userWrap, ".body").before(thumbsFor(photos));
  clearAttachments();
  const wrap = addMessage("assistant", "");
  if (!model) {
    addNote(wrap, "error", I18n.t("model.none"), I18n.t("model.noneHint"));
    return;
  }
  const args = {
    conversation: openedConversation()?.id ?? null,
    text,
    attachments: photos.map((a) => a.id),
    model,
    tools: toolsOn,
    think: thinkArg(),
    detail: choices().detail,
  };
  const started = choiceKey();
  await streamTurn("chat_send", args, wrap, userWrap, started);
}

// Another answer to the same question; the earlier one stays as a version (‹ 1/2 ›).
/**
 * @param {HTMLElement} wrap
 * @param {ViewMessage} m
 */
async function regenerate(wrap, m) {
  if (streaming) return;
  const model = $("model-select").value || m.model || "";
  if (!(await cloudConfirmed(model))) return;
  // What followed this answer belongs to the old version: the view shows the new branch.
  while (wrap.nextElementSibling) wrap.nextElementSibling.remove();
  const fresh = addMessage("assistant", "", model);
  wrap.replaceWith(fresh);
  const turn =
    await streamTurn("chat_regenerate", { answer: m.id, model, tools: toolsOn, think: thinkArg() }, fresh, null);
  if (turn) await reloadConversation();
}

// Edit a question in place, then send it as a new version (the old question and its answers stay).
/**
 * @param {HTMLElement} wrap
 * @param {ViewMessage} m
 */
function startEdit(wrap, m) {
  if (streaming || wrap.querySelector(".edit")) return;
  const body = find(wrap, ".body");
  const box = document.createElement("div");
  box.className = "edit";
  const area = document.createElement("textarea");
  area.value = m.content;
  area.setAttribute("aria-label", I18n.t("msg.editLabel"));
  const save = button("primary small", I18n.t("msg.editSend"));
  const cancel = button("ghost small", I18n.t("settings.cancel"));
  box.append(area, save, cancel);
  body.hidden = true;
  body.after(box);
  area.focus();
  cancel.addEventListener("click", () => { box.remove(); body.hidden = false; });
  area.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.stopPropagation(); cancel.click(); }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); save.click(); }
  });
  save.addEventListener("click", async () => {
    const text = area.value;
    if (!text.trim()) return;
    const model = $("model-select").value;
    if (!(await cloudConfirmed(model))) return;
    while (wrap.nextElementSibling) wrap.nextElementSibling.remove();
    const userWrap = addMessage("user", text);
    const thumbs = wrap.querySelector(".sent-thumbs");
    if (thumbs) find(userWrap, ".body").before(thumbs.cloneNode(true));
    wrap.remove();
    const answer = addMessage("assistant", "", model);
    const args = { message: m.id, text, model, tools: toolsOn, think: thinkArg() };
    const turn = await streamTurn("chat_edit", args, answer, userWrap);
    if (turn) await reloadConversation();
  });
}

export function stop() {
  if (streaming) invoke("stop_chat", { id: streaming.id });
}

/** The composer grows with what is typed, up to 240 px; then it scrolls. */
export function autoGrow() {
  const p = $("prompt");
  p.style.height = "auto";
  p.style.height = Math.min(p.scrollHeight, 240) + "px";
  p.style.overflowY = p.scrollHeight > 240 ? "auto" : "hidden";
}
