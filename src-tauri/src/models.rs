//! Model management for the Models dialog: pull with progress (cancellable), delete, details, and
//! the Gemma 3 and Gemma 4 catalogue to offer when nothing suitable is installed. Thin over `gemma_desk_core`.

use crate::error::CmdResult;
use crate::state::AppState;
use gemma_desk_core::models::{recommended_here, CatalogueEntry, CATALOGUE};
use gemma_desk_core::pull::{PullOutcome, PullProgress};
use gemma_desk_core::ModelDetails;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

/// The id under which a pull runs in `AppState::tasks` (chats use ids from the webview).
fn pull_key(model: &str) -> String {
    format!("pull:{model}")
}

/// Pull `model`, sending `PullProgress` (phase, bytes, fraction, speed, time left) over
/// `on_progress`. `cancel_pull(model)` stops it: the connection closes and Ollama keeps the
/// parts it has, so pulling again resumes.
#[tauri::command]
pub async fn pull_model(
    state: State<'_, AppState>,
    model: String,
    on_progress: Channel<PullProgress>,
) -> CmdResult<PullOutcome> {
    let client = state.client()?;
    let key = pull_key(&model);
    let work = async move {
        client
            .pull(&model, |p| {
                let _ = on_progress.send(p.clone());
            })
            .await
    };
    Ok(state.tasks.run(key, work).await??)
}

#[tauri::command]
pub fn cancel_pull(state: State<'_, AppState>, model: String) -> bool {
    state.tasks.stop(&pull_key(&model))
}

#[tauri::command]
pub async fn delete_model(state: State<'_, AppState>, model: String) -> CmdResult<()> {
    Ok(state.client()?.delete(&model).await?)
}

#[tauri::command]
pub async fn model_details(state: State<'_, AppState>, model: String) -> CmdResult<ModelDetails> {
    Ok(state.client()?.details(&model).await?)
}

/// A model the app can offer to pull, with a one-line summary in the UI's language
/// ("gemma3:4b, 3.3 GB, needs ~5 GB RAM, sees images"); `recommended` marks the one for this machine's memory.
#[derive(Serialize)]
pub struct Offer {
    #[serde(flatten)]
    entry: CatalogueEntry,
    summary: String,
    recommended: bool,
}

#[tauri::command]
pub fn model_catalogue(state: State<'_, AppState>) -> Vec<Offer> {
    let lang = state.lang();
    let pick = recommended_here().name;
    CATALOGUE.iter().map(|e| Offer { entry: *e, summary: e.summary(lang), recommended: e.name == pick }).collect()
}
