//! OpenAI-compatible servers.

mod client;

pub use client::*;
