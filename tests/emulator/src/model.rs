//! Model descriptions: what `/api/tags`, `/api/show`, `/api/ps` and the capability checks report.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::util::{fake_digest, parse_param_count};

/// One model the emulator knows, installed or pullable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelSpec {
    /// Display name as `/api/tags` lists it, e.g. `gemma3:4b`.
    pub name: String,
    /// Bytes on disk.
    pub size: u64,
    /// Architecture family, e.g. `gemma3`; also `general.architecture` in `/api/show`.
    pub family: String,
    /// e.g. `4.3B`.
    pub parameter_size: String,
    /// e.g. `Q4_K_M`.
    pub quantization_level: String,
    /// Subset of `completion`, `vision`, `tools`, `insert`, `embedding`, `thinking`.
    pub capabilities: Vec<String>,
    /// `<arch>.context_length` in `/api/show`.
    pub context_length: u64,
    /// `<arch>.vision.image_size` for vision models.
    pub image_size: Option<u32>,
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec {
            name: String::new(),
            size: 1_000_000_000,
            family: String::new(),
            parameter_size: "1B".into(),
            quantization_level: "Q4_K_M".into(),
            capabilities: vec!["completion".into()],
            context_length: 32_768,
            image_size: None,
        }
    }
}

fn caps(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl ModelSpec {
    /// A completion-only model; the family is taken from the name ("llama3.2:1b" → "llama3.2").
    pub fn new(name: &str) -> ModelSpec {
        let family = name.rsplit('/').next().unwrap_or(name).split(':').next().unwrap_or(name).to_string();
        ModelSpec { name: name.into(), family, ..ModelSpec::default() }
    }

    /// The same model under another name (e.g. `gemma3:latest` for `gemma3:4b`).
    pub fn named(mut self, name: &str) -> ModelSpec {
        self.name = name.into();
        self
    }

    pub fn gemma3_270m() -> ModelSpec {
        ModelSpec {
            name: "gemma3:270m".into(),
            size: 291_554_930,
            family: "gemma3".into(),
            parameter_size: "268.10M".into(),
            quantization_level: "Q8_0".into(),
            capabilities: caps(&["completion"]),
            context_length: 32_768,
            image_size: None,
        }
    }

    pub fn gemma3_1b() -> ModelSpec {
        ModelSpec {
            name: "gemma3:1b".into(),
            size: 815_319_791,
            family: "gemma3".into(),
            parameter_size: "999.89M".into(),
            quantization_level: "Q4_K_M".into(),
            capabilities: caps(&["completion"]),
            context_length: 32_768,
            image_size: None,
        }
    }

    pub fn gemma3_4b() -> ModelSpec {
        ModelSpec {
            name: "gemma3:4b".into(),
            size: 3_338_801_804,
            family: "gemma3".into(),
            parameter_size: "4.3B".into(),
            quantization_level: "Q4_K_M".into(),
            capabilities: caps(&["completion", "vision"]),
            context_length: 131_072,
            image_size: Some(896),
        }
    }

    pub fn gemma3_12b() -> ModelSpec {
        ModelSpec {
            name: "gemma3:12b".into(),
            size: 8_149_190_253,
            parameter_size: "12.2B".into(),
            ..ModelSpec::gemma3_4b()
        }
    }

    pub fn gemma3_27b() -> ModelSpec {
        ModelSpec {
            name: "gemma3:27b".into(),
            size: 17_396_936_941,
            parameter_size: "27.4B".into(),
            ..ModelSpec::gemma3_4b()
        }
    }

    /// A small model that, unlike gemma3, supports native tools (and thinking).
    pub fn qwen3_0_6b() -> ModelSpec {
        ModelSpec {
            name: "qwen3:0.6b".into(),
            size: 522_653_767,
            family: "qwen3".into(),
            parameter_size: "751.63M".into(),
            quantization_level: "Q4_K_M".into(),
            capabilities: caps(&["completion", "tools", "thinking"]),
            context_length: 40_960,
            image_size: None,
        }
    }

    /// Installed at start and after `reset`: gemma3:4b, gemma3:1b, qwen3:0.6b.
    pub fn defaults() -> Vec<ModelSpec> {
        vec![ModelSpec::gemma3_4b(), ModelSpec::gemma3_1b(), ModelSpec::qwen3_0_6b()]
    }

    /// What `/api/pull` can fetch by default.
    pub fn catalogue() -> Vec<ModelSpec> {
        vec![
            ModelSpec::gemma3_4b().named("gemma3:latest"),
            ModelSpec::gemma3_270m(),
            ModelSpec::gemma3_1b(),
            ModelSpec::gemma3_4b(),
            ModelSpec::gemma3_12b(),
            ModelSpec::gemma3_27b(),
            ModelSpec::qwen3_0_6b(),
        ]
    }

    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// Stable fake digest (64 hex) of the manifest.
    pub fn digest(&self) -> String {
        fake_digest(&format!("manifest:{}", self.name))
    }

    /// The blobs `/api/pull` fetches, in Ollama's order: the manifest's layers (weights, template,
    /// license, params), then the config blob. (digest hex, size); sizes add up to `size`. The
    /// small ones have gemma3:4b's sizes (ollama.com/library/gemma3:4b lists them; a pull shows
    /// the config too); a model too small to hold them is one layer.
    pub(crate) fn layers(&self) -> Vec<(String, u64)> {
        const SMALL: [(&str, u64); 4] = [("template", 358), ("license", 8_432), ("params", 77), ("config", 489)];
        let small: u64 = SMALL.iter().map(|(_, n)| n).sum();
        let model = fake_digest(&format!("model:{}", self.name));
        if self.size <= small {
            return vec![(model, self.size)];
        }
        let mut layers = vec![(model, self.size - small)];
        layers.extend(SMALL.iter().map(|(kind, n)| (fake_digest(&format!("{kind}:{}", self.name)), *n)));
        layers
    }

    pub(crate) fn details(&self) -> Value {
        json!({
            "parent_model": "",
            "format": "gguf",
            "family": self.family,
            "families": [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization_level,
        })
    }

    /// `model_info` of `/api/show`. Go marshals maps with sorted keys, as `Map` (a BTreeMap) does.
    pub(crate) fn model_info(&self) -> Value {
        let arch = &self.family;
        let mut m = Map::new();
        m.insert("general.architecture".into(), json!(arch));
        m.insert("general.parameter_count".into(), json!(parse_param_count(&self.parameter_size)));
        m.insert("general.file_type".into(), json!(15));
        m.insert("general.quantization_version".into(), json!(2));
        m.insert(format!("{arch}.context_length"), json!(self.context_length));
        m.insert(format!("{arch}.embedding_length"), json!(2560));
        m.insert(format!("{arch}.block_count"), json!(34));
        if let Some(size) = self.image_size {
            m.insert(format!("{arch}.vision.image_size"), json!(size));
            m.insert(format!("{arch}.vision.patch_size"), json!(14));
        }
        Value::Object(m)
    }

    pub(crate) fn template(&self) -> &'static str {
        if self.family.starts_with("gemma") {
            "{{- range $i, $_ := .Messages }}\n{{- $last := eq (len (slice $.Messages $i)) 1 }}\n{{- if or (eq .Role \"user\") (eq .Role \"system\") }}<start_of_turn>user\n{{ .Content }}<end_of_turn>\n{{ if $last }}<start_of_turn>model\n{{ end }}\n{{- else if eq .Role \"assistant\" }}<start_of_turn>model\n{{ .Content }}{{ if not $last }}<end_of_turn>\n{{ end }}\n{{- end }}\n{{- end }}"
        } else {
            "{{- range $i, $_ := .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
        }
    }

    pub(crate) fn parameters(&self) -> &'static str {
        if self.family.starts_with("gemma") {
            "stop                           \"<end_of_turn>\"\ntemperature                    1\ntop_k                          64\ntop_p                          0.95"
        } else {
            "repeat_penalty                 1\nstop                           \"<|im_start|>\"\nstop                           \"<|im_end|>\"\ntemperature                    0.6\ntop_k                          20\ntop_p                          0.95"
        }
    }

    pub(crate) fn license(&self) -> &'static str {
        if self.family.starts_with("gemma") {
            "Gemma Terms of Use\n\nLast modified: March 24, 2025\n\n(abridged by the emulator)"
        } else {
            "Apache License\nVersion 2.0, January 2004\n\n(abridged by the emulator)"
        }
    }

    pub(crate) fn modelfile(&self) -> String {
        let mut out = format!(
            "# Modelfile generated by \"ollama show\"\n# To build a new Modelfile based on this, replace FROM with:\n# FROM {}\n\nFROM /root/.ollama/models/blobs/sha256-{}\nTEMPLATE \"\"\"{}\"\"\"\n",
            self.name,
            self.layers()[0].0,
            self.template()
        );
        for line in self.parameters().lines() {
            let mut parts = line.splitn(2, ' ');
            let key = parts.next().unwrap_or_default();
            let value = parts.next().unwrap_or_default().trim();
            out.push_str(&format!("PARAMETER {key} {value}\n"));
        }
        out.push_str(&format!("LICENSE \"\"\"{}\"\"\"\n", self.license()));
        out
    }
}
