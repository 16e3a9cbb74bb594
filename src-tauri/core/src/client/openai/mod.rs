//! A client for OpenAI-compatible servers (vLLM, llama.cpp's server, LM Studio, a shared Ollama's
//! `/v1`): the model list and streamed chat completions (Server-Sent Events).
//!
//! It speaks the same `ChatRequest`/`ChatOutcome` as the Ollama client, with these differences:
//! - `num_ctx` and `keep_alive` cannot be set over this API and are not sent;
//! - images go as `data:` URIs in content parts;
//! - model capabilities are not part of the API: when the server is Ollama (its `/api/show` answers
//!   on the same host) they are asked for; otherwise they are guessed from the model's name
//!   (see [`guess_capabilities`](crate::models::guess_capabilities)) unless the user set them.
//!
//! `client` holds the client and what it makes of the server's answers; `wire` the request body and
//! the serde types of the streamed chunks.

mod client;
mod wire;

pub use client::{base_url, CapabilityOverrides, OpenAiClient};
