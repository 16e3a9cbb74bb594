//! The core's tests against the emulator, real image files and real databases, as one test binary: each file
//! below is a module of it. One binary means one link of the core and its dependencies instead of one per file,
//! which is most of the time a test build takes on two cores after a change to the core.
//!
//! Tests that need a process of their own stay beside this folder as their own binaries: `keychain_unavailable.rs`
//! points the process at a missing D-Bus, `servers.rs` installs an in-memory keychain for the whole process, and
//! `real_engine.rs` runs only against a real engine (`tests/real-engine/run.sh`). A new test file that needs
//! neither goes here, with a `mod` line below.

mod agent_loop;
mod agent_openai;
mod audio;
mod common;
mod gemma4;
mod images;
mod markdown;
mod models;
mod ollama_client;
mod openai_client;
mod react_corpus;
mod store;
mod time_tools;
mod turn;
