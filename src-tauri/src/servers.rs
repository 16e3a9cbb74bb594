//! The servers the app can talk to (Settings): several, each Ollama or OpenAI-compatible, one the
//! default, and the status of the one in use. API keys go to the OS keychain (`ApiKeys`), never to the
//! settings file.

use crate::error::{CmdError, CmdResult};
use crate::lifecycle::Shell;
use crate::logging;
use crate::state::AppState;
use gemma_desk_core::client::backend::BackendStatus;
use gemma_desk_core::diagnostics::redact;
use gemma_desk_core::settings::ApiKeys;
use gemma_desk_core::{Lang, ServerKind};
use serde::Serialize;
use tauri::State;

/// Whether the server in use answers, and its models (the status bar asks every few seconds).
#[tauri::command]
pub async fn server_status(state: State<'_, AppState>, shell: State<'_, Shell>) -> CmdResult<BackendStatus> {
    let backend = state.backend()?;
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
    result.map_err(CmdError::from_server(backend.kind()))
}

#[derive(Serialize)]
pub struct ServerView {
    id: String,
    name: String,
    kind: ServerKind,
    base_url: String,
    /// The address as it is used (an empty `base_url` means OLLAMA_HOST or the default).
    address: String,
    has_api_key: bool,
    /// Plain http to another machine: prompts, photos and the key travel unencrypted.
    insecure: bool,
    default: bool,
}

#[tauri::command]
pub fn list_servers(state: State<'_, AppState>) -> Vec<ServerView> {
    let settings = state.settings.lock().unwrap();
    let current = settings.current_server().id;
    settings
        .servers()
        .into_iter()
        .map(|s| ServerView {
            insecure: s.insecure(),
            address: s.url().map(|u| gemma_desk_core::client::host::display(&u)).unwrap_or_else(|e| e.to_string()),
            default: s.id == current,
            id: s.id,
            name: s.name,
            kind: s.kind,
            base_url: s.base_url,
            has_api_key: s.has_api_key,
        })
        .collect()
}

/// Add a server (its address checked first); with `api_key`, the key goes to the keychain, and
/// if the keychain cannot take it the server is not added (it would not work without its key).
#[tauri::command]
pub fn add_server(
    state: State<'_, AppState>,
    name: String,
    kind: ServerKind,
    base_url: String,
    api_key: Option<String>,
    make_default: bool,
) -> CmdResult<String> {
    let mut next = state.settings.lock().unwrap().clone();
    let id = next.add_server(&name, kind, &base_url)?;
    let key = api_key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty());
    if let Some(key) = key {
        ApiKeys::default().set(&id, &key)?;
        if let Some(s) = next.servers.iter_mut().find(|s| s.id == id) {
            s.has_api_key = true;
        }
    }
    if make_default {
        next.default_server = Some(id.clone());
    }
    state.update(|s| *s = next)?;
    Ok(id)
}

#[tauri::command]
pub fn remove_server(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    let mut next = state.settings.lock().unwrap().clone();
    next.remove_server(&id)?;
    // The key goes with the server; a keychain that is not there has nothing to delete.
    let _ = ApiKeys::default().delete(&id);
    Ok(state.update(|s| *s = next)?)
}

#[tauri::command]
pub fn set_default_server(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    if !state.settings.lock().unwrap().servers().iter().any(|s| s.id == id) {
        return Err(CmdError::no_server(&id));
    }
    Ok(state.update(|s| s.default_server = Some(id))?)
}

/// Connect to one server and list its models: the Settings page's "Test".
#[tauri::command]
pub async fn test_server(state: State<'_, AppState>, id: String) -> CmdResult<BackendStatus> {
    let server = state.settings.lock().unwrap().servers().into_iter().find(|s| s.id == id);
    let server = server.ok_or_else(|| CmdError::no_server(&id))?;
    let backend = server.connect(&ApiKeys::default())?;
    backend.status().await.map_err(CmdError::from_server(backend.kind()))
}
