//! Captioning many photos: each file prepared and sent on its own, so one bad file or one failed
//! answer does not stop the batch. Used by `gemma-desk-cli caption` (and the GUI's batch queue).

use crate::backend::Backend;
use crate::chat::{ChatRequest, Message};
use crate::error::Error;
use crate::images::{self, PrepareOptions};
use serde::Serialize;
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
        matches!(self.outcome, Err(Error::BadInput { .. }))
    }
}

/// A row of the exported results.
#[derive(Debug, Clone, Serialize)]
pub struct CaptionRow<'a> {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl CaptionResult {
    pub fn row(&self, lang: crate::Lang) -> CaptionRow<'_> {
        let file = self.file.display().to_string();
        match &self.outcome {
            Ok(c) => CaptionRow { file, caption: Some(c.as_str()), error: None },
            // A bad file's message already names the path: keep only the reason in the row.
            Err(Error::BadInput { reason, .. }) => CaptionRow { file, caption: None, error: Some(reason.clone()) },
            Err(e) => CaptionRow { file, caption: None, error: Some(e.message(lang)) },
        }
    }
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
