//! Errors as commands return them. One type, so a command says `?` whatever failed (the core, a background task),
//! and a message that several commands can give is made in one place and reads the same in each.
//!
//! The page reads `{ kind, message, hint }` (the core's `ErrorReport`: `kind` for code, the rest for people); an
//! error is put into those words in the user's current language only when it is sent.

use crate::state;
use gemma_desk_core::error::ErrorReport;
use gemma_desk_core::{Error, ServerKind};
use serde::{Serialize, Serializer};

pub type CmdResult<T> = Result<T, CmdError>;

#[derive(Debug)]
pub struct CmdError {
    error: Error,
    /// The kind of server it came from, when that is worth saying ("the server" rather than "Ollama").
    server: Option<ServerKind>,
}

impl CmdError {
    /// An error from a server of this kind, worded for it.
    pub fn from_server(server: ServerKind) -> impl FnOnce(Error) -> CmdError {
        move |error| CmdError { error, server: Some(server) }
    }

    /// A photo the page refers to (by attachment id) that is no longer kept: sent already, removed, or the app
    /// restarted.
    pub fn photo_unavailable(id: &str) -> CmdError {
        let reason =
            state::lang().pick("this photo is no longer available; attach it again", "这张照片已不可用，请重新添加");
        Error::BadInput { path: id.to_string(), reason: reason.into() }.into()
    }

    /// A server id that is not in the settings.
    pub fn no_server(id: &str) -> CmdError {
        Error::Usage(format!("no server with id \"{id}\"")).into()
    }

    /// Something outside the core failed (the clipboard, the browser, a file): `doing` says what, in both
    /// languages, and the cause follows it.
    pub fn failed(doing: (&str, &str), cause: impl std::fmt::Display) -> CmdError {
        Error::Other(format!("{}{cause}", state::lang().pick(doing.0, doing.1))).into()
    }

    /// What the page is told.
    pub fn report(&self) -> ErrorReport {
        let lang = state::lang();
        match self.server {
            Some(kind) => kind.report(&self.error, lang),
            None => self.error.report(lang),
        }
    }
}

impl From<Error> for CmdError {
    fn from(error: Error) -> Self {
        CmdError { error, server: None }
    }
}

/// A background task (`spawn_blocking`) that panicked or was dropped.
impl From<tauri::Error> for CmdError {
    fn from(e: tauri::Error) -> Self {
        Error::Other(e.to_string()).into()
    }
}

impl Serialize for CmdError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.report().serialize(serializer)
    }
}
