//! Gemma Desk's core: all behaviour lives here so that the desktop app (`src-tauri`) and the
//! CLI (`gemma-desk-cli`) are thin adapters over the same code. No Tauri types in this crate.

pub mod agent;
pub mod caption;
pub mod chat;
pub mod client;
pub mod diagnostics;
pub mod error;
pub mod i18n;
pub mod images;
pub mod markdown;
pub mod models;
pub mod pull;
pub mod settings;
pub mod store;
pub mod tools;

pub use chat::{ChatOutcome, ChatRequest, Message, Role, ToolCall};
pub use client::backend::{Backend, BackendStatus, ServerKind};
pub use client::host::resolve_host;
pub use client::ollama::{OllamaClient, ServerStatus};
pub use client::openai::OpenAiClient;
pub use client::ClientOptions;
pub use error::{Error, Result};
pub use i18n::Lang;
pub use models::{pick_model, Capability, ModelDetails, ModelInfo};
pub use pull::{PullOutcome, PullPhase, PullProgress};
