//! The servers the app can talk to (Settings): several, each Ollama or OpenAI-compatible, one the
//! default. API keys go to the OS keychain (`ApiKeys`), never to the settings file.

use crate::state::AppState;
use gemma_desk_core::client::backend::BackendStatus;
use gemma_desk_core::error::ErrorReport;
use gemma_desk_core::settings::ApiKeys;
use gemma_desk_core::{Error, ServerKind};
use serde::Serialize;
use tauri::State;

type CmdResult<T> = Result<T, ErrorReport>;

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
    let lang = state.lang();
    let mut next = state.settings.lock().unwrap().clone();
    let id = next.add_server(&name, kind, &base_url).map_err(|e| e.report(lang))?;
    let key = api_key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty());
    if let Some(key) = key {
        ApiKeys::default().set(&id, &key).map_err(|e| e.report(lang))?;
        if let Some(s) = next.servers.iter_mut().find(|s| s.id == id) {
            s.has_api_key = true;
        }
    }
    if make_default {
        next.default_server = Some(id.clone());
    }
    state.update(|s| *s = next).map_err(|e| e.report(lang))?;
    Ok(id)
}

#[tauri::command]
pub fn remove_server(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    let lang = state.lang();
    let mut next = state.settings.lock().unwrap().clone();
    next.remove_server(&id).map_err(|e| e.report(lang))?;
    // The key goes with the server; a keychain that is not there has nothing to delete.
    let _ = ApiKeys::default().delete(&id);
    state.update(|s| *s = next).map_err(|e| e.report(lang))
}

#[tauri::command]
pub fn set_default_server(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    let lang = state.lang();
    if !state.settings.lock().unwrap().servers().iter().any(|s| s.id == id) {
        return Err(Error::Usage(format!("no server with id \"{id}\"")).report(lang));
    }
    state.update(|s| s.default_server = Some(id)).map_err(|e| e.report(lang))
}

/// Connect to one server and list its models: the Settings page's "Test".
#[tauri::command]
pub async fn test_server(state: State<'_, AppState>, id: String) -> CmdResult<BackendStatus> {
    let lang = state.lang();
    let server = state.settings.lock().unwrap().servers().into_iter().find(|s| s.id == id);
    let server = server.ok_or_else(|| Error::Usage(format!("no server with id \"{id}\"")).report(lang))?;
    let backend = server.connect(&ApiKeys::default()).map_err(|e| e.report(lang))?;
    backend.status().await.map_err(|e| backend.describe(&e, lang))
}
