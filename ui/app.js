// Gemma Desk's window. All network and file work happens in Rust; this file only calls the
// app's commands and renders what comes back. Model output is shown as text, never as HTML.
"use strict";

const { invoke, Channel } = window.__TAURI__.core;
const $ = (id) => document.getElementById(id);

const app = {
  info: null,          // from app_info
  models: [],          // from server_status
  connected: false,
  checking: false,
  conversation: null,  // the open conversation (saved in Rust's store), null for a new one
  streaming: null,     // {id, wrap}: the answer being streamed
  toolsOn: true,       // time tools for this conversation
  pending: [],         // photos attached to the next message: [{id, name, thumbnail}]
};

// ---------- photos ----------

function addAttachments(views) {
  for (const v of views) {
    if (v.id) app.pending.push(v);
    else app.pending.push({ ...v, failed: true });
  }
  renderAttachments();
}

function renderAttachments() {
  const strip = $("attachments");
  strip.replaceChildren();
  for (const a of app.pending) {
    const fig = document.createElement("figure");
    fig.className = a.failed ? "thumb failed" : "thumb";
    if (a.thumbnail) {
      const img = document.createElement("img");
      img.src = a.thumbnail;  // a data: URI made in Rust
      img.alt = a.name;
      fig.append(img);
    }
    const cap = document.createElement("figcaption");
    cap.textContent = a.failed ? `${a.name}: ${a.error}` : a.name;
    const rm = document.createElement("button");
    rm.type = "button";
    rm.className = "remove";
    rm.textContent = "×";
    rm.setAttribute("aria-label", I18n.t("attach.remove", { name: a.name }));
    rm.addEventListener("click", () => {
      app.pending = app.pending.filter((x) => x !== a);
      if (a.id) invoke("remove_attachment", { id: a.id });
      renderAttachments();
    });
    fig.append(cap, rm);
    strip.append(fig);
  }
  const ok = app.pending.filter((a) => a.id).length;
  if (ok >= 2) {
    // Many photos: caption each on its own rather than asking about all of them at once.
    const all = document.createElement("button");
    all.type = "button";
    all.id = "caption-all";
    all.className = "primary caption-all";
    all.textContent = I18n.t("batch.start", { count: app.pending.length });
    all.title = I18n.t("batch.startTitle");
    all.addEventListener("click", captionAll);
    strip.append(all);
  }
  strip.hidden = app.pending.length === 0;
}

// A photo pasted from the clipboard (a screenshot, an image copied from a browser). When the paste
// event carries image files, their bytes go to Rust to be prepared like a dropped file. WebKitGTK's
// paste events carry no images, so when the clipboard offers nothing the prompt could take, Rust
// reads the system clipboard's image itself. Text pastes are left alone.
async function onPaste(e) {
  const data = e.clipboardData;
  const items = [...((data && data.items) || [])];
  const files = items.filter((i) => i.kind === "file" && i.type.startsWith("image/")).map((i) => i.getAsFile()).filter(Boolean);
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
    const headers = /^[\x20-\x7e]{1,200}$/.test(f.name || "") ? { "x-name": f.name } : {};
    try {
      addAttachments([await invoke("attach_pasted", bytes, { headers })]);
    } catch (err) {
      addAttachments([{ name: f.name || "?", error: toReport(err).message }]);
    }
  }
}

// Images only go to models that see them: say so, and name the ones that do, before sending anything.
function refuseIfBlind(model) {
  const info = app.models.find((m) => m.name === model);
  if (!info || info.capabilities.includes("vision")) return false;
  const seeing = app.models.filter((m) => m.capabilities.includes("vision")).map((m) => m.name);
  const wrap = addMessage("assistant", "");
  wrap.classList.add("refused");
  wrap.querySelector(".body").hidden = true;  // nothing was asked: only the notice
  wrap.querySelector(".who").textContent = "Gemma Desk";
  addNote(wrap, "error", I18n.t("attach.noVision", { model }),
    seeing.length ? I18n.t("attach.noVisionHint", { models: seeing.join(", ") }) : I18n.t("attach.noVisionNone"));
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
  Batch.start({ photos: app.pending, prompt, model, container: $("messages"), onScroll: () => scrollDown() });
  app.pending = [];
  renderAttachments();
  scrollDown(true);
}

function thumbsFor(attachments) {
  const row = document.createElement("div");
  row.className = "sent-thumbs";
  for (const a of attachments) {
    const img = document.createElement("img");
    img.src = a.thumbnail;
    img.alt = a.name;
    img.title = a.name;
    row.append(img);
  }
  return row;
}

// ---------- status and models ----------

async function checkStatus() {
  if (app.checking) return;
  app.checking = true;
  if (!app.connected) setStatus("checking", I18n.t("status.checking"));
  try {
    const status = await invoke("server_status");
    showConnected(status);
  } catch (err) {
    showUnreachable(err);
  } finally {
    app.checking = false;
  }
}

function setStatus(state, text, title) {
  const el = $("status");
  el.dataset.state = state;
  $("status-text").textContent = text;
  el.title = title || I18n.t("status.recheck");
}

function showConnected(status) {
  app.connected = true;
  app.models = status.models;
  app.version = status.version;
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
  Models.update(app.models);
  offerVisionModel();
}

function showUnreachable(err) {
  app.connected = false;
  const report = toReport(err);
  setStatus("unreachable", I18n.t("status.unreachable"), report.message);
  $("unreachable-message").textContent = report.message;
  $("unreachable-hint").textContent = report.hint || "";
  $("unreachable").hidden = false;
  $("model-select").disabled = true;
  $("model-select").hidden = app.models.length === 0;
}

// First run (or no model that sees): offer the recommended Gemma 3, with its size, before anyone
// drops a photo on a model that cannot see it.
async function offerVisionModel() {
  const box = $("vision-offer");
  if (!app.connected || app.models.some((m) => m.capabilities.includes("vision"))) { box.hidden = true; return; }
  const offers = await invoke("model_catalogue");
  const best = offers.find((o) => o.recommended) || offers[0];
  $("vision-offer-text").textContent = I18n.t("models.offer", { summary: best.summary });
  $("vision-offer-pull").textContent = I18n.t("models.offerButton", { name: best.name });
  $("vision-offer-pull").onclick = () => Models.open(app.models, best.name);
  box.hidden = false;
}

function capsLabel(m) {
  const extra = m.capabilities.filter((c) => c !== "completion").map((c) => I18n.t("cap." + c));
  return extra.length ? " · " + extra.join(", ") : "";
}

function canChat(m) { return m.capabilities.includes("completion"); }

function fillModels() {
  const select = $("model-select");
  select.hidden = false;
  const previous = select.value || (app.info && app.info.model) || "";
  select.replaceChildren();
  for (const m of app.models) {
    const opt = document.createElement("option");
    opt.value = m.name;
    // Sizes are unknown over OpenAI-compatible servers.
    opt.textContent = `${m.name}${m.size ? " · " + Models.humanSize(m.size) : ""}${capsLabel(m)}`;
    opt.disabled = !canChat(m);
    select.append(opt);
  }
  const usable = app.models.filter(canChat);
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
  const gemma = usable.find((m) => m.name.startsWith("gemma3"));
  select.value = (keep || gemma || usable[0]).name;
}

// ---------- conversation ----------

function toReport(err) {
  if (err && typeof err === "object" && "message" in err) return err;
  return { kind: "other", message: String(err), hint: null };
}

function nearBottom() {
  const m = $("messages");
  return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
}

function scrollDown(force) {
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

function onMessagesScroll() {
  pin.on = nearBottom();
  fillEarlier();
}

const newRunId = () => (crypto.randomUUID && crypto.randomUUID()) || String(Date.now() + Math.random());

// A message element, not yet in the page.
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

function addMessage(role, text, model) {
  $("empty").hidden = true;
  const wrap = newMessage(role, text, model);
  $("messages").append(wrap);
  pin.on = true;  // scrolled to by the ResizeObserver after the next layout: no layout forced here
  return wrap;
}

function addNote(wrap, cls, text, hint) {
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
  wrap.querySelector(".actions").before(note);
  if (wrap.isConnected) scrollDown();
}

// A saved message as the chat view shows it (a reopened conversation), not yet in the page.
function messageElement(m) {
  const wrap = newMessage(m.role, "", m.model);
  const body = wrap.querySelector(".body");
  if (m.role === "user") {
    body.textContent = m.content;
    if (m.images.length) body.before(storedThumbs(m.images));
  } else {
    Markdown.renderInto(body, m.html || "");
    for (const step of m.trace || []) addStep(wrap, step);
    if (m.status === "incomplete") addNote(wrap, "note", I18n.t("chat.savedIncomplete"));
    if (m.status === "error") addNote(wrap, "error", m.error || "");
    if (m.stats && m.stats.done_reason === "length") addNote(wrap, "note", I18n.t("chat.incomplete"));
  }
  setActions(wrap, m);
  return wrap;
}

// Photos of a saved message, loaded from the store (they were sent at the model's size).
function storedThumbs(images) {
  const row = document.createElement("div");
  row.className = "sent-thumbs";
  for (const i of images) {
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
function setActions(wrap, m) {
  wrap.dataset.id = m.id;
  const bar = wrap.querySelector(".actions");
  bar.replaceChildren();
  const btn = (key, onClick, label) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "ghost small";
    b.textContent = I18n.t(key);
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

function setStreaming(on) {
  $("send").hidden = on;
  $("stop").hidden = !on;
  if (!on) $("prompt").focus();
}

// The tool trace under an answer: collapsed, one line per tool call, expandable for details.
function addStep(wrap, step) {
  let trace = wrap.querySelector("details.trace");
  if (!trace) {
    trace = document.createElement("details");
    trace.className = "trace";
    trace.append(document.createElement("summary"), document.createElement("ol"));
    wrap.querySelector(".body").after(trace);
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
  trace.querySelector("ol").append(li);
  updateTraceSummary(trace);
  if (wrap.isConnected) scrollDown();
}

function updateTraceSummary(trace) {
  const n = trace.querySelectorAll("li").length;
  trace.querySelector("summary").textContent =
    n === 1 ? I18n.t("trace.summary1") : I18n.t("trace.summary", { count: n });
}

function setToolsToggle(on) {
  app.toolsOn = on;
  $("tools-toggle").setAttribute("aria-pressed", String(on));
}

// Stream one turn of `command` (chat_send / chat_regenerate / chat_edit) into the answer element
// `wrap`. The store saves as it streams; this only shows. Resolves with the saved turn or null.
async function streamTurn(command, args, wrap, userWrap) {
  const body = wrap.querySelector(".body");
  wrap.classList.add("streaming");
  const md = Markdown.streamer(body, { onRender: () => scrollDown() });
  const id = newRunId();
  app.streaming = { id, wrap };
  setStreaming(true);
  let partial = "";
  const channel = new Channel();
  channel.onmessage = (msg) => {
    if (msg.event === "started") {
      const d = msg.data;
      app.conversation = d.conversation;
      wrap.dataset.id = d.answer_id;
      if (userWrap && d.user) setActions(userWrap, d.user);
      showConversationHead();
      refreshSidebar();
    } else if (msg.event === "delta") {
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
    const turn = await invoke(command, { ...args, id, onEvent: channel });
    await md.finish(turn.answer.content);  // the whole answer, whatever the channel delivered
    app.conversation = turn.conversation;
    setActions(wrap, turn.answer);
    if (userWrap && turn.user) setActions(userWrap, turn.user);
    const stats = turn.answer.stats || {};
    if (stats.done_reason === "length") addNote(wrap, "note", I18n.t("chat.incomplete"));
    if (stats.tokens_per_second) wrap.querySelector(".who").title = `${stats.tokens_per_second.toFixed(1)} tok/s`;
    return turn;
  } catch (err) {
    const report = toReport(err);
    md.finish(partial);
    if (report.kind === "cancelled") {
      addNote(wrap, "note stopped", I18n.t("chat.stopped"));
    } else {
      addNote(wrap, "error", report.message, report.hint);
      if (report.kind === "unreachable") checkStatus();
    }
    return null;
  } finally {
    wrap.classList.remove("streaming");
    app.streaming = null;
    setStreaming(false);
    refreshSidebar();
  }
}

async function send() {
  const promptEl = $("prompt");
  const photos = app.pending.filter((a) => a.id);
  let text = promptEl.value;
  if ((!text.trim() && photos.length === 0) || app.streaming) return;
  const model = $("model-select").value;
  if (photos.length) {
    if (refuseIfBlind(model)) return;
    if (!text.trim()) text = I18n.t("attach.defaultPrompt");
  }
  promptEl.value = "";
  autoGrow();
  const userWrap = addMessage("user", text);
  if (photos.length) userWrap.querySelector(".body").before(thumbsFor(photos));
  app.pending = [];
  renderAttachments();
  const wrap = addMessage("assistant", "");
  if (!model) {
    addNote(wrap, "error", I18n.t("model.none"), I18n.t("model.noneHint"));
    return;
  }
  const args = {
    conversation: app.conversation ? app.conversation.id : null,
    text,
    attachments: photos.map((a) => a.id),
    model,
    tools: app.toolsOn,
  };
  await streamTurn("chat_send", args, wrap, userWrap);
}

// Another answer to the same question; the earlier one stays as a version (‹ 1/2 ›).
async function regenerate(wrap, m) {
  if (app.streaming) return;
  const model = $("model-select").value || m.model;
  // What followed this answer belongs to the old version: the view shows the new branch.
  while (wrap.nextElementSibling) wrap.nextElementSibling.remove();
  const fresh = addMessage("assistant", "", model);
  wrap.replaceWith(fresh);
  const turn = await streamTurn("chat_regenerate", { answer: m.id, model, tools: app.toolsOn }, fresh, null);
  if (turn) await reloadConversation();
}

// Edit a question in place, then send it as a new version (the old question and its answers stay).
function startEdit(wrap, m) {
  if (app.streaming || wrap.querySelector(".edit")) return;
  const body = wrap.querySelector(".body");
  const box = document.createElement("div");
  box.className = "edit";
  const area = document.createElement("textarea");
  area.value = m.content;
  area.setAttribute("aria-label", I18n.t("msg.editLabel"));
  const save = document.createElement("button");
  save.type = "button";
  save.className = "primary small";
  save.textContent = I18n.t("msg.editSend");
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "ghost small";
  cancel.textContent = I18n.t("settings.cancel");
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
    while (wrap.nextElementSibling) wrap.nextElementSibling.remove();
    const userWrap = addMessage("user", text);
    const thumbs = wrap.querySelector(".sent-thumbs");
    if (thumbs) userWrap.querySelector(".body").before(thumbs.cloneNode(true));
    wrap.remove();
    const answer = addMessage("assistant", "", model);
    const turn = await streamTurn("chat_edit", { message: m.id, text, model, tools: app.toolsOn }, answer, userWrap);
    if (turn) await reloadConversation();
  });
}

function stop() {
  if (app.streaming) invoke("stop_chat", { id: app.streaming.id });
}

// ---------- conversations: sidebar, open, versions, rename, delete, export ----------

function clearMessages() {
  document.querySelectorAll("#messages .msg").forEach((el) => { grown.unobserve(el); el.remove(); });
  $("empty").hidden = false;
  shown.messages = [];
  shown.start = 0;
  updateEarlier();
}

function showConversationHead() {
  const c = app.conversation;
  $("conv-head").hidden = !c;
  if (c) $("conv-title").textContent = c.title || I18n.t("conv.untitled");
  $("conv-status").textContent = "";
  document.querySelectorAll("#conversation-list .conv").forEach((b) => {
    if (c && Number(b.dataset.id) === c.id) b.setAttribute("aria-current", "true");
    else b.removeAttribute("aria-current");
  });
}

// A long conversation is put in the page a page of messages at a time: the newest first, earlier ones when the
// user scrolls up to the top (or presses "Show earlier messages" there). All 2,000 of a long conversation at once
// froze the window for seconds, and every message in the page slows scrolling (docs/performance.md).
const PAGE = 40;
const shown = { messages: [], start: 0 };  // the conversation's current path; messages[start..] are in the page

// Show `messages` (the current path). `from`: the index of the first one to put in the page (default: the last
// page); `focus`: a message id that must be in the page.
function renderMessages(messages, { from, focus } = {}) {
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
  updateEarlier();
  scrollDown(true);
  fillEarlier();
}

// Earlier messages while scrolling up: a few per frame, so building them (~2.5 ms a message with its Markdown
// decorated) never holds a frame long; a whole page at once made one long frame per page.
const EARLIER = 10;

function showEarlier(count = PAGE) {
  if (shown.start === 0) return;
  const list = $("messages");
  const first = list.querySelector(".msg");
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
function fillEarlier() {
  if (filling || shown.start === 0 || $("messages").scrollTop >= 1500) return;
  showEarlier(EARLIER);
  filling = true;  // then again next frame while still near the top
  requestAnimationFrame(() => { filling = false; fillEarlier(); });
}

function updateEarlier() {
  const button = $("earlier");
  button.hidden = shown.start === 0;
  if (!button.hidden) button.textContent = I18n.t("conv.earlier", { count: shown.start });
}

async function openConversation(id, messageId) {
  if (app.streaming) stop();
  try {
    const view = await invoke("open_conversation", { id, message: messageId || null });
    app.conversation = view.conversation;
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

async function reloadConversation() {
  if (!app.conversation) return;
  const view = await invoke("open_conversation", { id: app.conversation.id, message: null });
  app.conversation = view.conversation;
  renderMessages(view.messages);
  showConversationHead();
}

async function switchVersion(messageId) {
  if (app.streaming || messageId === undefined) return;
  try {
    const path = await invoke("switch_version", { message: messageId });
    const keep = $("messages").scrollTop;
    renderMessages(path, { from: shown.start });  // the messages above the switched one are unchanged
    $("messages").scrollTop = keep;
  } catch (err) {
    $("conv-status").textContent = toReport(err).message;
  }
}

function showSidebarStatus(text) {
  $("sidebar-status").textContent = text || "";
}

let searchSeq = 0;
async function refreshSidebar() {
  const query = $("search").value.trim();
  const seq = ++searchSeq;
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
    b.dataset.id = c.id;
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
function stepConversation(step) {
  const items = [...document.querySelectorAll("#conversation-list .conv")];
  if (!items.length) return;
  const at = items.findIndex((b) => app.conversation && Number(b.dataset.id) === app.conversation.id);
  const next = at < 0 ? (step > 0 ? 0 : items.length - 1) : Math.min(items.length - 1, Math.max(0, at + step));
  items[next].click();
  items[next].focus();
}

function newChat() {
  stop();
  Batch.stopAll();
  app.conversation = null;
  app.pending = [];
  renderAttachments();
  setToolsToggle(true);
  clearMessages();
  showConversationHead();
  $("prompt").focus();
}

function renameConversation() {
  if (!app.conversation) return;
  $("rename-input").value = app.conversation.title || "";
  $("rename-dialog").showModal();
  $("rename-input").select();
}

async function saveRename(ev) {
  ev.preventDefault();
  $("rename-dialog").close();
  try {
    app.conversation = await invoke("rename_conversation", { id: app.conversation.id, title: $("rename-input").value });
    showConversationHead();
    refreshSidebar();
  } catch (err) {
    $("conv-status").textContent = toReport(err).message;
  }
}

function askDelete() {
  if (!app.conversation) return;
  $("confirm-delete-text").textContent = I18n.t("conv.deleteText", { title: app.conversation.title || I18n.t("conv.untitled") });
  $("confirm-delete").showModal();
}

async function deleteConversation() {
  if ($("confirm-delete").returnValue !== "delete" || !app.conversation) return;
  try {
    await invoke("delete_conversation", { id: app.conversation.id });
    newChat();
    refreshSidebar();
  } catch (err) {
    $("conv-status").textContent = toReport(err).message;
  }
}

async function exportConversation(format) {
  if (!app.conversation) return;
  try {
    const path = await invoke("export_conversation", { id: app.conversation.id, format });
    if (path) $("conv-status").textContent = I18n.t("batch.saved", { path });
  } catch (err) {
    $("conv-status").textContent = toReport(err).message;
  }
}

async function exportAll() {
  try {
    const path = await invoke("export_all");
    if (path) showSidebarStatus(I18n.t("batch.saved", { path }));
  } catch (err) {
    showSidebarStatus(toReport(err).message);
  }
}

async function importAll() {
  try {
    const report = await invoke("import_conversations");
    if (report) {
      showSidebarStatus(I18n.t("conv.imported", { conversations: report.conversations_added, messages: report.messages_added }));
      refreshSidebar();
    }
  } catch (err) {
    showSidebarStatus(toReport(err).message);
  }
}

function showStorageProblem(report) {
  $("storage-problem").hidden = !report;
  if (!report) return;
  $("storage-message").textContent = report.message;
  $("storage-hint").textContent = report.hint || "";
}

function autoGrow() {
  const p = $("prompt");
  p.style.height = "auto";
  p.style.height = Math.min(p.scrollHeight, 240) + "px";
  p.style.overflowY = p.scrollHeight > 240 ? "auto" : "hidden";
}

// ---------- settings and language ----------

function updateLangToggle() {
  $("lang-toggle").textContent = I18n.t("lang.other");
}

async function applyLanguage(lang) {
  app.info = await invoke("app_info");
  I18n.lang = lang;
  I18n.apply();
  updateLangToggle();
  updateEarlier();
  document.querySelectorAll("details.trace").forEach(updateTraceSummary);
  Batch.relabel();
  renderAttachments();
  // Answers carry labels of their own (code blocks' Copy): show the open conversation again.
  if (app.conversation && !app.streaming) reloadConversation();
  refreshSidebar();
  if (app.connected) checkStatus(); else if (app.models) fillModels();
}

// ---------- servers (in Settings) ----------

async function renderServers() {
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
      app.info = await invoke("app_info");
      $("host-input").value = app.info.host_setting || "";
      app.connected = false;
      checkStatus();
    });
    const name = document.createElement("strong");
    name.textContent = sv.name;
    const meta = document.createElement("span");
    meta.className = "hint";
    meta.textContent = ` · ${I18n.t("servers.kind." + sv.kind)} · ${sv.address}${sv.has_api_key ? " · " + I18n.t("servers.hasKey") : ""}`;
    label.append(radio, " ", name, meta);
    const test = document.createElement("button");
    test.type = "button";
    test.className = "ghost small";
    test.textContent = I18n.t("servers.test");
    const result = document.createElement("div");
    result.className = "server-result hint";
    result.setAttribute("role", "status");
    test.addEventListener("click", async () => {
      result.textContent = I18n.t("servers.testing");
      try {
        const st = await invoke("test_server", { id: sv.id });
        result.textContent = I18n.t("servers.ok", { count: st.models.length });
      } catch (err) {
        const r = toReport(err);
        result.textContent = r.hint ? `${r.message} ${r.hint}` : r.message;
      }
    });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "ghost small danger-text";
    remove.textContent = I18n.t("servers.remove");
    remove.hidden = servers.length <= 1;
    remove.addEventListener("click", async () => {
      try {
        await invoke("remove_server", { id: sv.id });
        renderServers();
        app.connected = false;
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

async function addServer() {
  $("settings-error").textContent = "";
  try {
    await invoke("add_server", {
      name: $("server-name").value,
      kind: $("server-kind").value,
      baseUrl: $("server-url").value,
      apiKey: $("server-key").value || null,
      makeDefault: true,
    });
    for (const id of ["server-name", "server-url", "server-key"]) $(id).value = "";
    $("add-server").open = false;
    app.info = await invoke("app_info");
    $("host-input").value = app.info.host_setting || "";
    await renderServers();
    app.connected = false;
    checkStatus();
  } catch (err) {
    const r = toReport(err);
    $("settings-error").textContent = r.hint ? `${r.message} ${r.hint}` : r.message;
  }
}

async function loadModelOptions() {
  const model = $("model-select").value;
  $("opts-title").textContent = I18n.t("opts.title", { model: model || "—" });
  document.querySelector(".model-opts").hidden = !model;
  if (!model) return;
  const o = await invoke("model_options", { model });
  $("opt-system").value = o.system_prompt || "";
  $("opt-temperature").value = o.temperature ?? "";
  $("opt-ctx").value = o.num_ctx ?? "";
  $("opt-keep").value = o.keep_alive || "";
}

async function saveModelOptions() {
  const model = $("model-select").value;
  if (!model) return;
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

function openSettings() {
  renderServers();
  loadModelOptions();
  const info = app.info;
  $("host-input").value = info.host_setting || "";
  const source = info.host_source === "OLLAMA_HOST" ? I18n.t("settings.hostEnv") : I18n.t("settings.hostDefault");
  const fallback = info.host_source === "settings" ? "" : info.host;
  $("host-note").textContent = fallback ? I18n.t("settings.hostNote", { source, host: fallback }) : "";
  $("lang-select").value = info.language_setting || "";
  $("settings-error").textContent = "";
  $("settings").showModal();
  $("host-input").focus();
}

async function saveSettings(ev) {
  ev.preventDefault();
  try {
    await saveModelOptions();
    await invoke("set_host", { host: $("host-input").value });
    const lang = await invoke("set_language", { language: $("lang-select").value || null });
    $("settings").close();
    app.connected = false;
    await applyLanguage(lang);
    checkStatus();
  } catch (err) {
    $("settings-error").textContent = toReport(err).message;
  }
}

// ---------- wiring ----------

async function init() {
  app.info = await invoke("app_info");
  I18n.lang = app.info.language;
  I18n.apply();
  updateLangToggle();
  if (app.info.settings_warning) console.warn(app.info.settings_warning);
  showStorageProblem(app.info.storage_problem);
  refreshSidebar();

  $("send").addEventListener("click", send);
  $("attach").addEventListener("click", async () => addAttachments(await invoke("pick_images")));
  $("attach-folder").addEventListener("click", async () => addAttachments(await invoke("pick_folder")));
  window.__TAURI__.event.listen("attachments", (e) => addAttachments(e.payload));
  document.addEventListener("paste", onPaste);
  $("tools-toggle").addEventListener("click", () => setToolsToggle(!app.toolsOn));
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
  $("models-btn").addEventListener("click", () => Models.open(app.models));
  $("open-settings").addEventListener("click", openSettings);
  $("settings-form").addEventListener("submit", saveSettings);
  $("settings-cancel").addEventListener("click", () => $("settings").close());
  $("server-add").addEventListener("click", addServer);
  $("model-select").addEventListener("change", (e) => invoke("set_model", { model: e.target.value || null }));
  $("lang-toggle").addEventListener("click", async () => {
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
    if (e.key === "Escape" && app.streaming) { e.preventDefault(); stop(); }
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
  window.addEventListener("focus", () => { if (!app.streaming) checkStatus(); });
  setInterval(() => { if (!app.streaming && !app.connected) checkStatus(); }, 4000);
  setInterval(() => { if (!app.streaming && app.connected) checkStatus(); }, 30000);
  await checkStatus();
  prompt.focus();
}

document.addEventListener("DOMContentLoaded", init);
