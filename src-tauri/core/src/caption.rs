//! Captioning many photos: each file prepared and sent on its own, so one bad file or one failed
//! answer does not stop the batch. Used by `gemma-desk-cli caption` (and the GUI's batch queue).

use crate::chat::{ChatRequest, Message};
use crate::client::backend::Backend;
use crate::error::Error;
use crate::images::{self, PrepareOptions};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The caption of one file, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptionResult {
    pub file: PathBuf,
    pub outcome: Result<String, Error>,
}

impl CaptionResult {
    /// True when the file itself was the problem (not the server or the model).
    pub fn unreadable(&self) -> bool {
        matches!(self.outcome, Err(Error::BadInput { .. } | Error::Image { .. }))
    }
}

/// A row of the exported results: a caption or an error, never both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptionRow {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl CaptionResult {
    pub fn row(&self, lang: crate::Lang) -> CaptionRow {
        let file = self.file.display().to_string();
        match &self.outcome {
            Ok(c) => CaptionRow { file, caption: Some(c.clone()), error: None },
            // The row names the file: keep only the reason.
            Err(e) => CaptionRow { file, caption: None, error: Some(e.reason(lang)) },
        }
    }
}

/// How captions are written out: by the CLI as they arrive, by the app's Export button at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// `FILE: caption` / `FILE: error: reason`, one per line.
    Text,
    /// `{"file", "caption"}` or `{"file", "error"}` per line.
    Jsonl,
    /// RFC 4180, with a `file,caption,error` header.
    Csv,
    /// A heading per photo, the caption (or the error) under it.
    Markdown,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Text => "txt",
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Csv => "csv",
            ExportFormat::Markdown => "md",
        }
    }

    /// What comes before the first row.
    pub fn header(self) -> String {
        match self {
            ExportFormat::Csv => csv_record(["file", "caption", "error"]),
            ExportFormat::Markdown => "# Captions\n\n".into(),
            ExportFormat::Text | ExportFormat::Jsonl => String::new(),
        }
    }

    /// One row, ending in a newline; multi-line captions stay one record in every format but text.
    pub fn row(self, row: &CaptionRow) -> String {
        let caption = row.caption.as_deref();
        let error = row.error.as_deref().unwrap_or_default();
        match self {
            ExportFormat::Jsonl => format!("{}\n", serde_json::to_string(row).expect("rows serialise")),
            ExportFormat::Csv => csv_record([row.file.as_str(), caption.unwrap_or_default(), error]),
            ExportFormat::Text => match caption {
                Some(c) => format!("{}: {c}\n", row.file),
                None => format!("{}: error: {error}\n", row.file),
            },
            ExportFormat::Markdown => {
                // The file name is a heading; escape what Markdown would read as markup in it.
                let name: String = row
                    .file
                    .chars()
                    .flat_map(|c| if "\\`*_[]<>#|".contains(c) { vec!['\\', c] } else { vec![c] })
                    .collect();
                match caption {
                    Some(c) => format!("## {name}\n\n{}\n\n", c.trim()),
                    None => format!("## {name}\n\n> Error: {error}\n\n"),
                }
            }
        }
    }

    /// A whole document.
    pub fn document(self, rows: &[CaptionRow]) -> String {
        rows.iter().fold(self.header(), |mut doc, r| {
            doc.push_str(&self.row(r));
            doc
        })
    }
}

/// One CSV record (RFC 4180 quoting, by the csv crate), ending in a newline.
fn csv_record<const N: usize>(fields: [&str; N]) -> String {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    let _ = w.write_record(fields);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Caption `files` in order with `model` (which must see images), calling `on_result` as each
/// one finishes. Preparation runs off the async threads; the next photo is prepared while the
/// model looks at the current one.
pub async fn caption_files(
    client: &Backend,
    model: &str,
    files: &[PathBuf],
    prompt: &str,
    opts: &PrepareOptions,
    mut on_result: impl FnMut(usize, &CaptionResult),
) -> Vec<CaptionResult> {
    let prepare = |path: PathBuf| {
        let opts = *opts;
        tokio::task::spawn_blocking(move || images::prepare_file(&path, &opts))
    };
    let mut results = Vec::with_capacity(files.len());
    let mut next = files.first().cloned().map(prepare);
    for (i, file) in files.iter().enumerate() {
        let prepared = match next.take() {
            Some(handle) => {
                handle.await.unwrap_or_else(|e| Err(Error::Other(format!("image preparation failed: {e}"))))
            }
            None => Err(Error::Other("internal: nothing prepared".into())),
        };
        next = files.get(i + 1).cloned().map(prepare);
        let outcome = match prepared {
            Err(e) => Err(e),
            Ok(image) => {
                let mut msg = Message::user(prompt);
                msg.images = vec![image.base64];
                let req = ChatRequest::new(model, vec![msg]);
                client.chat(&req, |_| {}).await.map(|out| out.content.trim().to_string())
            }
        };
        let result = CaptionResult { file: file.clone(), outcome };
        on_result(i, &result);
        results.push(result);
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<CaptionRow> {
        vec![
            CaptionRow { file: "a, \"b\".jpg".into(), caption: Some("A cat.\nOn a mat.".into()), error: None },
            CaptionRow { file: "notes_*1*.txt".into(), caption: None, error: Some("not an image".into()) },
        ]
    }

    #[test]
    fn csv_quotes_and_keeps_multiline_captions_in_one_record() {
        let doc = ExportFormat::Csv.document(&rows());
        let mut r = csv::Reader::from_reader(doc.as_bytes());
        let recs: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
        assert_eq!(r.headers().unwrap(), vec!["file", "caption", "error"]);
        assert_eq!(recs.len(), 2);
        assert_eq!(&recs[0][0], "a, \"b\".jpg");
        assert_eq!(&recs[0][1], "A cat.\nOn a mat.");
        assert_eq!(&recs[1][2], "not an image");
    }

    #[test]
    fn jsonl_has_caption_or_error_per_line() {
        let doc = ExportFormat::Jsonl.document(&rows());
        let lines: Vec<serde_json::Value> = doc.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0], serde_json::json!({"file": "a, \"b\".jpg", "caption": "A cat.\nOn a mat."}));
        assert_eq!(lines[1], serde_json::json!({"file": "notes_*1*.txt", "error": "not an image"}));
    }

    #[test]
    fn markdown_has_a_heading_per_photo_with_names_escaped() {
        let doc = ExportFormat::Markdown.document(&rows());
        assert!(doc.starts_with("# Captions\n"));
        assert!(doc.contains("## a, \"b\".jpg\n\nA cat.\nOn a mat.\n"));
        assert!(doc.contains("## notes\\_\\*1\\*.txt\n\n> Error: not an image\n"));
    }
}
