//! The settings the page shows and changes: what is in effect at start (version, language, host, model), the
//! host, the language, the model and each model's options. Each change is saved at once (`AppState::update`).
//! The servers have their own module (`servers.rs`).

use crate::error::{CmdError, CmdResult};
use crate::state::AppState;
use gemma_desk_core::client::host::{display, resolve_host};
use gemma_desk_core::settings::ModelOptions;
use gemma_desk_core::{Error, Lang};
use serde::Serialize;
use tauri::State;

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
    /// Cloud models are left out of the picker.
    hide_cloud_models: bool,
    settings_warning: Option<String>,
    /// Conversations cannot be saved (database unreadable, or from a newer app: read-only).
    storage_problem: Option<CmdError>,
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
        hide_cloud_models: s.hide_cloud_models,
        settings_warning: state.settings_warning.clone(),
        storage_problem: state.storage_problem().map(CmdError::from),
    }
}

/// Use this host from now on (`None` or blank: back to `OLLAMA_HOST` / the default).
#[tauri::command]
pub fn set_host(state: State<'_, AppState>, host: Option<String>) -> CmdResult<String> {
    let host = host.map(|h| h.trim().to_string()).filter(|h| !h.is_empty());
    let url = resolve_host(host.as_deref()).map_err(|e| {
        Error::Usage(state.lang().pick("Invalid server address: ", "服务器地址无效：").to_string() + &e)
    })?;
    // The address of the server in use: the one Ollama server of old settings, else the default server.
    state.update(|s| {
        if s.servers.is_empty() {
            s.host = host;
        } else {
            let current = s.current_server().id;
            if let Some(server) = s.servers.iter_mut().find(|x| x.id == current) {
                server.base_url = host.unwrap_or_default();
            }
        }
    })?;
    Ok(display(&url))
}

#[tauri::command]
pub fn set_language(state: State<'_, AppState>, language: Option<Lang>) -> CmdResult<Lang> {
    state.update(|s| s.language = language)?;
    Ok(state.lang())
}

#[tauri::command]
pub fn set_model(state: State<'_, AppState>, model: Option<String>) -> CmdResult<()> {
    Ok(state.update(|s| s.model = model)?)
}

/// How many tokens `model`'s context holds (see `Backend::context_window`), for the context meter; `None` when
/// the server does not say and no length is set.
#[tauri::command]
pub async fn context_window(state: State<'_, AppState>, model: String) -> CmdResult<Option<u64>> {
    let num_ctx = state.settings.lock().unwrap().model_options.get(&model).and_then(|o| o.num_ctx);
    Ok(state.backend()?.context_window(&model, num_ctx).await)
}

/// Leave cloud models out of the model picker (or show them again).
#[tauri::command]
pub fn set_hide_cloud_models(state: State<'_, AppState>, hide: bool) -> CmdResult<()> {
    Ok(state.update(|s| s.hide_cloud_models = hide)?)
}

/// The user's options for `model` (empty when none are set).
#[tauri::command]
pub fn model_options(state: State<'_, AppState>, model: String) -> ModelOptions {
    state.settings.lock().unwrap().model_options.get(&model).cloned().unwrap_or_default()
}

/// Keep options for `model`; all empty removes them. Resolves with what was kept (cleaned).
#[tauri::command]
pub fn set_model_options(state: State<'_, AppState>, model: String, options: ModelOptions) -> CmdResult<ModelOptions> {
    let options = options.cleaned(state.lang())?;
    let kept = options.clone();
    state.update(|s| {
        if options.is_empty() {
            s.model_options.remove(&model);
        } else {
            s.model_options.insert(model, options);
        }
    })?;
    Ok(kept)
}
