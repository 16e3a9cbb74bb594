//! A turn of a saved conversation, as the page starts and stops it. The turn itself (the question saved first,
//! the answer saved as it streams, versions) is `gemma_desk_core::turn`; here its events go to the page, and the
//! answer runs as a task that `stop_chat` can cancel.

use crate::conversations::ViewMessage;
use crate::error::{CmdError, CmdResult};
use crate::logging;
use crate::state::{AnswerChoices, AppState};
use gemma_desk_core::audio;
use gemma_desk_core::images::{self, Detail};
use gemma_desk_core::store::{Conversation, ImageInput};
use gemma_desk_core::turn::{self, SavedTurn, Turn, TurnEvent};
use gemma_desk_core::{Error, Message, Think};
use serde::Serialize;
use serde_json::{json, Value};
use std::time::Instant;
use tauri::ipc::Channel;
use tauri::State;

/// What a finished turn leaves: the conversation (for the sidebar) and the saved messages.
#[derive(Serialize)]
pub struct TurnView {
    conversation: Conversation,
    /// The user's message as saved (`None` when regenerating).
    user: Option<ViewMessage>,
    answer: ViewMessage,
}

impl From<SavedTurn> for TurnView {
    fn from(t: SavedTurn) -> Self {
        TurnView { conversation: t.conversation, user: t.user.map(Into::into), answer: t.answer.into() }
    }
}

/// Send `text` (and attached photos) in conversation `conversation` (a new one when `None`).
/// Events on `on_event`: first `started` (`{conversation, user, answer_id}`: all saved), then the
/// agent's `thinking`/`delta`/`step`/`retract`. Resolves with the saved turn; an error rejects, and the partial
/// answer is saved with the error. `think` and `detail` are the conversation's choices (absent: auto, standard).
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn chat_send(
    state: State<'_, AppState>,
    id: String,
    conversation: Option<i64>,
    text: String,
    attachments: Vec<String>,
    model: String,
    tools: bool,
    think: Option<Think>,
    detail: Option<Detail>,
    on_event: Channel<Value>,
) -> CmdResult<TurnView> {
    // A photo no longer there is said before anything is saved; a model or server that fails, after the question
    // is saved (with the error in its answer).
    let detail = detail.unwrap_or_default();
    let mut photos = Vec::new();
    let mut clips = Vec::new();
    for a in &attachments {
        match state.clip(a) {
            Some(clip) => clips.push(clip),
            None => photos.push(state.attachment(a).ok_or_else(|| CmdError::photo_unavailable(a))?),
        }
    }
    if let Ok(backend) = state.backend() {
        turn::refuse_early(&backend, &model, !photos.is_empty(), !clips.is_empty()).await?;
    }
    let mut choices = AnswerChoices { tools, think: think.unwrap_or_default(), image_max_tokens: None };
    // Photos were attached at the model's largest size (see attach.rs); here they get this conversation's detail.
    // Without a server to ask, they go as attached (and the answer fails with that error, saved).
    if let (false, Ok(backend)) = (photos.is_empty(), state.backend()) {
        let opts = backend.prepare_options(&model, detail).await;
        choices.image_max_tokens = detail.image_max_tokens(&opts);
        let fitted = tauri::async_runtime::spawn_blocking(move || {
            photos.iter().map(|p| images::refit(p, &opts)).collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| Error::Other(e.to_string()))?;
        photos = fitted.map_err(|error| Error::Image { path: String::new(), error })?;
    }
    // Clips are kept with the question like its photos; the turn checks that the model hears them.
    let mut images: Vec<ImageInput> = photos.iter().map(ImageInput::from).collect();
    images.extend(clips.into_iter().map(|c| ImageInput {
        bytes: c.wav,
        mime: audio::AUDIO_MIME.into(),
        width: 0,
        height: 0,
    }));
    let turn = Turn::send(state.conversations()?, conversation, &text, images, &model)?;
    // Saved with the question now: a retry is Regenerate, which reads them from the store.
    for a in &attachments {
        state.remove_attachment(a);
    }
    run(&state, id, turn, model, choices, on_event).await
}

/// Another answer to the question answered by `answer` (kept as an earlier version).
#[tauri::command]
pub async fn chat_regenerate(
    state: State<'_, AppState>,
    id: String,
    answer: i64,
    model: String,
    tools: bool,
    think: Option<Think>,
    on_event: Channel<Value>,
) -> CmdResult<TurnView> {
    let turn = Turn::regenerate(state.conversations()?, answer, &model)?;
    let choices = AnswerChoices { tools, think: think.unwrap_or_default(), image_max_tokens: None };
    run(&state, id, turn, model, choices, on_event).await
}

/// A new version of the user's message `message` (its photos kept), then an answer to it.
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn chat_edit(
    state: State<'_, AppState>,
    id: String,
    message: i64,
    text: String,
    model: String,
    tools: bool,
    think: Option<Think>,
    on_event: Channel<Value>,
) -> CmdResult<TurnView> {
    let turn = Turn::edit(state.conversations()?, message, &text, &model)?;
    let choices = AnswerChoices { tools, think: think.unwrap_or_default(), image_max_tokens: None };
    run(&state, id, turn, model, choices, on_event).await
}

/// Stops the answer (or caption question, see `captions::ask_once`) the page started under `id`.
#[tauri::command]
pub fn stop_chat(state: State<'_, AppState>, id: String) -> bool {
    state.tasks.stop(&id)
}

/// Streams the answer of `turn` into the store and to the page; `stop_chat(id)` cancels it, and the answer keeps
/// what had arrived, marked incomplete.
async fn run(
    state: &AppState,
    id: String,
    turn: Turn,
    model: String,
    choices: AnswerChoices,
    on_event: Channel<Value>,
) -> CmdResult<TurnView> {
    let backend = match state.backend() {
        Ok(backend) => backend,
        Err(e) => return Err(turn.fail(e, state.lang()).into()),
    };
    let server = backend.kind().as_str();
    let build = state.answer_request(model.clone(), choices);
    let (tools, think) = (choices.tools, choices.think.as_str());
    let request = move |history: Vec<Message>| {
        // The log says what happened, never what was said (see logging.rs).
        tracing::info!(server, model = %model, tools, think, messages = history.len(), "answer started");
        build(history)
    };
    let started = Instant::now();
    let work = async move {
        let mut forward = |event: TurnEvent| {
            let _ = on_event.send(page_event(event));
        };
        turn.answer(&backend, request, &mut forward).await
    };
    let result = state.tasks.run(id, work).await.and_then(|r| r);
    let ms = started.elapsed().as_millis() as u64;
    match &result {
        Ok(turn) => tracing::info!(ms, chars = turn.answer.content.chars().count(), "answer finished"),
        Err(Error::Cancelled) => tracing::info!(ms, "answer stopped"),
        Err(e) => {
            let message = e.message(state.lang());
            tracing::warn!(ms, kind = e.kind(), "answer failed: {}", logging::error_detail(e.kind(), &message))
        }
    }
    Ok(result?.into())
}

/// A turn's event as the page reads it: `{event, data}`, the user's message as the chat view shows messages.
fn page_event(event: TurnEvent) -> Value {
    match event {
        TurnEvent::Started { conversation, user, answer_id } => json!({
            "event": "started",
            "data": { "conversation": conversation, "user": user.map(ViewMessage::from), "answer_id": answer_id },
        }),
        TurnEvent::Agent(event) => serde_json::to_value(&event).unwrap_or_default(),
    }
}
