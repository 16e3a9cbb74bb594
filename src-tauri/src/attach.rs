//! Photos the user attaches (dropped on the window, picked, or pasted), and the commands that attach and remove
//! them. Files are read and prepared in Rust; the webview only ever gets ids, thumbnails and sizes, and cannot
//! name a path.

use crate::error::CmdResult;
use crate::state::AppState;
use gemma_desk_core::audio;
use gemma_desk_core::images::{self, Detail, PrepareOptions, PreparedImage};
use gemma_desk_core::{Error, Lang};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, State};

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
    /// `image` or `audio`.
    pub kind: &'static str,
    /// A clip's length, for its player.
    pub duration_ms: Option<u64>,
    /// A clip as prepared (16 kHz mono WAV), as a `data:` URI for the composer's player.
    pub audio: Option<String>,
}

/// The file names taken as audio clips (the bytes decide the format; names only pick them out of a drop).
const AUDIO_EXTENSIONS: &[&str] = &["wav", "mp3", "flac", "ogg", "oga", "opus", "m4a", "aac", "mp4a"];

fn is_audio_file(p: &std::path::Path) -> bool {
    p.is_file()
        && p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Clips dropped or picked: refused at once (nothing read) unless the model in use hears; each decoded off the UI
/// thread to 16 kHz mono WAV (at most 30 s) and kept for sending.
async fn attach_clips(state: &AppState, paths: Vec<PathBuf>) -> Vec<AttachmentView> {
    let lang = state.lang();
    let model = state.settings.lock().unwrap().model.clone().unwrap_or_default();
    let refused = match state.backend() {
        Ok(backend) => backend.check_hears(&model).await.err(),
        Err(e) => Some(e),
    };
    let mut views = Vec::new();
    for path in paths {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let result = match &refused {
            Some(e) => Err(e.clone()),
            None => tauri::async_runtime::spawn_blocking(move || {
                audio::prepare_audio_file(&path, &audio::AudioOptions::default())
            })
            .await
            .unwrap_or_else(|e| Err(Error::Other(format!("audio preparation failed: {e}")))),
        };
        views.push(match result {
            Ok(clip) => {
                let (duration_ms, uri) =
                    (clip.duration_ms, format!("data:{};base64,{}", audio::AUDIO_MIME, clip.base64));
                let id = state.add_clip(clip);
                AttachmentView {
                    duration_ms: Some(duration_ms),
                    audio: Some(uri),
                    ..AttachmentView::clip(Some(id), name, None)
                }
            }
            Err(e) => AttachmentView::clip(None, name, Some(e.reason(lang))),
        });
    }
    views
}

impl AttachmentView {
    fn clip(id: Option<String>, name: String, error: Option<String>) -> AttachmentView {
        AttachmentView {
            id,
            name,
            thumbnail: None,
            width: 0,
            height: 0,
            error,
            kind: "audio",
            duration_ms: None,
            audio: None,
        }
    }
}

/// Photos are prepared for the chosen model's vision input (`/api/show`), else Gemma 3's 896 px. A model with a
/// variable image budget (Gemma 4) gets its high-detail size here; `chat_send` shrinks to the standard budget when
/// the conversation is at standard detail, so that detail is a choice at sending, not at attaching.
/// Asked briefly: a slow or absent server must not hold up attaching.
async fn prepare_options(state: &AppState) -> PrepareOptions {
    let model = state.settings.lock().unwrap().model.clone();
    let asked = match (model, state.backend()) {
        (Some(model), Ok(client)) => {
            tokio::time::timeout(Duration::from_secs(2), client.prepare_options(&model, Detail::High)).await.ok()
        }
        _ => None,
    };
    asked.unwrap_or_else(|| PrepareOptions::with_max_side(images::DEFAULT_MAX_SIDE))
}

/// Prepare the photos at `paths` (folders expand to the images in them) and keep them for sending.
async fn attach_paths(app: &AppHandle, paths: Vec<PathBuf>) -> Vec<AttachmentView> {
    let state = app.state::<AppState>();
    let (clips, paths): (Vec<PathBuf>, Vec<PathBuf>) = paths.into_iter().partition(|p| is_audio_file(p));
    let mut views = if clips.is_empty() { Vec::new() } else { attach_clips(&state, clips).await };
    if paths.is_empty() {
        return views;
    }
    let files = images::collect_images(&paths);
    let opts = prepare_options(&state).await;
    let work = files.clone();
    let prepared = tauri::async_runtime::spawn_blocking(move || {
        images::prepare_many(&work, &opts).into_iter().map(with_thumbnail).collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    let names = files.iter().map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    views.extend(names.zip(prepared).map(|(name, result)| keep(&state, name, result)));
    views
}

/// A photo pasted from the clipboard: the bytes of an image file, when the webview's paste
/// event carries one (a file copied in a file manager or browser).
async fn attach_bytes(app: &AppHandle, name: String, bytes: Vec<u8>) -> AttachmentView {
    attach_with(app, name, move |opts| {
        let limit = opts.max_file_bytes;
        if bytes.len() as u64 > limit {
            return Err(images::ImageError::FileTooLarge { size_mb: bytes.len() as u64 >> 20, limit_mb: limit >> 20 });
        }
        images::prepare_bytes(&bytes, opts)
    })
    .await
}

/// A screenshot on the clipboard, as the pixels the system clipboard gives (WebKitGTK's paste
/// event does not carry images, so Rust reads them).
async fn attach_rgba(app: &AppHandle, name: String, width: u32, height: u32, rgba: Vec<u8>) -> AttachmentView {
    attach_with(app, name, move |opts| images::prepare_rgba8(width, height, &rgba, opts)).await
}

async fn attach_with(
    app: &AppHandle,
    name: String,
    prepare: impl FnOnce(&PrepareOptions) -> Result<PreparedImage, images::ImageError> + Send + 'static,
) -> AttachmentView {
    let state = app.state::<AppState>();
    let opts = prepare_options(&state).await;
    let label = PathBuf::from(&name);
    let result =
        tauri::async_runtime::spawn_blocking(move || with_thumbnail(prepare(&opts).map_err(|e| e.for_path(&label))))
            .await
            .unwrap_or_else(|e| Err(Error::Other(format!("image preparation failed: {e}"))));
    keep(&state, name, result)
}

type Prepared = Result<(Option<String>, PreparedImage), Error>;

fn with_thumbnail(r: Result<PreparedImage, Error>) -> Prepared {
    r.map(|p| (images::thumbnail_bytes(&p.encoded(), images::THUMBNAIL_SIDE).ok(), p))
}

/// Keep a prepared photo for sending and describe it for the composer.
fn keep(state: &AppState, name: String, result: Prepared) -> AttachmentView {
    match result {
        Ok((thumbnail, image)) => {
            let (width, height) = (image.width, image.height);
            let id = state.add_attachment(image);
            AttachmentView { id: Some(id), name, thumbnail, width, height, ..photo_view() }
        }
        Err(e) => AttachmentView { name, error: Some(e.reason(state.lang())), ..photo_view() },
    }
}

fn photo_view() -> AttachmentView {
    AttachmentView {
        id: None,
        name: String::new(),
        thumbnail: None,
        width: 0,
        height: 0,
        error: None,
        kind: "image",
        duration_ms: None,
        audio: None,
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

/// The system's file picker; the chosen photos are prepared and kept for sending.
#[tauri::command]
pub async fn pick_images(app: AppHandle) -> Vec<AttachmentView> {
    let lang = app.state::<AppState>().lang();
    let picked = rfd::AsyncFileDialog::new()
        .set_title(lang.pick("Choose photos or audio clips", "选择照片或音频"))
        .add_filter(lang.pick("Images", "图片"), images::IMAGE_EXTENSIONS)
        .add_filter(lang.pick("Audio clips", "音频"), AUDIO_EXTENSIONS)
        .pick_files()
        .await;
    let paths = picked.unwrap_or_default().into_iter().map(|f| f.path().to_path_buf()).collect();
    attach_paths(&app, paths).await
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
        Some(dir) => attach_paths(&app, vec![dir.path().to_path_buf()]).await,
        None => Vec::new(),
    }
}

/// The name of a pasted photo that came without one.
fn pasted_name(lang: Lang) -> String {
    lang.pick("Pasted image", "粘贴的图片").to_string()
}

/// A photo pasted into the window: the raw bytes of the clipboard's image as the request body
/// (no JSON, no base64), its name in the `x-name` header.
#[tauri::command]
pub async fn attach_pasted(app: AppHandle, request: tauri::ipc::Request<'_>) -> CmdResult<AttachmentView> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(Error::Usage("attach_pasted expects the image's bytes".into()).into());
    };
    let name = request.headers().get("x-name").and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_string();
    let name = if name.is_empty() { pasted_name(app.state::<AppState>().lang()) } else { name };
    Ok(attach_bytes(&app, name, bytes.clone()).await)
}

/// The image on the system clipboard (a screenshot), attached; `None` when it holds no image.
#[tauri::command]
pub async fn attach_clipboard_image(app: AppHandle) -> CmdResult<Option<AttachmentView>> {
    use tauri_plugin_clipboard_manager::ClipboardExt;
    let Ok(image) = app.clipboard().read_image() else { return Ok(None) };
    let (width, height, rgba) = (image.width(), image.height(), image.rgba().to_vec());
    drop(image);
    let name = pasted_name(app.state::<AppState>().lang());
    Ok(Some(attach_rgba(&app, name, width, height, rgba).await))
}

#[tauri::command]
pub fn remove_attachment(state: State<'_, AppState>, id: String) -> bool {
    state.remove_attachment(&id)
}

/// Test builds only (`--features e2e`): drop files on the window exactly as a user's drop does.
#[cfg(feature = "e2e")]
#[tauri::command]
pub fn e2e_drop(app: AppHandle, paths: Vec<PathBuf>) {
    on_drop(&app, paths);
}
