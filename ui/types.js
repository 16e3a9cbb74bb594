// @ts-check
// The shapes the app's commands return and send, as JSDoc types for the type check (tests/typecheck); this
// module has no code and nothing imports it at run time. Each type names the Rust type it mirrors (serde's
// JSON of it): src-tauri/src/*.rs for the shell's own, src-tauri/core/src for the core's. When one changes
// there, change it here; the check then shows every place in the UI that reads it.

/**
 * `ErrorReport` (core/src/error.rs): what every command rejects with, in the user's language.
 * @typedef {{ kind: string, message: string, hint: string | null }} ErrorReport
 */

/** `Lang` (core/src/i18n.rs). @typedef {"en" | "zh"} Lang */

/** `ServerKind` (core/src/backend.rs). @typedef {"ollama" | "openai"} ServerKind */

/**
 * `AppInfo` (src-tauri/src/commands.rs `app_info`).
 * @typedef {{
 *   version: string, language: Lang, language_setting: Lang | null, host_setting: string | null,
 *   host: string, host_source: "settings" | "OLLAMA_HOST" | "default", model: string | null,
 *   hide_cloud_models: boolean, settings_warning: string | null, storage_problem: ErrorReport | null,
 * }} AppInfo
 */

/**
 * `ModelInfo` (core/src/models.rs): a model the server has. `size` is 0 where the server does not say.
 * @typedef {{
 *   name: string, size: number, family: string | null, parameter_size: string | null,
 *   quantization: string | null, capabilities: string[], context_length: number | null,
 *   vision_image_size: number | null, remote_host: string | null, cloud: boolean, image_detail: boolean,
 * }} ModelInfo
 */

/**
 * `BackendStatus` (core/src/backend.rs `server_status`, `test_server`).
 * @typedef {{
 *   kind: ServerKind, host: string, version: string | null, models: ModelInfo[],
 *   capabilities_guessed: boolean, insecure: boolean,
 * }} BackendStatus
 */

/**
 * `ModelDetails` (core/src/models.rs `model_details`).
 * @typedef {{
 *   name: string, family: string | null, parameter_size: string | null, parameter_count: number | null,
 *   quantization: string | null, format: string | null, context_length: number | null,
 *   capabilities: string[], vision_image_size: number | null, size: number | null, modified_at: string | null,
 * }} ModelDetails
 */

/**
 * `Offer` (src-tauri/src/models.rs `model_catalogue`): a `CatalogueEntry` with its summary, and whether it is the
 * one recommended for this machine's memory.
 * @typedef {{
 *   name: string, parameters: string, download_size: number, ram_needed: number, context_length: number,
 *   capabilities: string[], recommended: boolean, summary: string,
 * }} Offer
 */

/**
 * `PullProgress` (core/src/pull.rs), sent over `pull_model`'s channel.
 * @typedef {{
 *   model: string, phase: "manifest" | "downloading" | "verifying" | "writing" | "pruning" | "done",
 *   status: string, completed: number, total: number, fraction: number | null,
 *   bytes_per_second: number | null, eta_seconds: number | null, layers: number, elapsed_ms: number,
 * }} PullProgress
 */

/**
 * `AttachmentView` (src-tauri/src/attach.rs): a photo (or audio clip: `kind`) prepared for sending (`id`), or one that could not be
 * (`error`). The page marks the second kind `failed`.
 * @typedef {{
 *   id?: string | null, name: string, thumbnail?: string | null, width?: number, height?: number,
 *   error?: string | null, failed?: boolean, kind?: "image" | "audio", duration_ms?: number | null,
 *   audio?: string | null,
 * }} AttachmentView
 */

/**
 * `ServerView` (src-tauri/src/servers.rs `list_servers`).
 * @typedef {{
 *   id: string, name: string, kind: ServerKind, base_url: string, address: string, has_api_key: boolean,
 *   insecure: boolean, default: boolean,
 * }} ServerView
 */

/**
 * `ModelOptions` (core/src/settings.rs `model_options`, `set_model_options`).
 * @typedef {{
 *   system_prompt?: string | null, temperature?: number | null, num_ctx?: number | null,
 *   keep_alive?: string | null,
 * }} ModelOptions
 */

/**
 * `Conversation` (core/src/store/conversations.rs).
 * @typedef {{
 *   id: number, uid: string, title: string, created_at: number, updated_at: number, head_id: number | null,
 * }} Conversation
 */

/**
 * `ListItem` (src-tauri/src/conversations.rs `list_conversations`): a conversation, and where a search matched.
 * @typedef {Conversation & { snippet: string | null, message_id: number | null }} ListItem
 */

/** `ImageRef` (core/src/store/images.rs): a saved photo. @typedef {{ sha256: string, mime: string, width: number, height: number }} ImageRef */

/**
 * `Step` (core/src/agent/mod.rs): one tool call.
 * @typedef {{ thought: string, tool: string, input: unknown, observation: string }} Step
 */

/**
 * The `stats` an answer is saved with (src-tauri/src/chat.rs `finish`).
 * @typedef {{ mode?: string, rounds?: number, done_reason?: string | null, tokens_per_second?: number | null, thinking_ms?: number | null, prompt_tokens?: number | null, completion_tokens?: number | null }} AnswerStats
 */

/**
 * `ViewMessage` (src-tauri/src/conversations.rs): a `StoredMessage` (core/src/store/messages.rs) with an
 * answer's Markdown rendered to safe HTML. `versions`: the ids of its siblings, itself among them.
 * @typedef {{
 *   id: number, uid: string, conversation_id: number, parent_id: number | null,
 *   role: "system" | "user" | "assistant" | "tool", content: string, model: string | null,
 *   status: "complete" | "streaming" | "incomplete" | "error", error: string | null,
 *   created_at: number, updated_at: number, images: ImageRef[], trace: Step[] | null,
 *   stats: AnswerStats | null, versions: number[], html: string | null,
 *   thinking: string | null, thinking_html: string | null,
 * }} ViewMessage
 */

/** `View` (src-tauri/src/conversations.rs `open_conversation`). @typedef {{ conversation: Conversation, messages: ViewMessage[] }} View */

/**
 * `Turn` (src-tauri/src/chat.rs `chat_send`, `chat_regenerate`, `chat_edit`).
 * @typedef {{ conversation: Conversation, user: ViewMessage | null, answer: ViewMessage }} Turn
 */

/**
 * What a chat turn sends over its channel: `started` (src-tauri/src/chat.rs) once everything is saved, then
 * the agent's `AgentEvent`s (core/src/agent/mod.rs).
 * @typedef {{ event: "started", data: { conversation: Conversation, user: ViewMessage | null, answer_id: number } }
 *   | { event: "delta", data: { text: string } }
 *   | { event: "thinking", data: { text: string } }
 *   | { event: "step", data: Step }
 *   | { event: "retract", data?: undefined }} TurnEvent
 */

/**
 * `AgentOutcome` (core/src/agent/mod.rs `ask_once`).
 * @typedef {{
 *   answer: string, model: string, steps: Step[], rounds: number, mode: string,
 *   done_reason: string | null, tokens_per_second: number | null, thinking?: string[],
 * }} AgentOutcome
 */

/** `CaptionRow` (core/src/caption.rs `export_captions`). @typedef {{ file: string, caption?: string, error?: string }} CaptionRow */

/** `ImportReport` (core/src/store/export.rs `import_conversations`). @typedef {{ conversations_added: number, conversations_merged: number, messages_added: number, messages_skipped: number, images_added: number }} ImportReport */

/**
 * `About` (src-tauri/src/about.rs `about`).
 * @typedef {{
 *   version: string, license: string, tauri: string, webview: string | null, gemma_terms: string,
 *   components: { name: string, version: string, license: string }[],
 * }} About
 */

export {};
