//! A saved chat turn (`gemma_desk_core::turn`) against the emulator and a real store: the question is saved
//! before the model is asked, the answer as it streams; a stop keeps the partial answer marked incomplete, a
//! failure keeps it with the error; regenerate and edit add versions beside the old ones.

use gemma_desk_core::agent::{AgentEvent, AnswerRequest};
use gemma_desk_core::store::{ImageInput, MessageStatus, Store, StoredMessage};
use gemma_desk_core::turn::{SavedTurn, Turn, TurnEvent};
use gemma_desk_core::{Backend, Error, Lang, Message, Role, ServerKind};
use ollama_emulator::{Emulator, Reply};
use serde_json::Value;
use tempfile::TempDir;

struct Setup {
    emu: Emulator,
    backend: Backend,
    store: Store,
    _dir: TempDir,
}

fn setup() -> Setup {
    let emu = Emulator::start();
    let backend = Backend::connect(ServerKind::Ollama, Some(&emu.url()), None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    Setup { emu, backend, store, _dir: dir }
}

/// The request the desktop app makes: the history as it is, in `lang`.
fn request_in(lang: Lang) -> impl FnOnce(Vec<Message>) -> AnswerRequest + Send {
    move |history| {
        let mut r = AnswerRequest::new("gemma3:4b", history);
        r.lang = lang;
        r
    }
}

/// Answers `turn` to the end, with every event it told.
async fn answer(s: &Setup, turn: Turn) -> (Result<SavedTurn, Error>, Vec<TurnEvent>) {
    let mut events = Vec::new();
    let r = turn.answer(&s.backend, request_in(Lang::En), &mut |e| events.push(e)).await;
    (r, events)
}

fn streamed(events: &[TurnEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            TurnEvent::Agent(AgentEvent::Delta { text }) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn contents(path: &[StoredMessage]) -> Vec<&str> {
    path.iter().map(|m| m.content.as_str()).collect()
}

/// The messages of the last chat request, as (role, content).
fn last_sent(emu: &Emulator) -> Vec<(String, String)> {
    let body: Value = emu.requests_to("/api/chat").pop().unwrap().body;
    let messages = body["messages"].as_array().unwrap().iter();
    messages.map(|m| (m["role"].as_str().unwrap().into(), m["content"].as_str().unwrap().into())).collect()
}

#[tokio::test]
async fn a_sent_turn_saves_the_question_first_and_the_answer_as_it_streams() {
    let s = setup();
    s.emu.push_reply(Reply::chunks(&["Hello", " there."]));
    let turn = Turn::send(&s.store, &s.backend, None, "Hi?", Vec::new(), "gemma3:4b").await.unwrap();
    let (saved, events) = answer(&s, turn).await;
    let saved = saved.unwrap();

    let TurnEvent::Started { conversation, user, answer_id } = &events[0] else { panic!("{:?}", events[0]) };
    let user = user.as_ref().unwrap();
    assert_eq!((user.role, user.content.as_str()), (Role::User, "Hi?"));
    assert_eq!(*answer_id, saved.answer.id);
    assert_eq!(conversation.id, saved.conversation.id);
    assert_eq!(streamed(&events), "Hello there.");

    assert_eq!(saved.user.as_ref(), Some(user));
    assert_eq!((saved.answer.status, saved.answer.content.as_str()), (MessageStatus::Complete, "Hello there."));
    assert_eq!(saved.answer.model.as_deref(), Some("gemma3:4b"));
    assert_eq!(saved.answer.stats.as_ref().unwrap()["mode"], "plain");
    assert_eq!(saved.conversation.head_id, Some(saved.answer.id));
    assert_eq!(contents(&s.store.current_path(conversation.id).unwrap()), ["Hi?", "Hello there."]);
    assert_eq!(last_sent(&s.emu), [("user".to_string(), "Hi?".to_string())]);

    // A follow-up in the same conversation sends the history.
    s.emu.push_reply(Reply::text("Fine."));
    let turn = Turn::send(&s.store, &s.backend, Some(conversation.id), "And you?", Vec::new(), "gemma3:4b").await;
    answer(&s, turn.unwrap()).await.0.unwrap();
    let roles: Vec<String> = last_sent(&s.emu).into_iter().map(|(role, _)| role).collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
}

#[tokio::test]
async fn a_stopped_turn_keeps_the_partial_answer_marked_incomplete() {
    let s = setup();
    s.emu.push_reply(Reply::chunks(&["Part one", " never sent"]).stall_after(1));
    let turn = Turn::send(&s.store, &s.backend, None, "Tell me", Vec::new(), "gemma3:4b").await.unwrap();
    let (first_text, heard) = tokio::sync::oneshot::channel::<i64>();
    let backend = s.backend.clone();
    // As the desktop app does: the answer runs in a task, and Stop aborts it.
    let task = tokio::spawn(async move {
        let mut answer_id = 0;
        let mut first_text = Some(first_text);
        let mut on_event = |e: TurnEvent| match e {
            TurnEvent::Started { answer_id: id, .. } => answer_id = id,
            TurnEvent::Agent(AgentEvent::Delta { .. }) => {
                if let Some(tx) = first_text.take() {
                    let _ = tx.send(answer_id);
                }
            }
            _ => {}
        };
        turn.answer(&backend, request_in(Lang::En), &mut on_event).await
    });
    let answer_id = heard.await.unwrap();
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());

    let answer = s.store.message(answer_id).unwrap();
    assert_eq!((answer.status, answer.content.as_str()), (MessageStatus::Incomplete, "Part one"));
    assert_eq!(answer.error, None);
    // The question stays, with the partial answer under it.
    let path = s.store.current_path(answer.conversation_id).unwrap();
    assert_eq!(contents(&path), ["Tell me", "Part one"]);
}

#[tokio::test]
async fn a_failed_answer_is_kept_with_the_error_in_the_users_language() {
    let s = setup();
    s.emu.push_reply(Reply::chunks(&["Half", " more"]).error_after(1, "model crashed"));
    let turn = Turn::send(&s.store, &s.backend, None, "问题", Vec::new(), "gemma3:4b").await.unwrap();
    let mut answer_id = 0;
    let mut on_event = |e: TurnEvent| {
        if let TurnEvent::Started { answer_id: id, .. } = e {
            answer_id = id;
        }
    };
    let err = turn.answer(&s.backend, request_in(Lang::Zh), &mut on_event).await.unwrap_err();
    assert_eq!(err.kind(), "stream");
    let answer = s.store.message(answer_id).unwrap();
    assert_eq!((answer.status, answer.content.as_str()), (MessageStatus::Error, "Half"));
    assert_eq!(answer.error, Some(err.message(Lang::Zh)));
}

#[tokio::test]
async fn regenerate_and_edit_keep_the_earlier_versions() {
    let s = setup();
    s.emu.push_reply(Reply::text("First answer."));
    let turn = Turn::send(&s.store, &s.backend, None, "Question", Vec::new(), "gemma3:4b").await.unwrap();
    let first = answer(&s, turn).await.0.unwrap();
    let question = first.user.unwrap();

    // Regenerate: a second answer beside the first; the history sent ends with the question.
    s.emu.push_reply(Reply::text("Second answer."));
    let turn = Turn::regenerate(&s.store, &s.backend, first.answer.id, "gemma3:4b").await.unwrap();
    let (second, events) = answer(&s, turn).await;
    let second = second.unwrap();
    assert!(matches!(&events[0], TurnEvent::Started { user: None, .. }));
    assert_eq!(second.user, None);
    assert_eq!(second.answer.parent_id, Some(question.id));
    assert_eq!(second.answer.versions, [first.answer.id, second.answer.id]);
    assert_eq!(last_sent(&s.emu), [("user".to_string(), "Question".to_string())]);

    // Edit the question: a new version of it, answered; the old question keeps its answers.
    s.emu.push_reply(Reply::text("Third answer."));
    let turn = Turn::edit(&s.store, &s.backend, question.id, "Better question", "gemma3:4b").await.unwrap();
    let third = answer(&s, turn).await.0.unwrap();
    let edited = third.user.unwrap();
    assert_eq!(edited.versions, [question.id, edited.id]);
    assert_eq!(contents(&s.store.current_path(third.conversation.id).unwrap()), ["Better question", "Third answer."]);
    assert_eq!(last_sent(&s.emu), [("user".to_string(), "Better question".to_string())]);
    let old = s.store.switch_to(question.id).unwrap();
    assert_eq!(contents(&old), ["Question", "Second answer."]);
}

#[tokio::test]
async fn photos_go_only_to_a_model_that_sees_and_nothing_is_saved_before_that() {
    let s = setup();
    let photo = ImageInput { bytes: b"\x89PNG not really".to_vec(), mime: "image/png".into(), width: 4, height: 3 };
    let r = Turn::send(&s.store, &s.backend, None, "What is this?", vec![photo], "gemma3:1b").await;
    assert!(matches!(r, Err(Error::ModelUnable { .. })), "{:?}", r.err());
    let r = Turn::send(&s.store, &s.backend, None, "Hi", Vec::new(), " ").await;
    assert!(matches!(r, Err(Error::NoSuitableModel { .. })), "{:?}", r.err());
    assert!(s.store.list_conversations().unwrap().is_empty());
    assert!(s.emu.requests_to("/api/chat").is_empty());
}
