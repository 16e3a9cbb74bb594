//! Everything that talks to a server, kept apart from what the app does with the answers.

pub mod backend;
pub mod host;
pub(crate) mod ndjson;
pub mod ollama;
pub mod openai;
