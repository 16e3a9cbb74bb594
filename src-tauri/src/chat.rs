//! A turn of a saved conversation: the user's message is stored before anything is sent, and the
//! answer is written to the store as it streams (so a crash or kill keeps what had arrived, marked
//! incomplete). Regenerate and edit-and-resend add versions; the earlier ones stay.

use crate::conversations::ViewMessage;
use crate::state::AppState;
use gemma_desk_core::agent::{self, AgentEvent};
use gemma_desk_core::error::ErrorReport;
use gemma_desk_core::store::{Conversation, ImageInput, NewMessage, Store, StreamWriter};
use gemma_desk_core::{Capability, Error, Lang};
use serde::Serialize;
use serde_json::{json, Value};
use tauri::ipc::Channel;
use tauri::State;

type CmdResult<T> = Result<T, ErrorReport>;

/// What a finished turn leaves: the conversation (for the sidebar) and the saved messages.
#[derive(Serialize)]
pub struct Turn {
    conversation: Conversation,
    /// The user's message as saved (`None` when regenerating).
    user: Option<ViewMessage>,
    answer: ViewMessage,
}

/// Send `text` (and attached photos) in conversation `conversation` (a new one when `None`).
/// Events on `on_event`: first `started` (`{conversation, user, answer_id}`: all saved), then the
/// agent's `delta`/`step`/`retract`. Resolves with the saved turn; an error rejects, and the partial
/// answer is saved with the error.
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
    on_event: Channel<Value>,
) -> CmdResult<Turn> {
    let lang = state.lang();
    let err = |e: Error| e.report(lang);
    let store = state.conversations().map_err(err)?.clone();
    check_model(&state, &model, !attachments.is_empty()).await.map_err(err)?;
    let mut images = Vec::new();
    for a in &attachments {
        let photo = state.attachment(a).ok_or_else(|| Error::BadInput {
            path: a.clone(),
            reason: lang
                .pick("this photo is no longer available; attach it again", "这张照片已不可用，请重新添加")
                .into(),
        });
        images.push(ImageInput::from(&photo.map_err(err)?));
    }
    let conversation = match conversation {
        Some(c) => c,
        None => store.create_conversation("").map_err(err)?.id,
    };
    // Saved before it is sent: whatever happens next, the question is not lost.
    let user = store.append(conversation, NewMessage::user(text).with_images(images)).map_err(err)?;
    for a in &attachments {
        state.remove_attachment(a);
    }
    let writer = store.start_answer(user.id, &model).map_err(err)?;
    let user_view = ViewMessage::from(user.clone());
    run(&state, &store, id, user.id, Some(user_view), writer, model, tools, on_event).await
}

/// Another answer to the question answered by `answer` (kept as an earlier version).
#[tauri::command]
pub async fn chat_regenerate(
    state: State<'_, AppState>,
    id: String,
    answer: i64,
    model: String,
    tools: bool,
    on_event: Channel<Value>,
) -> CmdResult<Turn> {
    let lang = state.lang();
    let err = |e: Error| e.report(lang);
    let store = state.conversations().map_err(err)?.clone();
    let old = store.message(answer).map_err(err)?;
    let question = old.parent_id.ok_or_else(|| Error::Other("this answer has no question".into())).map_err(err)?;
    let has_images = !store.message(question).map_err(err)?.images.is_empty();
    check_model(&state, &model, has_images).await.map_err(err)?;
    let writer = store.regenerate(answer, &model).map_err(err)?;
    run(&state, &store, id, question, None, writer, model, tools, on_event).await
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
    on_event: Channel<Value>,
) -> CmdResult<Turn> {
    let lang = state.lang();
    let err = |e: Error| e.report(lang);
    let store = state.conversations().map_err(err)?.clone();
    let old = store.message(message).map_err(err)?;
    let mut images = Vec::new();
    for r in &old.images {
        let stored = store.image(&r.sha256).map_err(err)?;
        images.push(ImageInput { bytes: stored.bytes, mime: r.mime.clone(), width: r.width, height: r.height });
    }
    check_model(&state, &model, !images.is_empty()).await.map_err(err)?;
    let user = store.edit_message(message, &text, images).map_err(err)?;
    let writer = store.start_answer(user.id, &model).map_err(err)?;
    let user_view = ViewMessage::from(user.clone());
    run(&state, &store, id, user.id, Some(user_view), writer, model, tools, on_event).await
}

/// Photos only go to a model that sees them: said before anything is sent (or saved).
async fn check_model(state: &AppState, model: &str, images: bool) -> Result<(), Error> {
    if model.trim().is_empty() {
        return Err(Error::NoSuitableModel { what: "chat".into() });
    }
    if images {
        state.backend()?.resolve_model(Some(model), &[Capability::Vision]).await?;
    }
    Ok(())
}

/// Stream the answer to `question` into `writer` and to the webview; `stop_chat(id)` cancels it.
#[allow(clippy::too_many_arguments)]
async fn run(
    state: &AppState,
    store: &Store,
    id: String,
    question: i64,
    user: Option<ViewMessage>,
    mut writer: StreamWriter,
    model: String,
    tools: bool,
    on_event: Channel<Value>,
) -> CmdResult<Turn> {
    let lang = state.lang();
    let err = |e: Error| e.report(lang);
    let conversation = store.conversation(writer.conversation_id()).map_err(err)?;
    let _ = on_event.send(json!({
        "event": "started",
        "data": { "conversation": conversation, "user": &user, "answer_id": writer.id() },
    }));
    let history = store.chat_history(question).map_err(err)?;
    let client = state.backend().map_err(err)?;
    // The log says what happened, never what was said (see logging.rs).
    tracing::info!(server = client.kind().as_str(), model = %model, tools, messages = history.len(), "answer started");
    let started = std::time::Instant::now();
    let mut request = state.answer_request(model, history);
    request.tools = tools;
    let task = tokio::spawn(async move {
        let result = {
            let mut send = |event: AgentEvent| {
                // The store writes at most every 250 ms; a failed write is retried with the next.
                let _ = match &event {
                    AgentEvent::Delta { text } => writer.push(text).map(|_| ()),
                    AgentEvent::Step(step) => writer.push_step(serde_json::to_value(step).unwrap_or_default()),
                    AgentEvent::Retract => {
                        writer.retract();
                        Ok(())
                    }
                };
                let _ = on_event.send(serde_json::to_value(&event).unwrap_or_default());
            };
            agent::answer(&client, request, &mut send).await
        };
        finish(writer, result, lang)
    });
    state.running.lock().unwrap().insert(id.clone(), task.abort_handle());
    let result = task.await;
    state.running.lock().unwrap().remove(&id);
    let ms = started.elapsed().as_millis() as u64;
    match &result {
        Ok(Ok(answer)) => tracing::info!(ms, chars = answer.content.chars().count(), "answer finished"),
        Ok(Err(r)) => {
            tracing::warn!(ms, kind = r.kind, "answer failed: {}", crate::logging::error_detail(r.kind, &r.message))
        }
        Err(_) => tracing::info!(ms, "answer stopped"),
    }
    let conversation = store.conversation(conversation.id).map_err(err)?;
    match result {
        Ok(Ok(answer)) => Ok(Turn { conversation, user, answer: answer.into() }),
        Ok(Err(report)) => Err(report),
        // Stopped: the dropped writer saved what had arrived, marked incomplete; dropping the
        // request closed the connection, so Ollama stops too.
        Err(_) => Err(Error::Cancelled.report(lang)),
    }
}

/// Seal the answer in the store with how it ended.
fn finish(
    writer: StreamWriter,
    result: Result<agent::AgentOutcome, Error>,
    lang: Lang,
) -> Result<gemma_desk_core::store::StoredMessage, ErrorReport> {
    match result {
        Ok(out) => {
            let stats = json!({
                "mode": out.mode,
                "rounds": out.rounds,
                "done_reason": out.done_reason,
                "tokens_per_second": out.tokens_per_second,
            });
            writer.finish(Some(stats)).map_err(|e| e.report(lang))
        }
        Err(e) => {
            let report = e.report(lang);
            let _ = writer.fail(&report.message);
            Err(report)
        }
    }
}
