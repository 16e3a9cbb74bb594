//! Model descriptions: what `/api/tags`, `/api/show`, `/api/ps` and the capability checks report.
//!
//! Gemma 3 and qwen3 are described as the emulator's Ollama 0.12 serves them. The Gemma 4
//! definitions follow Ollama 0.30+ (GEMMA4-FACTS.md): the fields that differ between those
//! servers (what `/api/tags` lists, think levels, tool call ids) are per model, so the older
//! models keep their exact behaviour while Gemma 4 gets the newer one. Where the facts are
//! unverified (⚠) the definition holds the likelier reading and a field switches to the other.

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
    /// Cloud models (§1): the model that runs remotely and where, listed by `/api/tags`.
    pub remote_model: Option<String>,
    pub remote_host: Option<String>,
    /// `capabilities` in `/api/tags` (Ollama 0.30+, §1); `None` leaves the field out, as older
    /// servers do. It can differ from `capabilities` (what `/api/show` reports): ⚠ Gemma 4 GGUFs
    /// probably lack `vision`/`audio` there.
    pub listed_capabilities: Option<Vec<String>>,
    /// `details.context_length` in `/api/tags` (0.30+, §1); ⚠ probably absent for Gemma 4 GGUFs.
    pub listed_context_length: Option<u64>,
    /// More `model_info` keys for `/api/show` (§2), e.g. Gemma 4's `gemma4.vision.*`.
    pub extra_model_info: Map<String, Value>,
    /// `projector_info` of `/api/show`, for models with a separate projector (gemma4:12b, §2).
    pub projector_info: Option<Value>,
    /// Accepts `think` levels ("low" … "max") as Ollama 0.30+ does for every thinking model
    /// (§3); false answers them with 0.12's "think value … is not supported for this model".
    pub think_levels: bool,
    /// Gives scripted tool calls an `id` (`call_` + 8 of [a-z0-9]) and `function.index`, as
    /// 0.30+ does (§4); false sends them exactly as scripted.
    pub tool_call_ids: bool,
    /// ⚠ §3: `/api/generate` with `think` omitted prompts the model to think but throws the
    /// thinking away (true, the reading of the source); false streams it like `/api/chat`.
    pub generate_drops_default_thinking: bool,
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
            remote_model: None,
            remote_host: None,
            listed_capabilities: None,
            listed_context_length: None,
            extra_model_info: Map::new(),
            projector_info: None,
            think_levels: false,
            tool_call_ids: false,
            generate_drops_default_thinking: false,
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
            ..ModelSpec::default()
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
            ..ModelSpec::default()
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
            ..ModelSpec::default()
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
            ..ModelSpec::default()
        }
    }

    /// gemma4:e2b (§2, §7): hears and sees, thinks, calls tools; 128K context.
    pub fn gemma4_e2b() -> ModelSpec {
        ModelSpec {
            name: "gemma4:e2b".into(),
            size: 7_162_394_016,
            parameter_size: "5.1B".into(),
            extra_model_info: gemma4_info(true, false),
            ..ModelSpec::gemma4("completion,vision,audio,tools,thinking", 131_072)
        }
    }

    /// gemma4:e4b, also `gemma4:latest` ⚠ (§7).
    pub fn gemma4_e4b() -> ModelSpec {
        ModelSpec {
            name: "gemma4:e4b".into(),
            size: 9_608_350_718,
            parameter_size: "8.0B".into(),
            extra_model_info: gemma4_info(true, false),
            ..ModelSpec::gemma4("completion,vision,audio,tools,thinking", 131_072)
        }
    }

    /// gemma4:12b: vision and audio through a separate projector (`gemma4uv`/`gemma4ua`), so
    /// `/api/show` has `projector_info` (§2); audio and the 256K context are ⚠ (§5, §7).
    pub fn gemma4_12b() -> ModelSpec {
        ModelSpec {
            name: "gemma4:12b".into(),
            size: 8_123_456_789,
            parameter_size: "12.4B".into(),
            projector_info: Some(json!({
                "clip.has_vision_encoder": true,
                "clip.has_audio_encoder": true,
                "clip.projector_type": "gemma4uv",
                "clip.vision.patch_size": 48,
            })),
            ..ModelSpec::gemma4("completion,vision,audio,tools,thinking", 262_144)
        }
    }

    /// gemma4:26b, the mixture of experts (A4B): sees, no audio (§2).
    pub fn gemma4_26b() -> ModelSpec {
        ModelSpec {
            name: "gemma4:26b".into(),
            size: 17_987_654_321,
            parameter_size: "25.8B".into(),
            extra_model_info: gemma4_info(false, true),
            ..ModelSpec::gemma4("completion,vision,tools,thinking", 262_144)
        }
    }

    pub fn gemma4_31b() -> ModelSpec {
        ModelSpec {
            name: "gemma4:31b".into(),
            size: 19_876_543_210,
            parameter_size: "31.3B".into(),
            extra_model_info: gemma4_info(false, false),
            ..ModelSpec::gemma4("completion,vision,tools,thinking", 262_144)
        }
    }

    /// gemma4:31b-cloud (§1, §7): a stub of a few hundred bytes that runs on ollama.com;
    /// `/api/tags` lists its capabilities and context from the config, vision included.
    pub fn gemma4_31b_cloud() -> ModelSpec {
        let full = ModelSpec::gemma4_31b();
        ModelSpec {
            name: "gemma4:31b-cloud".into(),
            size: 384,
            remote_model: Some("gemma4:31b".into()),
            remote_host: Some("https://ollama.com:443".into()),
            listed_capabilities: Some(full.capabilities.clone()),
            listed_context_length: Some(full.context_length),
            ..full
        }
    }

    /// What every Gemma 4 GGUF shares: family, Ollama 0.30+ behaviour, and ⚠ (§1) an
    /// `/api/tags` entry with only the parser's capabilities and no context length.
    fn gemma4(capabilities: &str, context_length: u64) -> ModelSpec {
        ModelSpec {
            family: "gemma4".into(),
            capabilities: capabilities.split(',').map(String::from).collect(),
            context_length,
            listed_capabilities: Some(caps(&["completion", "tools", "thinking"])),
            think_levels: true,
            tool_call_ids: true,
            generate_drops_default_thinking: true,
            ..ModelSpec::default()
        }
    }

    /// The other reading of §1 (PR #16879's fix): `/api/tags` lists every capability and the
    /// context length.
    pub fn with_complete_listing(mut self) -> ModelSpec {
        self.listed_capabilities = Some(self.capabilities.clone());
        self.listed_context_length = Some(self.context_length);
        self
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
            ModelSpec::gemma4_e4b().named("gemma4:latest"),
        ]
        .into_iter()
        .chain(ModelSpec::gemma4_all())
        .collect()
    }

    /// Every Gemma 4 definition, smallest first (not installed by default).
    pub fn gemma4_all() -> Vec<ModelSpec> {
        vec![
            ModelSpec::gemma4_e2b(),
            ModelSpec::gemma4_e4b(),
            ModelSpec::gemma4_12b(),
            ModelSpec::gemma4_26b(),
            ModelSpec::gemma4_31b(),
            ModelSpec::gemma4_31b_cloud(),
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
        m.extend(self.extra_model_info.clone());
        Value::Object(m)
    }

    /// `details` as `/api/tags` lists them: `context_length` only where the listing has it (§1).
    pub(crate) fn listed_details(&self) -> Value {
        let mut details = self.details();
        if let Some(n) = self.listed_context_length {
            details["context_length"] = json!(n);
        }
        details
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

/// Gemma 4's `model_info` keys beyond the common ones (§2, convert_gemma4.go): the vision
/// tower always (patch 16, merged 3 × 3, and **no** `vision.image_size`), the audio tower for
/// the models that hear, the experts for the MoE.
fn gemma4_info(audio: bool, experts: bool) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| m.insert(format!("gemma4.{k}"), v);
    put("vision.block_count", json!(16));
    put("vision.embedding_length", json!(768));
    put("vision.attention.head_count", json!(12));
    put("vision.feed_forward_length", json!(3072));
    put("vision.patch_size", json!(16));
    put("vision.num_channels", json!(3));
    put("vision.projector.scale_factor", json!(3));
    put("vision.attention.layer_norm_epsilon", json!(1e-6));
    if audio {
        put("audio.block_count", json!(12));
        put("audio.embedding_length", json!(1024));
        put("audio.feed_forward_length", json!(4096));
        put("audio.attention.head_count", json!(8));
        put("audio.attention.layer_norm_epsilon", json!(1e-6));
        put("audio.conv_kernel_size", json!(5));
    }
    if experts {
        put("expert_count", json!(128));
        put("expert_used_count", json!(8));
    }
    put("embedding_length_per_layer_input", json!(256));
    m
}
