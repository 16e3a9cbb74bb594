//! "Caption all": each photo asked about on its own, not saved (`ask_once`), and the captions saved to a file
//! where the user chooses (`export_captions`).

use crate::error::{CmdError, CmdResult};
use crate::state::{AnswerChoices, AppState};
use gemma_desk_core::agent::{self, AgentEvent, AgentOutcome};
use gemma_desk_core::caption::{CaptionRow, ExportFormat};
use gemma_desk_core::{turn, Message, Role};
use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

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
    let client = state.backend()?;
    // Said before anything is sent to a model that cannot see.
    turn::check_model(&client, &model, messages.iter().any(|m| !m.attachments.is_empty())).await?;
    let messages = messages.into_iter().map(|m| m.into_message(&state)).collect::<CmdResult<Vec<_>>>()?;
    let choices = AnswerChoices { tools, ..AnswerChoices::default() };
    let request = state.answer_request(model, choices)(messages);
    let work = async move {
        let mut send = |event: AgentEvent| {
            let _ = on_event.send(event);
        };
        agent::answer(&client, request, &mut send).await
    };
    Ok(state.tasks.run(id, work).await??)
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
    fn into_message(self, state: &AppState) -> CmdResult<Message> {
        let mut m = Message::new(self.role, self.content);
        for id in &self.attachments {
            m.images.push(state.attachment_base64(id).ok_or_else(|| CmdError::photo_unavailable(id))?);
        }
        Ok(m)
    }
}

/// Save captions (a finished or stopped batch) where the user chooses. Resolves with the file
/// written, or `None` when the user cancelled the dialog.
#[tauri::command]
pub async fn export_captions(app: AppHandle, format: ExportFormat, rows: Vec<CaptionRow>) -> CmdResult<Option<String>> {
    let lang = app.state::<AppState>().lang();
    let default_name = format!("{}.{}", lang.pick("captions", "图片说明"), format.extension());
    crate::conversations::save(lang, &default_name, format.document(&rows)).await
}
