//! Photos the user attaches (dropped on the window, picked, or pasted). Files are read and
//! prepared in Rust; the webview only ever gets ids, thumbnails and sizes, and cannot name a path.

use crate::state::AppState;
use gemma_desk_core::images::{self, PrepareOptions};
use gemma_desk_core::{Error, Lang};
use serde::Serialize;
use std::path::PathBuf;
use tauri::{AppHandle, Emitter, Manager};

/// An attached photo (or why it could not be attached), as the composer shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentView {
    pub id: Option<String>,
    pub name: String,
    /// A small JPEG `data:` URI.
    pub thumbnail: Option<String>,
    pub width: u32,
    pub height: u32,
    pub error: Option<String>,
}

/// Prepare the photos at `paths` (folders expand to the images in them) and keep them for sending.
pub async fn attach_paths(app: &AppHandle, paths: Vec<PathBuf>) -> Vec<AttachmentView> {
    let state = app.state::<AppState>();
    let lang = state.lang();
    let files = images::collect_images(&paths);
    let work = files.clone();
    let prepared = tauri::async_runtime::spawn_blocking(move || {
        images::prepare_many(&work, &PrepareOptions::default())
            .into_iter()
            .map(|r| r.map(|p| (images::thumbnail_bytes(&p.encoded(), images::THUMBNAIL_SIDE).ok(), p)))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    files
        .iter()
        .zip(prepared)
        .map(|(path, result)| {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            match result {
                Ok((thumbnail, image)) => {
                    let (width, height) = (image.width, image.height);
                    let id = state.add_attachment(image);
                    AttachmentView { id: Some(id), name, thumbnail, width, height, error: None }
                }
                Err(e) => AttachmentView {
                    id: None,
                    name,
                    thumbnail: None,
                    width: 0,
                    height: 0,
                    error: Some(reason(&e, lang)),
                },
            }
        })
        .collect()
}

/// A bad file's reason without its path (the name is shown beside it).
fn reason(e: &Error, lang: Lang) -> String {
    match e {
        Error::BadInput { reason, .. } => reason.clone(),
        other => other.message(lang),
    }
}

/// Files dropped on the window: attach them and tell the webview.
pub fn on_drop(app: &AppHandle, paths: Vec<PathBuf>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let views = attach_paths(&app, paths).await;
        let _ = app.emit_to("main", "attachments", views);
    });
}
