//! Conversations for the sidebar and the chat view: thin commands over `gemma_desk_core::store`.
//! Answers are streamed into the store as they arrive (`chat.rs`); these commands list, open,
//! search, rename, delete, switch versions, export and import.

use crate::error::{CmdError, CmdResult};
use crate::state::AppState;
use gemma_desk_core::store::{Conversation, ImportReport, StoredMessage};
use gemma_desk_core::{markdown, Error, Lang, Role};
use serde::Serialize;
use tauri::{AppHandle, Manager, State};

/// A conversation in the sidebar; when searching, where it matched.
#[derive(Serialize)]
pub struct ListItem {
    #[serde(flatten)]
    conversation: Conversation,
    snippet: Option<String>,
    message_id: Option<i64>,
}

/// A message as the chat view shows it: an answer comes with its Markdown already rendered to
/// safe HTML (`core::markdown`), so opening a long conversation is one call, not one per message.
#[derive(Serialize)]
pub struct ViewMessage {
    #[serde(flatten)]
    message: StoredMessage,
    html: Option<String>,
    /// The model's thinking as safe HTML, like the answer (it is model output too).
    thinking_html: Option<String>,
}

impl From<StoredMessage> for ViewMessage {
    fn from(message: StoredMessage) -> Self {
        let html = (message.role == Role::Assistant).then(|| markdown::render(&message.content));
        let thinking_html = message.thinking.as_deref().filter(|t| !t.trim().is_empty()).map(markdown::render);
        ViewMessage { message, html, thinking_html }
    }
}

#[derive(Serialize)]
pub struct View {
    conversation: Conversation,
    messages: Vec<ViewMessage>,
}

/// Newest first; with a query, the conversations whose title or messages contain it.
#[tauri::command]
pub async fn list_conversations(state: State<'_, AppState>, query: Option<String>) -> CmdResult<Vec<ListItem>> {
    let store = state.conversations()?.clone();
    let query = query.map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    let list = move || -> Result<Vec<ListItem>, Error> {
        match query {
            None => Ok(store
                .list_conversations()?
                .into_iter()
                .map(|conversation| ListItem { conversation, snippet: None, message_id: None })
                .collect()),
            Some(q) => Ok(store
                .search(&q, 200)?
                .into_iter()
                .map(|h| ListItem { conversation: h.conversation, snippet: Some(h.snippet), message_id: h.message_id })
                .collect()),
        }
    };
    Ok(tauri::async_runtime::spawn_blocking(list).await??)
}

/// A conversation from its first message to the one on screen. With `message`, that message's
/// branch is brought on screen first (a search hit in an earlier version).
#[tauri::command]
pub async fn open_conversation(state: State<'_, AppState>, id: i64, message: Option<i64>) -> CmdResult<View> {
    let store = state.conversations()?.clone();
    Ok(tauri::async_runtime::spawn_blocking(move || {
        if let Some(m) = message {
            store.switch_to(m)?;
        }
        let view = store.open_conversation(id)?;
        Ok::<_, Error>(View {
            conversation: view.conversation,
            messages: view.messages.into_iter().map(Into::into).collect(),
        })
    })
    .await??)
}

/// Show another version of a message (regenerated answer, edited question); the new path comes back.
#[tauri::command]
pub async fn switch_version(state: State<'_, AppState>, message: i64) -> CmdResult<Vec<ViewMessage>> {
    let path = state.conversations()?.switch_to(message)?;
    Ok(path.into_iter().map(Into::into).collect())
}

#[tauri::command]
pub fn rename_conversation(state: State<'_, AppState>, id: i64, title: String) -> CmdResult<Conversation> {
    Ok(state.conversations()?.rename_conversation(id, title.trim())?)
}

/// Really deleted: the store zeroes the freed pages and truncates its log.
#[tauri::command]
pub async fn delete_conversation(state: State<'_, AppState>, id: i64) -> CmdResult<()> {
    let store = state.conversations()?.clone();
    Ok(tauri::async_runtime::spawn_blocking(move || store.delete_conversation(id)).await??)
}

/// A stored photo as a `data:` URI, to show it again in a reopened conversation.
#[tauri::command]
pub fn image_data(state: State<'_, AppState>, sha256: String) -> CmdResult<String> {
    Ok(state.conversations()?.image(&sha256)?.data_uri())
}

/// Save one conversation as Markdown or JSON where the user chooses; `None` when cancelled.
#[tauri::command]
pub async fn export_conversation(app: AppHandle, id: i64, format: String) -> CmdResult<Option<String>> {
    let state = app.state::<AppState>();
    let lang = state.lang();
    let store = state.conversations()?;
    let title = store.conversation(id)?.title;
    let (doc, ext) = match format.as_str() {
        "json" => (store.export_json(id), "json"),
        _ => (store.export_markdown(id, lang), "md"),
    };
    let doc = doc?;
    let name = format!("{}.{ext}", file_stem(&title, lang.pick("conversation", "对话")));
    save(lang, &name, doc).await
}

/// Every conversation (with its photos) in one JSON file, for backup.
#[tauri::command]
pub async fn export_all(app: AppHandle) -> CmdResult<Option<String>> {
    let state = app.state::<AppState>();
    let lang = state.lang();
    let store = state.conversations()?.clone();
    let doc = tauri::async_runtime::spawn_blocking(move || store.export_all_json()).await??;
    save(lang, &format!("{}.json", lang.pick("gemma-desk-conversations", "gemma-desk-对话备份")), doc).await
}

/// Bring conversations back from a backup (or another machine's export). Importing the same file
/// twice adds nothing; `None` when the user cancelled the dialog.
#[tauri::command]
pub async fn import_conversations(app: AppHandle) -> CmdResult<Option<ImportReport>> {
    let state = app.state::<AppState>();
    let lang = state.lang();
    let store = state.conversations()?.clone();
    let Some(path) = open_path(lang).await else { return Ok(None) };
    let text = tokio::fs::read_to_string(&path)
        .await
        .map_err(|e| Error::BadInput { path: path.display().to_string(), reason: e.to_string() })?;
    let imported = tauri::async_runtime::spawn_blocking(move || store.import_json(&text)).await??;
    Ok(Some(imported))
}

/// A file name from a title: no path separators or characters Windows refuses, not too long.
fn file_stem(title: &str, fallback: &str) -> String {
    let cleaned: String = title
        .chars()
        .map(|c| if "/\\:*?\"<>|".contains(c) || c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let short: String = cleaned.chars().take(60).collect();
    if short.is_empty() {
        fallback.to_string()
    } else {
        short
    }
}

/// Write `doc` where the user chooses. Test builds may name a folder instead
/// (`GEMMA_DESK_E2E_SAVE_DIR`): WebDriver cannot reach a native dialog.
pub async fn save(lang: Lang, default_name: &str, doc: String) -> CmdResult<Option<String>> {
    let path = {
        #[cfg(feature = "e2e")]
        let test_dir = std::env::var_os("GEMMA_DESK_E2E_SAVE_DIR").map(std::path::PathBuf::from);
        #[cfg(not(feature = "e2e"))]
        let test_dir: Option<std::path::PathBuf> = None;
        match test_dir {
            Some(dir) => Some(dir.join(default_name)),
            None => rfd::AsyncFileDialog::new()
                .set_title(lang.pick("Save", "保存"))
                .set_file_name(default_name)
                .save_file()
                .await
                .map(|f| f.path().to_path_buf()),
        }
    };
    let Some(path) = path else { return Ok(None) };
    tokio::fs::write(&path, doc)
        .await
        .map_err(|e| CmdError::failed(("Could not save to ", "无法保存到 "), format!("{}: {e}", path.display())))?;
    Ok(Some(path.display().to_string()))
}

/// The file to import. Test builds read `GEMMA_DESK_E2E_OPEN_FILE` instead of asking.
async fn open_path(lang: Lang) -> Option<std::path::PathBuf> {
    #[cfg(feature = "e2e")]
    if let Some(file) = std::env::var_os("GEMMA_DESK_E2E_OPEN_FILE") {
        return Some(file.into());
    }
    rfd::AsyncFileDialog::new()
        .set_title(lang.pick("Import conversations", "导入对话"))
        .add_filter("JSON", &["json"])
        .pick_file()
        .await
        .map(|f| f.path().to_path_buf())
}
