//! The webview's only way in: thin commands over `gemma-desk-core`. Errors go back as
//! `ErrorReport { kind, message, hint }` in the UI's language.

use crate::state::AppState;
use gemma_desk_core::agent::{self, AgentEvent, AgentOutcome, AnswerRequest};
use gemma_desk_core::error::ErrorReport;
use gemma_desk_core::host::{display, resolve_host};
use gemma_desk_core::{Error, Lang, Message, ServerStatus};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

type CmdResult<T> = Result<T, ErrorReport>;

#[derive(Serialize)]
pub struct AppInfo {
    version: &'static str,
    /// The language in effect (chosen, else the system's).
    language: Lang,
    /// What the user chose: `None` follows the system.
    language_setting: Option<Lang>,
    /// The host the user set in the app, if any.
    host_setting: Option<String>,
    /// The host in effect and where it came from: `settings`, `OLLAMA_HOST` or `default`.
    host: String,
    host_source: &'static str,
    model: Option<String>,
    settings_warning: Option<String>,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    let s = state.settings.lock().unwrap().clone();
    let env_host = std::env::var("OLLAMA_HOST").ok().filter(|h| !h.trim().is_empty());
    let host_source = match (&s.host, &env_host) {
        (Some(_), _) => "settings",
        (None, Some(_)) => "OLLAMA_HOST",
        _ => "default",
    };
    let host = resolve_host(s.host.as_deref()).map(|u| display(&u)).unwrap_or_else(|e| e);
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        language: s.language.unwrap_or(state.system_lang),
        language_setting: s.language,
        host_setting: s.host,
        host,
        host_source,
        model: s.model,
        settings_warning: state.settings_warning.clone(),
    }
}

#[tauri::command]
pub async fn server_status(state: State<'_, AppState>) -> CmdResult<ServerStatus> {
    let lang = state.lang();
    let client = state.client().map_err(|e| e.report(lang))?;
    client.status().await.map_err(|e| e.report(lang))
}

/// Use this host from now on (`None` or blank: back to `OLLAMA_HOST` / the default).
#[tauri::command]
pub fn set_host(state: State<'_, AppState>, host: Option<String>) -> CmdResult<String> {
    let lang = state.lang();
    let host = host.map(|h| h.trim().to_string()).filter(|h| !h.is_empty());
    let url = resolve_host(host.as_deref()).map_err(|e| {
        Error::Usage(lang.pick("Invalid server address: ", "服务器地址无效：").to_string() + &e).report(lang)
    })?;
    state.update(|s| s.host = host).map_err(|e| e.report(lang))?;
    Ok(display(&url))
}

#[tauri::command]
pub fn set_language(state: State<'_, AppState>, language: Option<Lang>) -> CmdResult<Lang> {
    state.update(|s| s.language = language).map_err(|e| e.report(state.lang()))?;
    Ok(state.lang())
}

#[tauri::command]
pub fn set_model(state: State<'_, AppState>, model: Option<String>) -> CmdResult<()> {
    state.update(|s| s.model = model).map_err(|e| e.report(state.lang()))
}

/// Stream an answer: `AgentEvent`s (text deltas, tool steps) over `on_event`. Resolves with the
/// whole answer, or rejects with an error report (what had streamed stays with the webview).
/// `tools` offers the time tools; `id` lets `stop_chat` cancel it.
#[tauri::command]
pub async fn send_chat(
    state: State<'_, AppState>,
    id: String,
    model: String,
    messages: Vec<Message>,
    tools: bool,
    on_event: Channel<AgentEvent>,
) -> CmdResult<AgentOutcome> {
    let lang = state.lang();
    if model.trim().is_empty() {
        return Err(Error::NoSuitableModel { what: "chat".into() }.report(lang));
    }
    let client = state.client().map_err(|e| e.report(lang))?;
    let mut request = AnswerRequest::new(model, messages);
    request.tools = tools;
    request.lang = lang;
    let task = tokio::spawn(async move {
        let mut send = |event: AgentEvent| {
            let _ = on_event.send(event);
        };
        agent::answer(&client, request, &mut send).await
    });
    state.running.lock().unwrap().insert(id.clone(), task.abort_handle());
    let result = task.await;
    state.running.lock().unwrap().remove(&id);
    match result {
        Ok(r) => r.map_err(|e| e.report(lang)),
        // Aborted by stop_chat: dropping the request closed the connection, so Ollama stops too.
        Err(_) => Err(Error::Cancelled.report(lang)),
    }
}

#[tauri::command]
pub fn stop_chat(state: State<'_, AppState>, id: String) -> bool {
    match state.running.lock().unwrap().remove(&id) {
        Some(h) => {
            h.abort();
            true
        }
        None => false,
    }
}
