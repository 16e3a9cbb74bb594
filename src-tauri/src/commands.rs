//! The webview's only way in: thin commands over `gemma-desk-core`. Errors go back as
//! `ErrorReport { kind, message, hint }` in the UI's language.

use crate::attach::{self, AttachmentView};
use crate::lifecycle::Shell;
use crate::logging;
use crate::state::AppState;
use gemma_desk_core::agent::{self, AgentEvent, AgentOutcome};
use gemma_desk_core::caption::{CaptionRow, ExportFormat};
use gemma_desk_core::client::backend::BackendStatus;
use gemma_desk_core::client::host::{display, resolve_host};
use gemma_desk_core::diagnostics::redact;
use gemma_desk_core::error::ErrorReport;
use gemma_desk_core::images;
use gemma_desk_core::settings::ModelOptions;
use gemma_desk_core::{Capability, Error, Lang, Message, Role};
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
    /// Conversations cannot be saved (database unreadable, or from a newer app: read-only).
    storage_problem: Option<ErrorReport>,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    let s = state.settings.lock().unwrap().clone();
    let env_host = std::env::var("OLLAMA_HOST").ok().filter(|h| !h.trim().is_empty());
    let server = s.current_server();
    let address = Some(server.base_url.trim().to_string()).filter(|h| !h.is_empty());
    let host_source = match (&address, &env_host) {
        (Some(_), _) => "settings",
        (None, Some(_)) => "OLLAMA_HOST",
        _ => "default",
    };
    let host = server.url().map(|u| display(&u)).unwrap_or_else(|e| e.to_string());
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        language: s.language.unwrap_or(state.system_lang),
        language_setting: s.language,
        host_setting: address,
        host,
        host_source,
        model: s.model,
        settings_warning: state.settings_warning.clone(),
        storage_problem: state.storage_problem().map(|e| e.report(state.lang())),
    }
}

#[tauri::command]
pub async fn server_status(state: State<'_, AppState>, shell: State<'_, Shell>) -> CmdResult<BackendStatus> {
    let lang = state.lang();
    let backend = state.backend().map_err(|e| e.report(lang))?;
    let result = backend.status().await;
    // Checked every few seconds: logged when it changes, not each time.
    let seen = match &result {
        Ok(_) => format!("connected to {} at {}", backend.kind().as_str(), redact(&backend.host())),
        Err(e) => format!(
            "{} at {}: {}",
            e.kind(),
            redact(&backend.host()),
            logging::error_detail(e.kind(), &e.message(Lang::En))
        ),
    };
    if shell.status_changed(&seen) {
        tracing::info!("server: {seen}");
    }
    result.map_err(|e| backend.describe(&e, lang))
}

/// Use this host from now on (`None` or blank: back to `OLLAMA_HOST` / the default).
#[tauri::command]
pub fn set_host(state: State<'_, AppState>, host: Option<String>) -> CmdResult<String> {
    let lang = state.lang();
    let host = host.map(|h| h.trim().to_string()).filter(|h| !h.is_empty());
    let url = resolve_host(host.as_deref()).map_err(|e| {
        Error::Usage(lang.pick("Invalid server address: ", "服务器地址无效：").to_string() + &e).report(lang)
    })?;
    // The address of the server in use: the one Ollama server of old settings, else the default server.
    state
        .update(|s| {
            if s.servers.is_empty() {
                s.host = host;
            } else {
                let current = s.current_server().id;
                if let Some(server) = s.servers.iter_mut().find(|x| x.id == current) {
                    server.base_url = host.unwrap_or_default();
                }
            }
        })
        .map_err(|e| e.report(lang))?;
    Ok(display(&url))
}

#[tauri::command]
pub fn set_language(state: State<'_, AppState>, language: Option<Lang>) -> CmdResult<Lang> {
    state.update(|s| s.language = language).map_err(|e| e.report(state.lang()))?;
    Ok(state.lang())
}

/// The user's options for `model` (empty when none are set).
#[tauri::command]
pub fn model_options(state: State<'_, AppState>, model: String) -> ModelOptions {
    state.settings.lock().unwrap().model_options.get(&model).cloned().unwrap_or_default()
}

/// Keep options for `model`; all empty removes them. Resolves with what was kept (cleaned).
#[tauri::command]
pub fn set_model_options(state: State<'_, AppState>, model: String, options: ModelOptions) -> CmdResult<ModelOptions> {
    let lang = state.lang();
    let options = options.cleaned(lang).map_err(|e| e.report(lang))?;
    let kept = options.clone();
    state
        .update(|s| {
            if options.is_empty() {
                s.model_options.remove(&model);
            } else {
                s.model_options.insert(model, options);
            }
        })
        .map_err(|e| e.report(lang))?;
    Ok(kept)
}

#[tauri::command]
pub fn set_model(state: State<'_, AppState>, model: Option<String>) -> CmdResult<()> {
    state.update(|s| s.model = model).map_err(|e| e.report(state.lang()))
}

/// One question, not saved: `AgentEvent`s (text deltas, tool steps) over `on_event`. Resolves with
/// the whole answer, or rejects with an error report. Used by "Caption all" (each photo on its own);
/// saved conversations go through `chat::chat_send`. `id` lets `stop_chat` cancel it.
#[tauri::command]
pub async fn ask_once(
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
    let client = state.backend().map_err(|e| e.report(lang))?;
    let messages = messages.into_iter().map(|m| m.into_message(&state)).collect::<Result<Vec<_>, _>>();
    let messages = messages.map_err(|e| e.report(lang))?;
    if messages.iter().any(|m| !m.images.is_empty()) {
        // Say so before anything is sent to a model that cannot see.
        client.resolve_model(Some(&model), &[Capability::Vision]).await.map_err(|e| e.report(lang))?;
    }
    let mut request = state.answer_request(model, messages);
    request.tools = tools;
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

/// A photo pasted into the window: the raw bytes of the clipboard's image as the request body
/// (no JSON, no base64), its name in the `x-name` header.
#[tauri::command]
pub async fn attach_pasted(app: AppHandle, request: tauri::ipc::Request<'_>) -> CmdResult<AttachmentView> {
    let lang = app.state::<AppState>().lang();
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(Error::Usage("attach_pasted expects the image's bytes".into()).report(lang));
    };
    let name = request.headers().get("x-name").and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_string();
    let name = if name.is_empty() { lang.pick("Pasted image", "粘贴的图片").to_string() } else { name };
    Ok(attach::attach_bytes(&app, name, bytes.clone()).await)
}

/// The image on the system clipboard (a screenshot), attached; `None` when it holds no image.
#[tauri::command]
pub async fn attach_clipboard_image(app: AppHandle) -> CmdResult<Option<AttachmentView>> {
    use tauri_plugin_clipboard_manager::ClipboardExt;
    let Ok(image) = app.clipboard().read_image() else { return Ok(None) };
    let (width, height, rgba) = (image.width(), image.height(), image.rgba().to_vec());
    drop(image);
    let name = app.state::<AppState>().lang().pick("Pasted image", "粘贴的图片").to_string();
    Ok(Some(attach::attach_rgba(&app, name, width, height, rgba).await))
}

/// Put text on the system clipboard (from Rust: the webview's clipboard API is not available
/// everywhere, and no clipboard permission is granted to the webview).
#[tauri::command]
pub fn copy_text(app: AppHandle, text: String) -> CmdResult<()> {
    use tauri_plugin_clipboard_manager::ClipboardExt;
    let lang = app.state::<AppState>().lang();
    app.clipboard().write_text(text).map_err(|e| {
        Error::Other(format!("{}{e}", lang.pick("Could not copy to the clipboard: ", "无法复制到剪贴板：")))
            .report(lang)
    })
}

/// Save captions (a finished or stopped batch) where the user chooses. Resolves with the file
/// written, or `None` when the user cancelled the dialog.
#[tauri::command]
pub async fn export_captions(app: AppHandle, format: ExportFormat, rows: Vec<CaptionRow>) -> CmdResult<Option<String>> {
    let lang = app.state::<AppState>().lang();
    let default_name = format!("{}.{}", lang.pick("captions", "图片说明"), format.extension());
    crate::conversations::save(lang, &default_name, format.document(&rows)).await
}

/// The system's folder picker: every photo in the chosen folder (and its subfolders) is attached.
#[tauri::command]
pub async fn pick_folder(app: AppHandle) -> Vec<AttachmentView> {
    let lang = app.state::<AppState>().lang();
    let picked = rfd::AsyncFileDialog::new()
        .set_title(lang.pick("Choose a folder of photos", "选择照片文件夹"))
        .pick_folder()
        .await;
    match picked {
        Some(dir) => attach::attach_paths(&app, vec![dir.path().to_path_buf()]).await,
        None => Vec::new(),
    }
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
