//! A saved chat turn (`gemma_desk_core::turn`) against the emulator and a real store: the question is saved
//! before the model is asked, the answer as it streams; a stop keeps the partial answer marked incomplete, a
//! failure keeps it with the error; regenerate and edit add versions beside the old ones. The edges: a question is
//! kept whatever the server or model does, and a turn stopped before its answer starts leaves none `streaming`.

use gemma_desk_core::agent::{AgentEvent, AnswerRequest};
use gemma_desk_core::store::{ImageInput, MessageStatus, Store, StoredMessage};
use gemma_desk_core::turn::{self, SavedTurn, Turn, TurnEvent};
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
    request_to("gemma3:4b", lang)
}

fn request_to(model: &str, lang: Lang) -> impl FnOnce(Vec<Message>) -> AnswerRequest + Send {
    let model = model.to_string();
    move |history| {
        let mut r = AnswerRequest::new(model, history);
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
    let turn = Turn::send(&s.store, None, "Hi?", Vec::new(), "gemma3:4b").unwrap();
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
    let turn = Turn::send(&s.store, Some(conversation.id), "And you?", Vec::new(), "gemma3:4b");
    answer(&s, turn.unwrap()).await.0.unwrap();
    let roles: Vec<String> = last_sent(&s.emu).into_iter().map(|(role, _)| role).collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
}

#[tokio::test]
async fn a_stopped_turn_keeps_the_partial_answer_marked_incomplete() {
    let s = setup();
    s.emu.push_reply(Reply::chunks(&["Part one", " never sent"]).stall_after(1));
    let turn = Turn::send(&s.store, None, "Tell me", Vec::new(), "gemma3:4b").unwrap();
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
    let turn = Turn::send(&s.store, None, "问题", Vec::new(), "gemma3:4b").unwrap();
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
    let turn = Turn::send(&s.store, None, "Question", Vec::new(), "gemma3:4b").unwrap();
    let first = answer(&s, turn).await.0.unwrap();
    let question = first.user.unwrap();

    // Regenerate: a second answer beside the first; the history sent ends with the question.
    s.emu.push_reply(Reply::text("Second answer."));
    let turn = Turn::regenerate(&s.store, first.answer.id, "gemma3:4b").unwrap();
    let (second, events) = answer(&s, turn).await;
    let second = second.unwrap();
    assert!(matches!(&events[0], TurnEvent::Started { user: None, .. }));
    assert_eq!(second.user, None);
    assert_eq!(second.answer.parent_id, Some(question.id));
    assert_eq!(second.answer.versions, [first.answer.id, second.answer.id]);
    assert_eq!(last_sent(&s.emu), [("user".to_string(), "Question".to_string())]);

    // Edit the question: a new version of it, answered; the old question keeps its answers.
    s.emu.push_reply(Reply::text("Third answer."));
    let turn = Turn::edit(&s.store, question.id, "Better question", "gemma3:4b").unwrap();
    let third = answer(&s, turn).await.0.unwrap();
    let edited = third.user.unwrap();
    assert_eq!(edited.versions, [question.id, edited.id]);
    assert_eq!(contents(&s.store.current_path(third.conversation.id).unwrap()), ["Better question", "Third answer."]);
    assert_eq!(last_sent(&s.emu), [("user".to_string(), "Better question".to_string())]);
    let old = s.store.switch_to(question.id).unwrap();
    assert_eq!(contents(&old), ["Question", "Second answer."]);
}

fn photo() -> ImageInput {
    // The PNG signature is all the emulator reads of it.
    ImageInput { bytes: b"\x89PNG\r\n\x1a\n not really".to_vec(), mime: "image/png".into(), width: 4, height: 3 }
}

/// Answers `turn` with `model` (in English): the result, and whether `Started` came before anything else.
async fn answer_with(backend: &Backend, turn: Turn, model: &str) -> (Result<SavedTurn, Error>, Vec<TurnEvent>) {
    let mut events = Vec::new();
    let r = turn.answer(backend, request_to(model, Lang::En), &mut |e| events.push(e)).await;
    (r, events)
}

/// The question and its answer as saved, from the `Started` event the turn told first.
fn saved_pair(store: &Store, events: &[TurnEvent]) -> (StoredMessage, StoredMessage) {
    let Some(TurnEvent::Started { user, answer_id, .. }) = events.first() else { panic!("{events:?}") };
    let answer = store.message(*answer_id).unwrap();
    let question = store.message(answer.parent_id.unwrap()).unwrap();
    if let Some(user) = user {
        assert_eq!(user.id, question.id);
    }
    (question, answer)
}

#[tokio::test]
async fn photos_go_only_to_a_model_that_sees_and_nothing_is_saved_before_that() {
    // Where the server can tell, the app refuses before saving anything (`refuse_early`, as chat_send does).
    let s = setup();
    let r = turn::refuse_early(&s.backend, "gemma3:1b", true, false).await;
    assert!(matches!(r, Err(Error::ModelUnable { .. })), "{:?}", r.err());
    let r = turn::refuse_early(&s.backend, " ", false, false).await;
    assert!(matches!(r, Err(Error::NoSuitableModel { .. })), "{:?}", r.err());
    assert!(s.store.list_conversations().unwrap().is_empty());
    assert!(s.emu.requests_to("/api/chat").is_empty());
    // A server that cannot be asked refuses nothing early: the question is saved and the answer says why.
    let gone = Backend::connect(ServerKind::Ollama, Some("http://127.0.0.1:9"), None).unwrap();
    assert!(turn::refuse_early(&gone, "gemma3:1b", true, false).await.is_ok());
    assert!(turn::refuse_early(&s.backend, "gemma3:4b", true, false).await.is_ok());
}

#[tokio::test]
async fn photos_go_only_to_a_model_that_sees_and_the_question_is_kept_to_retry() {
    let s = setup();
    let turn = Turn::send(&s.store, None, "What is this?", vec![photo()], "gemma3:1b").unwrap();
    let (r, events) = answer_with(&s.backend, turn, "gemma3:1b").await;
    let err = r.unwrap_err();
    assert!(matches!(err, Error::ModelUnable { .. }), "{err:?}");
    // Nothing went to the model, but the question (with its photo) is saved, and the answer says why.
    assert!(s.emu.requests_to("/api/chat").is_empty());
    assert_eq!(events.len(), 1, "{events:?}");
    let (question, answer) = saved_pair(&s.store, &events);
    assert_eq!((question.content.as_str(), question.images.len()), ("What is this?", 1));
    assert_eq!((answer.status, answer.error), (MessageStatus::Error, Some(err.message(Lang::En))));

    // The retry: Regenerate with a model that sees sends the saved photo.
    s.emu.push_reply(Reply::text("A square."));
    let turn = Turn::regenerate(&s.store, answer.id, "gemma3:4b").unwrap();
    let retried = answer_with(&s.backend, turn, "gemma3:4b").await.0.unwrap();
    assert_eq!((retried.answer.status, retried.answer.content.as_str()), (MessageStatus::Complete, "A square."));
    assert_eq!(retried.answer.versions, [answer.id, retried.answer.id]);
    let sent = s.emu.requests_to("/api/chat").pop().unwrap().body;
    assert_eq!(sent["messages"][0]["images"].as_array().map(Vec::len), Some(1));

    // No model at all: the same, the question kept.
    let turn = Turn::send(&s.store, None, "Hi", Vec::new(), " ").unwrap();
    let (r, events) = answer_with(&s.backend, turn, " ").await;
    assert!(matches!(r, Err(Error::NoSuitableModel { .. })), "{:?}", r.err());
    let (question, answer) = saved_pair(&s.store, &events);
    assert_eq!((question.content.as_str(), answer.status), ("Hi", MessageStatus::Error));
}

/// A server that is not there: a port that was free a moment ago.
fn closed_server() -> Backend {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    Backend::connect(ServerKind::Ollama, Some(&format!("http://127.0.0.1:{port}")), None).unwrap()
}

#[tokio::test]
async fn a_question_is_kept_when_the_server_cannot_be_reached() {
    let s = setup();
    let down = closed_server();
    // With photos the model is checked first (asking the server); without, the question is sent at once: either
    // way the question is saved before the server is asked, and the answer keeps the error.
    for photos in [vec![photo()], Vec::new()] {
        let turn = Turn::send(&s.store, None, "Still there?", photos, "gemma3:4b").unwrap();
        let (r, events) = answer_with(&down, turn, "gemma3:4b").await;
        let err = r.unwrap_err();
        assert_eq!(err.kind(), "unreachable", "{err:?}");
        let (question, answer) = saved_pair(&s.store, &events);
        assert_eq!(question.content, "Still there?");
        assert_eq!((answer.status, answer.error), (MessageStatus::Error, Some(err.message(Lang::En))));
    }
}

#[tokio::test]
async fn a_turn_that_cannot_even_ask_keeps_the_question_and_the_error() {
    let s = setup();
    let turn = Turn::send(&s.store, None, "Hello?", Vec::new(), "gemma3:4b").unwrap();
    let answer_id = s.store.current_path(s.store.list_conversations().unwrap()[0].id).unwrap()[1].id;
    let err = turn.fail(Error::Other("no server configured".into()), Lang::En);
    let answer = s.store.message(answer_id).unwrap();
    assert_eq!((answer.status, answer.error), (MessageStatus::Error, Some(err.message(Lang::En))));
    let question = s.store.message(answer.parent_id.unwrap()).unwrap();
    assert_eq!(question.content, "Hello?");
}

/// Every message of the conversation `answer` is in, with its status.
fn statuses(store: &Store, answer: i64) -> Vec<MessageStatus> {
    let conversation = store.message(answer).unwrap().conversation_id;
    store.current_path(conversation).unwrap().iter().map(|m| m.status).collect()
}

#[tokio::test]
async fn a_turn_stopped_before_its_answer_starts_leaves_no_streaming_message() {
    let s = setup();
    // Stopped before the task ran at all: the turn is dropped unanswered.
    let turn = Turn::send(&s.store, None, "First", Vec::new(), "gemma3:4b").unwrap();
    let conversation = s.store.list_conversations().unwrap()[0].id;
    let answer_id = s.store.current_path(conversation).unwrap()[1].id;
    assert_eq!(s.store.message(answer_id).unwrap().status, MessageStatus::Streaming);
    drop(turn);
    let answer = s.store.message(answer_id).unwrap();
    assert_eq!((answer.status, answer.content.as_str(), answer.error), (MessageStatus::Incomplete, "", None));

    // Stopped while the server has not sent a byte yet.
    s.emu.push_reply(Reply::text("Too late.").first_byte_delay_ms(10_000));
    let turn = Turn::send(&s.store, Some(conversation), "Second", Vec::new(), "gemma3:4b").unwrap();
    let (started, heard) = tokio::sync::oneshot::channel::<i64>();
    let backend = s.backend.clone();
    let task = tokio::spawn(async move {
        let mut started = Some(started);
        let mut on_event = |e: TurnEvent| {
            if let (TurnEvent::Started { answer_id, .. }, Some(tx)) = (e, started.take()) {
                let _ = tx.send(answer_id);
            }
        };
        turn.answer(&backend, request_in(Lang::En), &mut on_event).await
    });
    let answer_id = heard.await.unwrap();
    // Until the request is out: then the stop also closes it.
    while s.emu.requests_to("/api/chat").is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    let answer = s.store.message(answer_id).unwrap();
    assert_eq!((answer.status, answer.content.as_str(), answer.error), (MessageStatus::Incomplete, "", None));
    assert_eq!(
        statuses(&s.store, answer_id),
        [MessageStatus::Complete, MessageStatus::Incomplete, MessageStatus::Complete, MessageStatus::Incomplete]
    );
}
