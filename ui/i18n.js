// Every string the UI shows, in English and Chinese. Errors from Rust arrive already translated.
"use strict";

const STRINGS = {
  en: {
    "status.checking": "Checking Ollama…",
    "status.connected": "Ollama {version} · {count} models",
    "status.connected1": "Ollama {version} · 1 model",
    "status.unreachable": "Ollama not reachable",
    "status.recheck": "Check the connection again",
    "status.retry": "Retry",
    "unreachable.title": "Ollama is not reachable",
    "unreachable.setHost": "Set server address",
    "model.label": "Model",
    "model.none": "No models installed",
    "model.noneHint": "No model can chat yet. Pull one in a terminal: ollama pull gemma3:4b",
    "cap.vision": "sees images",
    "cap.tools": "tools",
    "cap.thinking": "thinking",
    "cap.embedding": "embeddings only",
    "chat.new": "New chat",
    "chat.you": "You",
    "chat.stopped": "Stopped",
    "chat.incomplete": "The answer is incomplete.",
    "composer.placeholder": "Message Gemma… (Enter to send, Shift+Enter for a new line)",
    "composer.label": "Message",
    "composer.send": "Send",
    "composer.stop": "Stop",
    "composer.stopTitle": "Stop the answer (Esc)",
    "empty.title": "Chat privately with Gemma",
    "empty.body": "Your messages go only to your own Ollama server.",
    "settings.title": "Settings",
    "settings.host": "Ollama server",
    "settings.hostNote": "Leave empty to use {source}: {host}",
    "settings.hostEnv": "OLLAMA_HOST",
    "settings.hostDefault": "the default",
    "settings.language": "Language",
    "settings.langSystem": "Follow the system",
    "settings.cancel": "Cancel",
    "settings.save": "Save and connect",
    "lang.switch": "切换到中文",
    "lang.other": "中文",
  },
  zh: {
    "status.checking": "正在检查 Ollama…",
    "status.connected": "Ollama {version} · {count} 个模型",
    "status.connected1": "Ollama {version} · 1 个模型",
    "status.unreachable": "无法连接 Ollama",
    "status.recheck": "重新检查连接",
    "status.retry": "重试",
    "unreachable.title": "无法连接到 Ollama",
    "unreachable.setHost": "设置服务器地址",
    "model.label": "模型",
    "model.none": "尚未安装模型",
    "model.noneHint": "还没有可以聊天的模型。请在终端中下载：ollama pull gemma3:4b",
    "cap.vision": "能看图",
    "cap.tools": "工具",
    "cap.thinking": "思考",
    "cap.embedding": "仅向量",
    "chat.new": "新对话",
    "chat.you": "你",
    "chat.stopped": "已停止",
    "chat.incomplete": "回答不完整。",
    "composer.placeholder": "给 Gemma 发消息…（Enter 发送，Shift+Enter 换行）",
    "composer.label": "消息",
    "composer.send": "发送",
    "composer.stop": "停止",
    "composer.stopTitle": "停止回答（Esc）",
    "empty.title": "与 Gemma 私密聊天",
    "empty.body": "你的消息只会发送到你自己的 Ollama 服务器。",
    "settings.title": "设置",
    "settings.host": "Ollama 服务器",
    "settings.hostNote": "留空则使用{source}：{host}",
    "settings.hostEnv": " OLLAMA_HOST ",
    "settings.hostDefault": "默认地址",
    "settings.language": "语言",
    "settings.langSystem": "跟随系统",
    "settings.cancel": "取消",
    "settings.save": "保存并连接",
    "lang.switch": "Switch to English",
    "lang.other": "EN",
  },
};

const I18n = {
  lang: "en",
  t(key, vars = {}) {
    const s = (STRINGS[this.lang] && STRINGS[this.lang][key]) || STRINGS.en[key] || key;
    return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
  },
  apply(root = document) {
    document.documentElement.lang = this.lang === "zh" ? "zh-CN" : "en";
    root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = this.t(el.dataset.i18n); });
    root.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = this.t(el.dataset.i18nPlaceholder); });
    root.querySelectorAll("[data-i18n-title]").forEach((el) => { el.title = this.t(el.dataset.i18nTitle); });
    root.querySelectorAll("[data-i18n-aria-label]").forEach((el) => { el.setAttribute("aria-label", this.t(el.dataset.i18nAriaLabel)); });
  },
};
window.I18n = I18n;
