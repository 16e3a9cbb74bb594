//! Gemma Desk's core: all behaviour lives here so that the desktop app (`src-tauri`) and the
//! CLI (`gemma-desk-cli`) are thin adapters over the same code. No Tauri types in this crate.

pub mod agent;
pub mod backend;
pub mod caption;
pub mod chat;
pub mod diagnostics;
pub mod error;
pub mod host;
pub mod i18n;
pub mod images;
pub mod markdown;
pub mod models;
mod ndjson;
pub mod ollama;
pub mod openai;
pub mod pull;
pub mod settings;
pub mod store;
pub mod tools;
pub mod turn;

pub use backend::{Backend, BackendStatus, ServerKind};
pub use chat::{ChatOutcome, ChatRequest, Message, Role, ToolCall};
pub use error::{Error, Result};
pub use host::resolve_host;
pub use i18n::Lang;
pub use models::{pick_model, Capability, ModelDetails, ModelInfo};
pub use ollama::{ClientOptions, OllamaClient, ServerStatus};
pub use openai::OpenAiClient;
pub use pull::{PullOutcome, PullPhase, PullProgress};
