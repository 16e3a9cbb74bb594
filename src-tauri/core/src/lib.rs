//! Gemma Desk's core: all behaviour lives here so that the desktop app (`src-tauri`) and the
//! CLI (`gemma-desk-cli`) are thin adapters over the same code. No Tauri types in this crate.
//!
//! The modules, each of one concern (the README's "How it is built" points here):
//!
//! | module | what it is for |
//! | --- | --- |
//! | [`client`] | everything that talks to a server: `host` (finding Ollama), `backend` (either kind behind one API, and errors worded for it), `ollama/` (`chat`, `models`, `management`: pull, delete), `openai/` (`client`, `wire`: OpenAI-compatible servers), `ndjson` and `sse` (the two stream readers, over one deadline logic) |
//! | [`chat`] | chat messages, requests and outcomes, the same for either kind of server |
//! | [`models`] | models and what each can do (reported, or guessed from the name), choosing one for a job, the Gemma 3 and Gemma 4 catalogue and the one to recommend for this machine's memory |
//! | [`pull`] | download progress arithmetic |
//! | [`agent`] | tool loops, the ReAct prompt and parser |
//! | [`tools`] | the time tools |
//! | [`images`] | photo preparation |
//! | [`audio`] | audio clip preparation: any common sound file to the 16 kHz mono WAV the model hears, 30 s at most |
//! | [`caption`] | caption batches and their export formats |
//! | [`store`] | conversations in SQLite: schema and migrations, messages and versions, images, streaming writer, export/import |
//! | [`turn`] | a saved chat turn: the question saved before it is sent, the answer saved as it streams, its events |
//! | [`markdown`] | safe HTML for answers |
//! | [`diagnostics`] | the bug-report text, nothing private |
//! | [`error`] | what can go wrong, in both languages, with the CLI's exit codes |
//! | [`settings`] | servers, keys in the keychain |
//! | [`i18n`] | the two languages |

pub mod agent;
pub mod audio;
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
pub mod turn;

pub use chat::{ChatOutcome, ChatRequest, Message, Piece, Role, Think, ToolCall};
pub use client::backend::{Backend, BackendStatus, ServerKind};
pub use client::host::resolve_host;
pub use client::ollama::{OllamaClient, ServerStatus};
pub use client::openai::OpenAiClient;
pub use client::ClientOptions;
pub use error::{Error, Result};
pub use i18n::Lang;
pub use models::{pick_model, Capability, ModelDetails, ModelInfo};
pub use pull::{PullOutcome, PullPhase, PullProgress};
