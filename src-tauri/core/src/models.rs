//! Installed models and what each can do, and choosing one for a job.

use crate::i18n::Lang;
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

/// Everything worth showing about one installed model (`/api/show`, plus its size from
/// `/api/tags`), for the model picker's details and `gemma-desk-cli show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelDetails {
    pub name: String,
    /// e.g. `gemma3`.
    pub family: Option<String>,
    /// As Ollama words it, e.g. `4.3B`.
    pub parameter_size: Option<String>,
    /// `general.parameter_count`, e.g. 4299915632.
    pub parameter_count: Option<u64>,
    /// e.g. `Q4_K_M`.
    pub quantization: Option<String>,
    /// e.g. `gguf`.
    pub format: Option<String>,
    /// The longest context the model was trained for (`<arch>.context_length`), not what Ollama
    /// allocates by default.
    pub context_length: Option<u64>,
    /// e.g. `["completion", "vision"]`.
    pub capabilities: Vec<String>,
    /// The side of the square the vision encoder sees, for vision models.
    pub vision_image_size: Option<u32>,
    /// Bytes on disk; `None` if `/api/tags` did not list it.
    pub size: Option<u64>,
    /// When it was pulled or created (RFC 3339).
    pub modified_at: Option<String>,
}

impl ModelDetails {
    pub fn can(&self, cap: Capability) -> bool {
        self.capabilities.iter().any(|c| c == cap.as_str())
    }
}

/// Whether two references name the same model as Ollama resolves them: `gemma3` is
/// `gemma3:latest`, the default registry and namespace may be spelt out, case does not matter.
pub fn same_model(a: &str, b: &str) -> bool {
    fn norm(name: &str) -> String {
        let mut n = name.trim().to_ascii_lowercase();
        for prefix in ["registry.ollama.ai/", "library/"] {
            if let Some(rest) = n.strip_prefix(prefix) {
                n = rest.to_string();
            }
        }
        if !n.rsplit('/').next().unwrap_or_default().contains(':') {
            n.push_str(":latest");
        }
        n
    }
    norm(a) == norm(b)
}

/// A model offered for download before any is installed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CatalogueEntry {
    pub name: &'static str,
    /// e.g. `4B`.
    pub parameters: &'static str,
    /// What the download weighs, in bytes, as published (rounded: "3.3GB" is 3.3e9).
    pub download_size: u64,
    /// Context window as published.
    pub context_length: u64,
    /// Sees images (Gemma 3 4b and up).
    pub vision: bool,
    /// The one to offer first.
    pub recommended: bool,
}

impl CatalogueEntry {
    /// One line for an offer to download: `gemma3:4b, 3.3 GB, sees images`.
    pub fn summary(&self, lang: Lang) -> String {
        let size = human_size(self.download_size);
        match lang {
            Lang::En => format!("{}, {size}, {}", self.name, if self.vision { "sees images" } else { "text only" }),
            Lang::Zh => format!("{}，{size}，{}", self.name, if self.vision { "能看图" } else { "仅文本" }),
        }
    }
}

/// Gemma 3 as Ollama's library offers it, smallest first. Sizes and context windows are those
/// listed on https://ollama.com/library/gemma3 (the 1b/4b/12b/27b sizes also appear in the model
/// table of Ollama's README); 4b, 12b and 27b take images, 270m and 1b are text only.
pub const CATALOGUE: [CatalogueEntry; 5] = [
    CatalogueEntry {
        name: "gemma3:270m",
        parameters: "270M",
        download_size: 292_000_000,
        context_length: 32_768,
        vision: false,
        recommended: false,
    },
    CatalogueEntry {
        name: "gemma3:1b",
        parameters: "1B",
        download_size: 815_000_000,
        context_length: 32_768,
        vision: false,
        recommended: false,
    },
    CatalogueEntry {
        name: "gemma3:4b",
        parameters: "4B",
        download_size: 3_300_000_000,
        context_length: 131_072,
        vision: true,
        recommended: true,
    },
    CatalogueEntry {
        name: "gemma3:12b",
        parameters: "12B",
        download_size: 8_100_000_000,
        context_length: 131_072,
        vision: true,
        recommended: false,
    },
    CatalogueEntry {
        name: "gemma3:27b",
        parameters: "27B",
        download_size: 17_000_000_000,
        context_length: 131_072,
        vision: true,
        recommended: false,
    },
];

/// The catalogue entry for `name` (`gemma3` finds nothing: its `latest` tag is not listed apart).
pub fn catalogue_entry(name: &str) -> Option<&'static CatalogueEntry> {
    CATALOGUE.iter().find(|e| same_model(e.name, name))
}

/// The model offered on first run: gemma3:4b, the smallest that sees images.
pub fn recommended_model() -> &'static CatalogueEntry {
    CATALOGUE.iter().find(|e| e.recommended).expect("one catalogue entry is recommended")
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
    fn names_resolve_like_ollama() {
        assert!(same_model("gemma3", "gemma3:latest"));
        assert!(same_model("registry.ollama.ai/library/Gemma3:4B", "gemma3:4b"));
        assert!(same_model("hf.co/x/y", "hf.co/x/y:latest"));
        assert!(!same_model("gemma3:4b", "gemma3:1b"));
        assert!(!same_model("gemma3", "gemma3:4b"), "latest happens to be 4b today, but is another tag");
    }

    #[test]
    fn catalogue_offers_gemma3_with_published_sizes() {
        let r = recommended_model();
        assert_eq!(r.name, "gemma3:4b");
        assert_eq!(r.summary(Lang::En), "gemma3:4b, 3.3 GB, sees images");
        assert_eq!(r.summary(Lang::Zh), "gemma3:4b，3.3 GB，能看图");
        assert_eq!(catalogue_entry("gemma3:1b").unwrap().summary(Lang::En), "gemma3:1b, 815.0 MB, text only");
        assert!(catalogue_entry("GEMMA3:27B").unwrap().vision);
        assert!(catalogue_entry("llama3.2").is_none());
        // Smallest first, and exactly the sizes that see images do.
        assert!(CATALOGUE.windows(2).all(|w| w[0].download_size < w[1].download_size));
        let vision: Vec<_> = CATALOGUE.iter().filter(|e| e.vision).map(|e| e.name).collect();
        assert_eq!(vision, ["gemma3:4b", "gemma3:12b", "gemma3:27b"]);
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(3_338_801_804), "3.3 GB");
        assert_eq!(human_size(815_319_791), "815.3 MB");
        assert_eq!(human_size(512), "512 B");
    }
}
