//! A saved chat turn: the user's message is stored before anything is sent, and the answer is written to the
//! store as it streams (so a crash, a kill or a Stop keeps what had arrived, marked incomplete). Regenerate and
//! edit-and-resend add versions; the earlier ones stay.
//!
//! Two steps, because the caller cancels only the second: [`Turn::send`], [`Turn::regenerate`] or [`Turn::edit`]
//! save the question and start the answer's message, without asking the server anything, so that a question
//! typed is never lost to a server that is down or a model that cannot see its photos; [`Turn::answer`] checks
//! the model, asks it and streams into the answer, and a failure of either is saved in the answer as an error
//! (so Regenerate retries it). Cancelling is dropping that future (the desktop app aborts its task), or the
//! [`Turn`] before it is answered: the store's writer then keeps the partial answer marked incomplete, and the
//! closed request stops the server. Events go to a plain callback, so the core needs no channel type of any GUI.

use crate::agent::{self, AgentEvent, AnswerRequest};
use crate::store::{
    Conversation, ConversationId, ImageInput, MessageId, NewMessage, Store, StoredMessage, StreamWriter,
};
use crate::{Backend, Capability, Error, Lang, Message, Result};
use serde_json::json;
use std::time::{Duration, Instant};

/// What a turn tells its caller while it runs.
#[derive(Debug, Clone, PartialEq)]
// `Started` is large but sent once per turn, and the events are passed by value to a callback: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum TurnEvent {
    /// First, once everything is saved: the conversation, the user's message (`None` when regenerating) and the
    /// id of the (still empty) answer the text goes into.
    Started { conversation: Conversation, user: Option<StoredMessage>, answer_id: MessageId },
    /// The agent's text, tool steps and retractions, as they are saved.
    Agent(AgentEvent),
}

/// A turn under way: its question saved, its answer's message started (status `streaming`).
pub struct Turn {
    store: Store,
    question: MessageId,
    /// Whether the question has photos: only a model that sees them may be asked.
    photos: bool,
    /// Whether it has audio clips: only a model that hears them may be asked.
    clips: bool,
    /// The user's message as saved (`None` when regenerating).
    user: Option<StoredMessage>,
    writer: StreamWriter,
}

/// What a finished turn leaves: the conversation (for a sidebar) and the saved messages.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedTurn {
    pub conversation: Conversation,
    pub user: Option<StoredMessage>,
    pub answer: StoredMessage,
}

/// Audio clips are kept with a message like its photos (the store keeps media by content), told apart by type.
pub fn is_audio(mime: &str) -> bool {
    mime.starts_with("audio/")
}

/// Said before anything is saved, where the server can tell: no model chosen, photos for a model that does not see,
/// clips for one that does not hear. A server that cannot be asked refuses nothing here: the question is then saved
/// and its answer says what went wrong ([`Turn::answer`] checks again), so typed text is never lost to a server
/// that is down.
pub async fn refuse_early(backend: &Backend, model: &str, photos: bool, clips: bool) -> Result<()> {
    let refusal = |r: Result<()>| match r {
        Err(e @ (Error::ModelUnable { .. } | Error::NoSuitableModel { .. } | Error::CannotHear { .. })) => Err(e),
        _ => Ok(()),
    };
    refusal(check_model(backend, model, photos).await)?;
    if clips {
        refusal(backend.check_hears(model).await)?;
    }
    Ok(())
}

/// Photos only go to a model that sees them: said before anything is sent. A blank model is none.
pub async fn check_model(backend: &Backend, model: &str, images: bool) -> Result<()> {
    if model.trim().is_empty() {
        return Err(Error::NoSuitableModel { what: "chat".into() });
    }
    if images {
        backend.resolve_model(Some(model), &[Capability::Vision]).await?;
    }
    Ok(())
}

impl Turn {
    /// `text` (and photos) in `conversation`, a new one when `None`, answered by `model`.
    pub fn send(
        store: &Store,
        conversation: Option<ConversationId>,
        text: &str,
        images: Vec<ImageInput>,
        model: &str,
    ) -> Result<Turn> {
        let conversation = match conversation {
            Some(c) => c,
            None => store.create_conversation("")?.id,
        };
        // Saved before it is sent: whatever happens next, the question is not lost.
        let user = store.append(conversation, NewMessage::user(text).with_images(images))?;
        let writer = store.start_answer(user.id, model)?;
        Ok(Turn::asking(store, &user, Some(user.clone()), writer))
    }

    /// Another answer to the question answered by `answer` (kept as an earlier version).
    pub fn regenerate(store: &Store, answer: MessageId, model: &str) -> Result<Turn> {
        let old = store.message(answer)?;
        let question = old.parent_id.ok_or_else(|| Error::Other("this answer has no question".into()))?;
        let question = store.message(question)?;
        let writer = store.regenerate(answer, model)?;
        Ok(Turn::asking(store, &question, None, writer))
    }

    /// A new version of the user's message `message` (its photos kept), to be answered.
    pub fn edit(store: &Store, message: MessageId, text: &str, model: &str) -> Result<Turn> {
        let old = store.message(message)?;
        let mut images = Vec::new();
        for r in &old.images {
            let stored = store.image(&r.sha256)?;
            images.push(ImageInput { bytes: stored.bytes, mime: r.mime.clone(), width: r.width, height: r.height });
        }
        let user = store.edit_message(message, text, images)?;
        let writer = store.start_answer(user.id, model)?;
        Ok(Turn::asking(store, &user, Some(user.clone()), writer))
    }

    /// Ends the turn unanswered because of `error` (its caller could not even ask, e.g. no server to ask): the
    /// error is saved in the answer, in `lang`, as [`answer`](Self::answer) saves one, and returned.
    pub fn fail(self, error: Error, lang: Lang) -> Error {
        let _ = self.writer.fail(&error.message(lang));
        error
    }

    fn asking(store: &Store, question: &StoredMessage, user: Option<StoredMessage>, writer: StreamWriter) -> Turn {
        let photos = question.images.iter().any(|i| !is_audio(&i.mime));
        let clips = question.images.iter().any(|i| is_audio(&i.mime));
        Turn { store: store.clone(), question: question.id, photos, clips, user, writer }
    }

    /// Ask the model and save its answer as it streams. `request` makes the request from the history up to the
    /// question (the caller adds its options); `on_event` hears [`TurnEvent::Started`] first, then the agent's
    /// events. A failed answer, or a model that cannot answer (see [`check_model`]), is saved with the error's text
    /// in the request's language, and the error returned.
    pub async fn answer(
        self,
        backend: &Backend,
        request: impl FnOnce(Vec<Message>) -> AnswerRequest + Send,
        on_event: &mut (dyn FnMut(TurnEvent) + Send),
    ) -> Result<SavedTurn> {
        let Turn { store, question, photos, clips, user, mut writer } = self;
        let conversation = store.conversation(writer.conversation_id())?;
        on_event(TurnEvent::Started { conversation, user: user.clone(), answer_id: writer.id() });
        let request = request(store.chat_history(question)?);
        let lang = request.lang;
        // How long the model thought before its answer began ("Thought for 12 s"), kept with the stats.
        let mut thinking_since: Option<Instant> = None;
        let mut thought_for: Option<Duration> = None;
        let result = async {
            check_model(backend, &request.model, photos).await?;
            if clips {
                backend.check_hears(&request.model).await?;
            }
            agent::answer(backend, request, &mut |event: AgentEvent| {
                match &event {
                    AgentEvent::Thinking { .. } => {
                        thinking_since.get_or_insert_with(Instant::now);
                    }
                    AgentEvent::Delta { .. } if thought_for.is_none() => {
                        thought_for = thinking_since.map(|t| t.elapsed())
                    }
                    _ => {}
                }
                // The store writes at most every 250 ms; a failed write is retried with the next.
                let _ = match &event {
                    AgentEvent::Delta { text } => writer.push(text).map(|_| ()),
                    AgentEvent::Thinking { text } => writer.push_thinking(text).map(|_| ()),
                    AgentEvent::Step(step) => writer.push_step(serde_json::to_value(step).unwrap_or_default()),
                    AgentEvent::Retract => {
                        writer.retract();
                        Ok(())
                    }
                };
                on_event(TurnEvent::Agent(event));
            })
            .await
        }
        .await;
        let answer = match result {
            Ok(out) => {
                let stats = json!({
                    "mode": out.mode,
                    "rounds": out.rounds,
                    "done_reason": out.done_reason,
                    "tokens_per_second": out.tokens_per_second,
                    "prompt_tokens": out.prompt_tokens,
                    "completion_tokens": out.completion_tokens,
                    "thinking_ms": thought_for.or(thinking_since.map(|t| t.elapsed())).map(|d| d.as_millis() as u64),
                });
                writer.finish(Some(stats))?
            }
            Err(e) => {
                let _ = writer.fail(&e.message(lang));
                return Err(e);
            }
        };
        let conversation = store.conversation(answer.conversation_id)?;
        Ok(SavedTurn { conversation, user, answer })
    }
}
