//! Installed models and what each can do, and choosing one for a job.

use serde::{Deserialize, Serialize};

/// Jobs a model may be able to do, as Ollama's `/api/show` `capabilities` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    Completion,
    Vision,
    Tools,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Completion => "completion",
            Capability::Vision => "vision",
            Capability::Tools => "tools",
        }
    }

    /// The job in words, as used in error messages ("cannot see images").
    pub fn job(self) -> &'static str {
        match self {
            Capability::Completion => "chat",
            Capability::Vision => "see images",
            Capability::Tools => "use tools",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    /// Bytes on disk.
    pub size: u64,
    #[serde(default)]
    pub family: Option<String>,
    #[serde(default)]
    pub parameter_size: Option<String>,
    #[serde(default)]
    pub quantization: Option<String>,
    /// As reported by `/api/show`, e.g. `["completion", "vision"]`.
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub context_length: Option<u64>,
    /// The side of the square the vision encoder sees (`*.vision.image_size`), for image preparation.
    #[serde(default)]
    pub vision_image_size: Option<u32>,
}

impl ModelInfo {
    pub fn can(&self, cap: Capability) -> bool {
        self.capabilities.iter().any(|c| c == cap.as_str())
    }

    fn is_gemma3(&self) -> bool {
        self.name.starts_with("gemma3") || self.family.as_deref() == Some("gemma3")
    }
}

/// The model to use when none was named: the first installed one that can do every job in
/// `needs` (chat is always needed), preferring Gemma 3. `models` is in Ollama's order (newest first).
pub fn pick_model<'a>(models: &'a [ModelInfo], needs: &[Capability]) -> Option<&'a ModelInfo> {
    let fits = |m: &&ModelInfo| m.can(Capability::Completion) && needs.iter().all(|c| m.can(*c));
    models.iter().filter(fits).find(|m| m.is_gemma3()).or_else(|| models.iter().find(fits))
}

/// `3338801804` → `3.3 GB` (decimal units, as Ollama's own CLI shows sizes).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, caps: &[&str]) -> ModelInfo {
        ModelInfo {
            name: name.into(),
            size: 1,
            family: None,
            parameter_size: None,
            quantization: None,
            capabilities: caps.iter().map(|s| s.to_string()).collect(),
            context_length: None,
            vision_image_size: None,
        }
    }

    #[test]
    fn prefers_gemma3_then_order() {
        let ms = vec![
            m("llava:7b", &["completion", "vision"]),
            m("gemma3:1b", &["completion"]),
            m("gemma3:4b", &["completion", "vision"]),
            m("nomic-embed-text", &["embedding"]),
        ];
        assert_eq!(pick_model(&ms, &[]).unwrap().name, "gemma3:1b");
        assert_eq!(pick_model(&ms, &[Capability::Vision]).unwrap().name, "gemma3:4b");
        let no_gemma = vec![m("nomic-embed-text", &["embedding"]), m("llama3.2", &["completion", "tools"])];
        assert_eq!(pick_model(&no_gemma, &[]).unwrap().name, "llama3.2");
        assert!(pick_model(&no_gemma, &[Capability::Vision]).is_none());
        assert!(pick_model(&[], &[]).is_none());
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(3_338_801_804), "3.3 GB");
        assert_eq!(human_size(815_319_791), "815.3 MB");
        assert_eq!(human_size(512), "512 B");
    }
}
