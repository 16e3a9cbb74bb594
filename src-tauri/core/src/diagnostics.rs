//! "Copy diagnostics": what a bug report needs — versions, the system, the servers in use, the state of the
//! conversation database and the recent log — and never what the user wrote or was told: no conversation text,
//! no system prompts, no API keys, no passwords or query strings in server addresses.
//!
//! The logs hold no content by design (see the app's `logging`); the report scrubs addresses in them again, in
//! case a server echoed one in an error message.

use crate::settings::Settings;
use crate::store::StoreStats;
use crate::{Error, Lang};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Lines of the log the report ends with.
pub const LOG_LINES: usize = 80;

/// Everything the report is made from; the caller gathers it (the app knows its shell, the core does not).
pub struct Diagnostics<'a> {
    pub app_version: &'a str,
    /// Name and version of what the app runs on, e.g. `("Tauri", "2.12.5")`, `("WebView", "2.50.6")`.
    pub runtime: Vec<(&'static str, String)>,
    pub settings: &'a Settings,
    /// The language the system asks for (the settings say whether the user chose another).
    pub system_lang: Lang,
    /// The database file and how much it holds, or why it could not be opened.
    pub store: (Option<PathBuf>, Result<StoreStats, Error>),
    /// The folder of the app's log files, if logging started.
    pub log_dir: Option<&'a Path>,
    /// Milliseconds from the start of the process to the first paint of the window, once known.
    pub first_paint_ms: Option<u64>,
}

/// The report, as plain text in English (it goes to developers, whatever the UI language).
pub fn report(d: &Diagnostics<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Gemma Desk {}", d.app_version);
    let info = os_info::get();
    let _ = writeln!(out, "System: {} ({}, {})", info, std::env::consts::OS, std::env::consts::ARCH);
    for (name, version) in &d.runtime {
        let _ = writeln!(out, "{name}: {version}");
    }
    if let Some(ms) = d.first_paint_ms {
        let _ = writeln!(out, "First paint: {ms} ms after start");
    }
    let s = d.settings;
    let lang = s.language.map(|l| format!("{l:?} (chosen)")).unwrap_or_else(|| format!("{:?} (system)", d.system_lang));
    let _ = writeln!(out, "Language: {lang}");

    let _ = writeln!(out, "\nServers:");
    let current = s.current_server();
    for server in s.servers() {
        let address = match server.url() {
            Ok(url) => redact(&crate::client::host::display(&url)),
            Err(_) => "(invalid address)".to_string(),
        };
        let _ = writeln!(
            out,
            "- {}{}: {}, {}, API key {}",
            server.name,
            if server.id == current.id { " (in use)" } else { "" },
            server.kind.as_str(),
            address,
            if server.has_api_key { "in the keychain" } else { "none" },
        );
    }
    if let Ok(env) = std::env::var("OLLAMA_HOST") {
        let _ = writeln!(out, "OLLAMA_HOST: {}", redact(&env));
    }
    let _ = writeln!(out, "Model: {}", s.model.as_deref().unwrap_or("(none chosen)"));
    for (model, o) in &s.model_options {
        if o.is_empty() {
            continue;
        }
        // The system prompt is the user's own text: only whether there is one, and its length.
        let mut parts = Vec::new();
        if let Some(p) = &o.system_prompt {
            parts.push(format!("system prompt ({} characters)", p.chars().count()));
        }
        if let Some(t) = o.temperature {
            parts.push(format!("temperature {t}"));
        }
        if let Some(n) = o.num_ctx {
            parts.push(format!("num_ctx {n}"));
        }
        if let Some(k) = &o.keep_alive {
            parts.push(format!("keep_alive {k}"));
        }
        let _ = writeln!(out, "Options for {model}: {}", parts.join(", "));
    }

    let _ = writeln!(out, "\nConversations:");
    if let Some(path) = &d.store.0 {
        let _ = writeln!(out, "Database: {}", path.display());
    }
    match &d.store.1 {
        Ok(st) => {
            let _ = writeln!(
                out,
                "Schema v{}; {} conversations, {} messages, {} images; file {} KB, WAL {} KB",
                st.schema_version,
                st.conversations,
                st.messages,
                st.images,
                st.file_bytes / 1024,
                st.wal_bytes / 1024
            );
        }
        Err(e) => {
            let _ = writeln!(out, "Problem: {}", e.message(Lang::En));
        }
    }

    let _ = writeln!(out, "\nLog:");
    match d.log_dir {
        Some(dir) => {
            let _ = writeln!(out, "Folder: {}", dir.display());
            let lines = log_tail(dir, LOG_LINES);
            if lines.is_empty() {
                let _ = writeln!(out, "(empty)");
            }
            for line in lines {
                let _ = writeln!(out, "{}", redact(&line));
            }
        }
        None => {
            let _ = writeln!(out, "(not written: the log folder could not be created)");
        }
    }
    out
}

/// The last `n` lines of the newest log files in `dir` (files named `*.log`, oldest lines first).
pub fn log_tail(dir: &Path, n: usize) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "log")).collect())
        .unwrap_or_default();
    // Daily files are named by date (YYYY-MM-DD), so the name orders them.
    files.sort();
    let mut lines: Vec<String> = Vec::new();
    for file in files.iter().rev() {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        let mut these: Vec<String> = text.lines().map(str::to_string).collect();
        these.append(&mut lines);
        lines = these;
        if lines.len() >= n {
            break;
        }
    }
    let skip = lines.len().saturating_sub(n);
    lines.split_off(skip)
}

/// `text` with any URL's user name, password, query and fragment taken out (they may carry credentials).
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        // The scheme: the letters right before "://".
        let scheme_start = rest[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.'))
            .map_or(0, |p| p + 1);
        let end = rest[i..].find(|c: char| c.is_whitespace() || c == '"' || c == '\'').map_or(rest.len(), |e| i + e);
        out.push_str(&rest[..scheme_start]);
        let candidate = &rest[scheme_start..end];
        match url::Url::parse(candidate) {
            Ok(mut url) => {
                let _ = url.set_username("");
                let _ = url.set_password(None);
                if url.query().is_some() {
                    url.set_query(Some("redacted"));
                }
                url.set_fragment(None);
                out.push_str(url.as_str());
            }
            // Not a URL we can parse: keep only the scheme and host-ish part before any '@'.
            Err(_) => match candidate.find('@') {
                Some(at) => {
                    out.push_str(&candidate[..i - scheme_start + 3]);
                    out.push_str("…@");
                    out.push_str(&candidate[at + 1..]);
                }
                None => out.push_str(candidate),
            },
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_takes_out_credentials_and_queries() {
        assert_eq!(redact("http://bob:hunter2@10.0.0.5:8000/v1 failed"), "http://10.0.0.5:8000/v1 failed");
        assert_eq!(redact("see https://x.example/a?key=sk-123#f."), "see https://x.example/a?redacted");
        assert_eq!(redact("no url here"), "no url here");
        assert_eq!(redact("a http://h:1/ b http://u@h:2/ c"), "a http://h:1/ b http://h:2/ c");
    }

    #[test]
    fn log_tail_spans_files_in_date_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("gemma-desk.2026-11-26.log"), "a\nb\n").unwrap();
        std::fs::write(dir.path().join("gemma-desk.2026-11-27.log"), "c\nd\n").unwrap();
        std::fs::write(dir.path().join("other.txt"), "x\n").unwrap();
        assert_eq!(log_tail(dir.path(), 3), ["b", "c", "d"]);
        assert_eq!(log_tail(dir.path(), 10), ["a", "b", "c", "d"]);
    }
}
