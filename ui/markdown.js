// @ts-check
// Model answers as Markdown. The HTML comes from Rust (`render_markdown`, core/src/markdown.rs): built
// from an allow-list (no raw HTML, no images, only http/https links) and sanitised again there;
// the CSP would block inline scripts and handlers even so. This file only puts it in place and decorates
// it: syntax highlighting, copy buttons, typeset maths, and links that open in the system browser.

import { findAll } from "./dom.js";
import { toReport } from "./errors.js";
import { I18n } from "./i18n.js";

const { invoke } = window.__TAURI__.core;

// ---------- vendored libraries, loaded on first need (most answers have no code or maths) ----------

/** @type {Map<string, Promise<unknown>>} */
const loading = new Map();
/** @param {string} src */
function loadScript(src) {
  if (!loading.has(src)) {
    loading.set(src, new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.addEventListener("load", resolve);
      s.addEventListener("error", () => {
        loading.delete(src);
        reject(new Error(`could not load ${src}`));
      });
      document.head.append(s);
    }));
  }
  return /** @type {Promise<unknown>} */ (loading.get(src));
}
/** @param {string} href */
function loadStyle(href) {
  if (document.querySelector(`link[href="${href}"]`)) return;
  const l = document.createElement("link");
  l.rel = "stylesheet";
  l.href = href;
  document.head.append(l);
}

// Streaming re-renders the same code and formulas many times: keep recent results.
/**
 * @template V
 * @param {number} limit
 */
function boundedCache(limit) {
  /** @type {Map<string, V>} */
  const m = new Map();
  return {
    /** @param {string} k */
    get: (k) => m.get(k),
    /**
     * @param {string} k
     * @param {V} v
     */
    set(k, v) {
      if (m.size >= limit) m.delete(/** @type {string} */ (m.keys().next().value));
      m.set(k, v);
    },
  };
}

// ---------- code blocks ----------

const HIGHLIGHT_MAX = 50000; // characters; longer code stays plain rather than stall the window
/** @type {ReturnType<typeof boundedCache<string>>} */
const highlighted = boundedCache(200);

/** @param {Element} code */
function languageOf(code) {
  const m = /^language-([a-z0-9_+-]+)$/.exec(code.className);
  return m ? m[1] : "";
}

/** @param {HTMLElement} code */
function highlight(code) {
  const hljs = /** @type {NonNullable<Window["hljs"]>} */ (window.hljs);  // loaded before this runs
  const lang = languageOf(code);
  const text = code.textContent;
  // Only a named, known language: guessing (highlightAuto) is slow and often wrong.
  if (!lang || !hljs.getLanguage(lang) || text.length > HIGHLIGHT_MAX) return;
  const key = `${lang}\n${text}`;
  let html = highlighted.get(key);
  if (html === undefined) {
    html = hljs.highlight(text, { language: lang, ignoreIllegals: true }).value;
    highlighted.set(key, html);
  }
  code.innerHTML = html; // highlight.js's output: the escaped text in <span class="hljs-…">
  code.classList.add("hljs");
}

/** @param {HTMLElement} pre */
function decorateCode(pre) {
  const code = pre.querySelector("code");
  if (!code) return;
  const box = document.createElement("div");
  box.className = "md-code";
  const head = document.createElement("div");
  head.className = "md-code-head";
  const name = document.createElement("span");
  name.className = "md-code-lang";
  name.textContent = languageOf(code);
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "md-copy";
  copy.textContent = I18n.t("md.copy");
  copy.setAttribute("aria-label", I18n.t("md.copyCode"));
  copy.addEventListener("click", () => copyText(code.textContent, copy));
  head.append(name, copy);
  pre.replaceWith(box);
  box.append(head, pre);
}

/**
 * @param {string} text
 * @param {HTMLButtonElement} button
 */
async function copyText(text, button) {
  // The system clipboard through Rust first: WebKitGTK has no async clipboard API.
  let ok = true;
  try {
    await invoke("copy_text", { text });
  } catch {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      ok = copyWithSelection(text);
    }
  }
  button.textContent = ok ? I18n.t("md.copied") : I18n.t("md.copyFailed");
  button.classList.toggle("done", ok);
  setTimeout(() => {
    button.textContent = I18n.t("md.copy");
    button.classList.remove("done");
  }, 1500);
}

// Where the async clipboard is unavailable: the old way, through a hidden selection.
/** @param {string} text */
function copyWithSelection(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.readOnly = true;
  area.className = "md-offscreen";
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

// ---------- maths ----------

/** @type {ReturnType<typeof boundedCache<HTMLElement>>} */
const typeset = boundedCache(300);

/** @param {HTMLElement} span */
function typesetMath(span) {
  const display = span.classList.contains("math-display");
  const tex = span.textContent;
  const key = `${display ? "D" : "I"}${tex}`;
  let node = typeset.get(key);
  if (node === undefined) {
    const holder = document.createElement("span");
    try {
      // trust:false: no \href, \url, \includegraphics or \html*; errors show the source in place.
      /** @type {NonNullable<Window["katex"]>} */ (window.katex).render(tex, holder, {
        displayMode: display, throwOnError: false, trust: false, strict: "ignore", maxSize: 20, maxExpand: 500,
      });
    } catch {
      return; // leave the source, styled as code
    }
    node = holder;
    typeset.set(key, node);
  }
  span.title = tex;
  span.replaceChildren(...node.cloneNode(true).childNodes);
  span.classList.add("typeset");
}

// ---------- links ----------

const wired = new WeakSet();

/** @param {HTMLElement} el */
function wireLinks(el) {
  if (wired.has(el)) return;
  wired.add(el);
  /** @param {MouseEvent} e */
  const onClick = (e) => {
    const a = e.target instanceof Element ? e.target.closest("a[href]") : null;
    if (!a || !el.contains(a)) return;
    e.preventDefault(); // the webview itself never navigates away from the app
    if (e.type === "auxclick" && e.button !== 1) return;
    invoke("open_link", { url: a.getAttribute("href") }).catch((err) => onLinkError(err, /** @type {HTMLElement} */ (a)));
  };
  el.addEventListener("click", onClick);
  el.addEventListener("auxclick", onClick);
}

// ---------- public ----------

/**
 * Puts HTML from `render_markdown` into `el` and decorates it. Only ever pass that command's output.
 * @param {HTMLElement} el
 * @param {string} html
 */
export function renderInto(el, html) {
  el.classList.add("markdown");
  el.innerHTML = html;
  wireLinks(el);
  for (const a of findAll(el, "a[href]")) {
    // Where a link goes, before it is clicked (the webview has no status bar).
    const href = /** @type {string} */ (a.getAttribute("href"));  // there is one: the selector says so
    a.title = a.title ? `${a.title}\n${href}` : href;
  }
  // A picture from the model is never loaded (it could track the reader): say what the link is.
  for (const a of el.querySelectorAll("a.image-link")) {
    const label = document.createElement("span");
    label.className = "md-image-label";
    label.textContent = `${I18n.t("md.image")}: `;
    a.prepend(label);
  }
  const codes = [...findAll(el, "pre > code")];
  if (codes.some((c) => languageOf(c))) {
    const run = () => codes.forEach(highlight);
    if (window.hljs) run();
    else loadScript("vendor/highlight/highlight.min.js").then(run, () => {});
  }
  findAll(el, "pre").forEach(decorateCode);
  const maths = [...findAll(el, "span.math-inline, span.math-display")];
  if (maths.length) {
    const run = () => maths.forEach(typesetMath);
    if (window.katex) run();
    else {
      loadStyle("vendor/katex/katex.min.css");
      loadScript("vendor/katex/katex.min.js").then(run, () => {});
    }
  }
}

/**
 * Renders `text` (Markdown) into `el`. Resolves when done; falls back to plain text if rendering fails.
 * @param {HTMLElement} el
 * @param {string} text
 */
export async function show(el, text) {
  let html;
  try {
    html = await invoke("render_markdown", { text });
  } catch {
    el.textContent = text;
    return;
  }
  renderInto(el, html);
}

/**
 * For an answer that is still arriving: `update(fullText)` as often as deltas come, `finish(fullText)`
 * once. Renders at most every `interval` ms and one request at a time; touches nothing but `el`.
 * `onRender()` runs after each render (e.g. to keep the view scrolled to the bottom).
 * @param {HTMLElement} el
 * @param {{ interval?: number, onRender?: () => void }} [options]
 */
export function streamer(el, { interval = 80, onRender = () => {} } = {}) {
  let text = "";
  /** @type {string | null} */
  let rendered = null;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  let busy = false;
  let finished = false;
  let last = 0;
  let issued = 0;
  let applied = 0;

  /** @param {string} src */
  async function render(src) {
    const seq = ++issued;
    let html = null;
    try {
      html = await invoke("render_markdown", { text: src });
    } catch {
      html = null;
    }
    if (seq < applied) return; // a newer render (finish's) already landed
    applied = seq;
    if (html === null) el.textContent = src;
    else renderInto(el, html);
    rendered = src;
    onRender();
  }

  async function pump() {
    timer = null;
    if (busy || finished || text === rendered) return;
    busy = true;
    last = Date.now();
    await render(text);
    busy = false;
    if (!finished && text !== rendered) schedule();
  }

  function schedule() {
    if (timer !== null || busy || finished) return;
    timer = setTimeout(pump, Math.max(0, last + interval - Date.now()));
  }

  return {
    /** @param {string} fullText */
    update(fullText) {
      if (finished) return;
      text = fullText;
      schedule();
    },
    /** @param {string} fullText */
    finish(fullText) {
      finished = true;
      clearTimeout(timer ?? undefined);
      timer = null;
      text = fullText;
      return render(fullText);
    },
  };
}

/**
 * When `open_link` refuses or fails, with its error report `{kind, message, hint}`: said on the link itself.
 * @param {unknown} err
 * @param {HTMLElement} link
 */
function onLinkError(err, link) {
  console.error("open_link:", err);
  link.title = toReport(err).message || String(err);
}
