//! The webview's only way in: thin commands over `gemma-desk-core`. Errors go back as
//! `ErrorReport { kind, message, hint }` in the UI's language.

use crate::attach::{self, AttachmentView};
use crate::state::AppState;
use gemma_desk_core::agent::{self, AgentEvent, AgentOutcome, AnswerRequest};
use gemma_desk_core::error::ErrorReport;
use gemma_desk_core::host::{display, resolve_host};
use gemma_desk_core::images;
use gemma_desk_core::{Capability, Error, Lang, Message, Role, ServerStatus};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

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
    messages: Vec<UiMessage>,
    tools: bool,
    on_event: Channel<AgentEvent>,
) -> CmdResult<AgentOutcome> {
    let lang = state.lang();
    if model.trim().is_empty() {
        return Err(Error::NoSuitableModel { what: "chat".into() }.report(lang));
    }
    let client = state.client().map_err(|e| e.report(lang))?;
    let messages = messages.into_iter().map(|m| m.into_message(&state)).collect::<Result<Vec<_>, _>>();
    let messages = messages.map_err(|e| e.report(lang))?;
    if messages.iter().any(|m| !m.images.is_empty()) {
        // Say so before anything is sent to a model that cannot see.
        client.resolve_model(Some(&model), &[Capability::Vision]).await.map_err(|e| e.report(lang))?;
    }
    let mut request = AnswerRequest::new(model, messages);
    request.tools = tools;
    request.lang = lang;
    let task = tokio::spawn(async move {
        let mut send = |event: AgentEvent| {
            let _ = on_event.send(event);
        };
        agent::answer(&client.into(), request, &mut send).await
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

/// A message as the webview keeps it: photos by attachment id.
#[derive(Deserialize)]
pub struct UiMessage {
    role: Role,
    content: String,
    #[serde(default)]
    attachments: Vec<String>,
}

impl UiMessage {
    fn into_message(self, state: &AppState) -> Result<Message, Error> {
        let mut m = Message::new(self.role, self.content);
        for id in &self.attachments {
            let image = state.attachment_base64(id).ok_or_else(|| Error::BadInput {
                path: id.clone(),
                reason: "this photo is no longer available; attach it again".into(),
            })?;
            m.images.push(image);
        }
        Ok(m)
    }
}

/// The system's file picker; the chosen photos are prepared and kept for sending.
#[tauri::command]
pub async fn pick_images(app: AppHandle) -> Vec<AttachmentView> {
    let lang = app.state::<AppState>().lang();
    let picked = rfd::AsyncFileDialog::new()
        .set_title(lang.pick("Choose photos", "选择照片"))
        .add_filter(lang.pick("Images", "图片"), images::IMAGE_EXTENSIONS)
        .pick_files()
        .await;
    let paths = picked.unwrap_or_default().into_iter().map(|f| f.path().to_path_buf()).collect();
    attach::attach_paths(&app, paths).await
}

#[tauri::command]
pub fn remove_attachment(state: State<'_, AppState>, id: String) -> bool {
    state.remove_attachment(&id)
}

/// Test builds only (`--features e2e`): drop files on the window exactly as a user's drop does.
#[cfg(feature = "e2e")]
#[tauri::command]
pub fn e2e_drop(app: AppHandle, paths: Vec<std::path::PathBuf>) {
    attach::on_drop(&app, paths);
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
