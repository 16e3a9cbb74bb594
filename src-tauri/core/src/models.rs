//! Installed models and what each can do, and choosing one for a job. What a model can do is read
//! here whichever client asked: from Ollama's `/api/show` (which the OpenAI-compatible client asks
//! too when the server behind `/v1` is Ollama) or, for servers that do not say, guessed from the
//! model's name.

use crate::error::{Error, Result};
use crate::i18n::Lang;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Jobs a model may be able to do, as Ollama's `/api/show` `capabilities` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    Completion,
    Vision,
    Tools,
    Thinking,
    Audio,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Completion => "completion",
            Capability::Vision => "vision",
            Capability::Tools => "tools",
            Capability::Thinking => "thinking",
            Capability::Audio => "audio",
        }
    }

    /// The job in words, as used in error messages ("cannot see images").
    pub fn job(self) -> &'static str {
        match self {
            Capability::Completion => "chat",
            Capability::Vision => "see images",
            Capability::Tools => "use tools",
            Capability::Thinking => "think",
            Capability::Audio => "hear audio",
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
    /// Where a cloud model runs (`/api/tags`' `remote_host`, e.g. `https://ollama.com:443`); `None` for a model
    /// on the server itself.
    #[serde(default)]
    pub remote_host: Option<String>,
    /// [`is_cloud`](Self::is_cloud), for the UI (set by [`with_derived`](Self::with_derived)).
    #[serde(default)]
    pub cloud: bool,
    /// [`has_variable_image_budget`](Self::has_variable_image_budget), for the UI's Detail choice.
    #[serde(default)]
    pub image_detail: bool,
}

impl ModelInfo {
    pub fn can(&self, cap: Capability) -> bool {
        self.capabilities.iter().any(|c| c == cap.as_str())
    }

    fn is_gemma3(&self) -> bool {
        self.name.starts_with("gemma3") || self.family.as_deref() == Some("gemma3")
    }

    fn is_gemma4(&self) -> bool {
        self.family.as_deref() == Some("gemma4") || gemma_at(&name_tokens(&self.name), "4").is_some()
    }

    /// Runs somewhere else (Ollama's cloud models): prompts and photos leave the server the user chose.
    pub fn is_cloud(&self) -> bool {
        self.remote_host.is_some() || self.name.ends_with("-cloud") || self.name.ends_with(":cloud")
    }

    /// How photos are prepared for this model: Gemma 4 sees at a variable token budget (no square size: sized
    /// by area at `detail`); a model with a square vision input gets its side; any other Gemma 3's 896 px.
    pub fn prepare_options(&self, detail: crate::images::Detail) -> crate::images::PrepareOptions {
        use crate::images::{PrepareOptions, DEFAULT_MAX_SIDE};
        match self.vision_image_size {
            Some(side) => PrepareOptions::with_max_side(side),
            None if self.is_gemma4() => PrepareOptions::with_pixel_budget(detail.gemma4_pixels()),
            None => PrepareOptions::with_max_side(DEFAULT_MAX_SIDE),
        }
    }

    /// Whether photos may be sent at more than one detail (see [`prepare_options`](Self::prepare_options)).
    pub fn has_variable_image_budget(&self) -> bool {
        self.vision_image_size.is_none() && self.is_gemma4() && self.can(Capability::Vision)
    }

    /// A model known by its name alone, before anything the server says about it is added.
    pub(crate) fn named(name: &str) -> ModelInfo {
        ModelInfo {
            name: name.to_string(),
            size: 0,
            family: None,
            parameter_size: None,
            quantization: None,
            capabilities: Vec::new(),
            context_length: None,
            vision_image_size: None,
            remote_host: None,
            cloud: false,
            image_detail: false,
        }
    }

    /// With the fields the UI reads computed from the others (call again after changing capabilities).
    pub fn with_derived(self) -> ModelInfo {
        ModelInfo { cloud: self.is_cloud(), image_detail: self.has_variable_image_budget(), ..self }
    }

    /// With what Ollama's `/api/show` says. Servers older than 0.6.4 report no capabilities: then a
    /// model is assumed to chat, and to see if its `model_info` has a vision tower.
    pub(crate) fn with_show(self, show: Option<&Value>) -> ModelInfo {
        let info = show.and_then(|s| s.get("model_info")).and_then(Value::as_object);
        let find_num =
            |suffix: &str| info.and_then(|m| m.iter().find(|(k, _)| k.ends_with(suffix)).and_then(|(_, v)| v.as_u64()));
        let vision_image_size = find_num(".vision.image_size").map(|v| v as u32);
        let context_length = info.and_then(|m| {
            m.iter()
                .find(|(k, _)| k.ends_with(".context_length") && !k.contains(".vision."))
                .and_then(|(_, v)| v.as_u64())
        });
        let reported: Option<Vec<String>> =
            show.and_then(|s| s.get("capabilities")).and_then(|c| serde_json::from_value(c.clone()).ok());
        let family = self.family.clone().or_else(|| {
            let arch = info.and_then(|m| m.get("general.architecture")).and_then(Value::as_str);
            arch.map(str::to_string)
        });
        let capabilities = match reported {
            // `/api/tags` may have listed some already: it leaves out what Gemma 4's GGUFs declare late (vision,
            // audio), `/api/show` has them. Both are kept, in the order first seen.
            Some(c) if !c.is_empty() => {
                let mut all = self.capabilities.clone();
                all.extend(c.into_iter().filter(|x| !self.capabilities.contains(x)));
                all
            }
            _ if !self.capabilities.is_empty() => self.capabilities.clone(),
            _ => {
                let mut c = vec!["completion".to_string()];
                if vision_image_size.is_some() {
                    c.push("vision".into());
                }
                c
            }
        };
        let context_length = context_length.or(self.context_length);
        ModelInfo { capabilities, context_length, vision_image_size, family, ..self }.with_derived()
    }
}

/// The model to use when none was named: the first installed one that can do every job in
/// `needs` (chat is always needed), preferring Gemma 3. `models` is in Ollama's order (newest first).
/// Cloud models are never picked unasked: text and photos would leave the user's server.
pub fn pick_model<'a>(models: &'a [ModelInfo], needs: &[Capability]) -> Option<&'a ModelInfo> {
    let fits = |m: &&ModelInfo| !m.is_cloud() && m.can(Capability::Completion) && needs.iter().all(|c| m.can(*c));
    models.iter().filter(fits).find(|m| m.is_gemma3()).or_else(|| models.iter().find(fits))
}

/// The model to use for a job, for either kind of server: the named one, checked — before anything
/// is sent — to be able to do every job in `needs` where that can be known, or, when none is named,
/// the best fit among the served models. `known` tells what is known for certain of a named model
/// (`None`: nothing, so the server has the last word); `served` lists the models. Each is asked
/// only when needed.
pub(crate) async fn resolve_model(
    named: Option<&str>,
    needs: &[Capability],
    known: impl AsyncFnOnce(&str) -> Result<Option<ModelInfo>>,
    served: impl AsyncFnOnce() -> Result<Vec<ModelInfo>>,
) -> Result<String> {
    match named {
        Some(name) => {
            if needs.is_empty() {
                return Ok(name.to_string());
            }
            if let Some(info) = known(name).await? {
                if let Some(need) = needs.iter().find(|n| !info.can(**n)) {
                    return Err(Error::ModelUnable { model: name.to_string(), what: need.job().into() });
                }
            }
            Ok(name.to_string())
        }
        None => {
            let models = served().await?;
            let job = needs.iter().find(|c| **c != Capability::Completion).copied().unwrap_or(Capability::Completion);
            pick_model(&models, needs)
                .map(|m| m.name.clone())
                .ok_or_else(|| Error::NoSuitableModel { what: job.job().into() })
        }
    }
}

/// A model as far as its name tells: see [`guess_capabilities`].
pub(crate) fn guessed_info(name: &str) -> ModelInfo {
    let tokens = name_tokens(name);
    let gemma3 = gemma3_at(&tokens);
    let size = gemma3.and_then(|at| tokens[at..].iter().find(|t| is_size(t)).map(|t| t.to_ascii_uppercase()));
    ModelInfo {
        family: gemma3.map(|_| "gemma3".to_string()),
        parameter_size: size,
        capabilities: guess_capabilities(name),
        ..ModelInfo::named(name)
    }
    .with_derived()
}

/// What a model can do, judged by its name alone, for servers that do not say: every model chats;
/// Gemma 3 4b, 12b and 27b see images (270m and 1b do not; a bare "gemma3" is Ollama's 4b); names
/// marking a vision model (`llava`, `vision`, `vl`) see images; Gemma 4 sees and thinks, and its e2b, e4b and 12b
/// hear. Native tools are never assumed.
/// Names take many forms: `gemma3:4b`, `google/gemma-3-12b-it`, `/models/gemma-3-27b-it-Q4_K_M.gguf`.
pub fn guess_capabilities(name: &str) -> Vec<String> {
    let tokens = name_tokens(name);
    if let Some(at) = gemma_at(&tokens, "4") {
        // Gemma 4: every size sees and thinks; e2b, e4b and 12b also hear.
        let mut caps: Vec<String> = [Capability::Completion, Capability::Vision, Capability::Thinking]
            .iter()
            .map(|c| c.as_str().into())
            .collect();
        if tokens[at..].iter().any(|t| matches!(t.as_str(), "e2b" | "e4b" | "12b")) {
            caps.push(Capability::Audio.as_str().to_string());
        }
        return caps;
    }
    let vision = match gemma3_at(&tokens) {
        Some(at) => match tokens[at..].iter().find(|t| is_size(t)) {
            Some(size) => matches!(size.as_str(), "4b" | "12b" | "27b"),
            None => true,
        },
        None => tokens.iter().any(|t| matches!(t.as_str(), "llava" | "vision" | "vl")),
    };
    let mut caps = vec![Capability::Completion.as_str().to_string()];
    if vision {
        caps.push(Capability::Vision.as_str().to_string());
    }
    caps
}

/// The lower-case alphanumeric runs of a model name.
pub(crate) fn name_tokens(name: &str) -> Vec<String> {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

/// Where Gemma 3 is named (`gemma3`, or `gemma` then `3`): the index after the name.
fn gemma3_at(tokens: &[String]) -> Option<usize> {
    gemma_at(tokens, "3")
}

/// Where Gemma `version` is named (`gemma4`, or `gemma` then `4`): the index after the name.
fn gemma_at(tokens: &[String], version: &str) -> Option<usize> {
    tokens.iter().enumerate().find_map(|(i, t)| {
        if t.strip_prefix("gemma") == Some(version) {
            Some(i + 1)
        } else if t == "gemma" && tokens.get(i + 1).is_some_and(|n| n == version) {
            Some(i + 2)
        } else {
            None
        }
    })
}

/// A parameter count such as `4b` or `270m`.
fn is_size(t: &str) -> bool {
    let (digits, unit) = t.split_at(t.len().saturating_sub(1));
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && matches!(unit, "b" | "m")
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
    /// e.g. `4B`, or `26B-A4B` for Gemma 4's mixture of experts (26B in all, about 4B at work per token).
    pub parameters: &'static str,
    /// What the download weighs, in bytes, as published (rounded: "3.3GB" is 3.3e9).
    pub download_size: u64,
    /// Memory the model needs to run comfortably, in bytes: an estimate, see [`ram_for`].
    pub ram_needed: u64,
    /// Context window as published.
    pub context_length: u64,
    /// What it can do, as Ollama's `/api/show` names it (`completion`, `vision`, `audio`, `tools`, `thinking`).
    pub capabilities: &'static [&'static str],
}

impl CatalogueEntry {
    pub fn can(&self, cap: Capability) -> bool {
        self.capabilities.contains(&cap.as_str())
    }

    /// One line for an offer to download:
    /// `gemma4:e4b, 9.6 GB, needs ~12 GB RAM, sees images, hears, thinks, uses tools`.
    pub fn summary(&self, lang: Lang) -> String {
        let size = human_size(self.download_size);
        let ram = self.ram_needed / 1_000_000_000;
        let can: Vec<&str> = [Capability::Vision, Capability::Audio, Capability::Thinking, Capability::Tools]
            .into_iter()
            .filter(|c| self.can(*c))
            .map(|c| match (lang, c) {
                (Lang::En, Capability::Vision) => "sees images",
                (Lang::En, Capability::Audio) => "hears",
                (Lang::En, Capability::Thinking) => "thinks",
                (Lang::En, _) => "uses tools",
                (Lang::Zh, Capability::Vision) => "能看图",
                (Lang::Zh, Capability::Audio) => "能听",
                (Lang::Zh, Capability::Thinking) => "会思考",
                (Lang::Zh, _) => "会用工具",
            })
            .collect();
        match lang {
            Lang::En => {
                let can = if can.is_empty() { "text only".to_string() } else { can.join(", ") };
                format!("{}, {size}, needs ~{ram} GB RAM, {can}", self.name)
            }
            Lang::Zh => {
                let can = if can.is_empty() { "仅文本".to_string() } else { can.join("、") };
                format!("{}，{size}，需要约 {ram} GB 内存，{can}", self.name)
            }
        }
    }
}

/// The memory a model of `download_size` bytes needs to run comfortably, estimated: the weights plus a quarter
/// for the context Ollama allocates by default (4096 tokens on most machines), the runtime and the photo and audio
/// encoders' work, rounded up to a whole GB. A rule of thumb, not a measurement: Ollama itself only fails to load.
pub const fn ram_for(download_size: u64) -> u64 {
    const GB: u64 = 1_000_000_000;
    (download_size + download_size / 4).div_ceil(GB) * GB
}

const TEXT: &[&str] = &["completion"];
const SEES: &[&str] = &["completion", "vision"];
/// Gemma 4 e2b, e4b and 12b, as Ollama's `/api/show` lists them (GEMMA4-FACTS.md §2).
const SEES_HEARS_THINKS_TOOLS: &[&str] = &["completion", "vision", "audio", "tools", "thinking"];
/// Gemma 4 26b and 31b: no audio.
const SEES_THINKS_TOOLS: &[&str] = &["completion", "vision", "tools", "thinking"];

const fn entry(
    name: &'static str,
    parameters: &'static str,
    download_size: u64,
    context_length: u64,
    capabilities: &'static [&'static str],
) -> CatalogueEntry {
    CatalogueEntry { name, parameters, download_size, ram_needed: ram_for(download_size), context_length, capabilities }
}

/// What can be offered for download, from least to most capable: Gemma 3, then Gemma 4, each by parameters.
///
/// Gemma 3: sizes and context windows as listed on <https://ollama.com/library/gemma3> (the 1b/4b/12b/27b sizes
/// also appear in the model table of Ollama's README); 4b, 12b and 27b take images, 270m and 1b are text only.
///
/// Gemma 4 (tests/emulator/GEMMA4-FACTS.md §2, §7): every size thinks and calls tools natively and sees photos; e2b,
/// e4b and 12b also hear. Context windows: 128K for e2b and e4b, 256K for 26b and 31b (FACTS §7, and the readme on
/// ollama.com/library/gemma4); 12b's 256K is from Google's model card (⚠ FACTS has it as probable). Download sizes
/// are ⚠ estimates, not read off the library's tag list: e2b 7.2 GB and e4b 9.6 GB as the emulator's `/api/tags`
/// has them; 26b ~18 GB and 31b ~20 GB from Q4_K_M GGUFs of the same weights (17.99 GB and 19.89 GB), the
/// quantization of the default tags (FACTS §1 shows it for e4b); 12b ~8.1 GB from a listing of its QAT Q4_0 build.
/// RAM for all: [`ram_for`], an estimate.
pub const CATALOGUE: [CatalogueEntry; 10] = [
    entry("gemma3:270m", "270M", 292_000_000, 32_768, TEXT),
    entry("gemma3:1b", "1B", 815_000_000, 32_768, TEXT),
    entry("gemma3:4b", "4B", 3_300_000_000, 131_072, SEES),
    entry("gemma3:12b", "12B", 8_100_000_000, 131_072, SEES),
    entry("gemma3:27b", "27B", 17_000_000_000, 131_072, SEES),
    entry("gemma4:e2b", "E2B", 7_200_000_000, 131_072, SEES_HEARS_THINKS_TOOLS),
    entry("gemma4:e4b", "E4B", 9_600_000_000, 131_072, SEES_HEARS_THINKS_TOOLS),
    entry("gemma4:12b", "12B", 8_100_000_000, 262_144, SEES_HEARS_THINKS_TOOLS),
    entry("gemma4:26b", "26B-A4B", 18_000_000_000, 262_144, SEES_THINKS_TOOLS),
    entry("gemma4:31b", "31B", 20_000_000_000, 262_144, SEES_THINKS_TOOLS),
];

/// The catalogue entry for `name` (`gemma3` finds nothing: its `latest` tag is not listed apart).
pub fn catalogue_entry(name: &str) -> Option<&'static CatalogueEntry> {
    CATALOGUE.iter().find(|e| same_model(e.name, name))
}

/// The model offered when this machine's memory is unknown: gemma3:4b, the smallest that sees images, which runs
/// on most machines.
pub fn recommended_model() -> &'static CatalogueEntry {
    catalogue_entry("gemma3:4b").expect("gemma3:4b is in the catalogue")
}

/// The model to offer a machine with `total_memory` bytes of RAM: the most capable one whose
/// [`ram_needed`](CatalogueEntry::ram_needed) is at most three quarters of it (a quarter stays for the system and
/// the other programs). "Most capable" is the catalogue's order: Gemma 4 after Gemma 3, larger after smaller. A
/// machine too small for any gets the one needing least.
pub fn recommended_for(total_memory: u64) -> &'static CatalogueEntry {
    let room = total_memory / 4 * 3;
    CATALOGUE
        .iter()
        .rev()
        .find(|e| e.ram_needed <= room)
        .unwrap_or_else(|| CATALOGUE.iter().min_by_key(|e| e.ram_needed).expect("the catalogue is not empty"))
}

/// This machine's RAM in bytes, `None` if it cannot be read. It is the memory of the machine the app runs on,
/// which is where Ollama runs too in the usual set-up.
pub fn total_memory() -> Option<u64> {
    let mut system = sysinfo::System::new();
    system.refresh_memory_specifics(sysinfo::MemoryRefreshKind::nothing().with_ram());
    Some(system.total_memory()).filter(|bytes| *bytes > 0)
}

/// The model to offer on this machine: [`recommended_for`] its memory, or [`recommended_model`] if that is unknown.
pub fn recommended_here() -> &'static CatalogueEntry {
    total_memory().map_or_else(recommended_model, recommended_for)
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
            remote_host: None,
            cloud: false,
            image_detail: false,
        }
    }

    #[test]
    fn capabilities_from_names() {
        let sees = |n: &str| guess_capabilities(n).contains(&"vision".to_string());
        for n in [
            "gemma3:4b",
            "gemma3:12b-it-qat",
            "google/gemma-3-27b-it",
            "/m/gemma-3-4b-it-Q4_K_M.gguf",
            "gemma3",
            "llava:7b",
            "Qwen2.5-VL-7B",
        ] {
            assert!(sees(n), "{n}");
        }
        for n in ["gemma3:1b", "gemma3:270m", "unsloth/gemma-3-270m-it-GGUF", "gemma2:9b", "llama3.2", "gemma-3n-e4b"] {
            assert!(!sees(n), "{n}");
        }
        assert!(guess_capabilities("anything").contains(&"completion".to_string()));
        let info = guessed_info("google/gemma-3-12b-it");
        assert_eq!((info.family.as_deref(), info.parameter_size.as_deref()), (Some("gemma3"), Some("12B")));
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
    fn catalogue_offers_gemma3_and_gemma4_with_what_each_can_do() {
        let r = recommended_model();
        assert_eq!(r.name, "gemma3:4b");
        assert_eq!(r.summary(Lang::En), "gemma3:4b, 3.3 GB, needs ~5 GB RAM, sees images");
        assert_eq!(r.summary(Lang::Zh), "gemma3:4b，3.3 GB，需要约 5 GB 内存，能看图");
        assert_eq!(
            catalogue_entry("gemma3:1b").unwrap().summary(Lang::En),
            "gemma3:1b, 815.0 MB, needs ~2 GB RAM, text only"
        );
        let e4b = catalogue_entry("gemma4:e4b").unwrap();
        assert_eq!(
            e4b.summary(Lang::En),
            "gemma4:e4b, 9.6 GB, needs ~12 GB RAM, sees images, hears, thinks, uses tools"
        );
        assert_eq!(e4b.summary(Lang::Zh), "gemma4:e4b，9.6 GB，需要约 12 GB 内存，能看图、能听、会思考、会用工具");
        assert_eq!(
            catalogue_entry("gemma4:31b").unwrap().summary(Lang::En),
            "gemma4:31b, 20.0 GB, needs ~25 GB RAM, sees images, thinks, uses tools"
        );
        assert!(catalogue_entry("GEMMA3:27B").unwrap().can(Capability::Vision));
        assert!(catalogue_entry("llama3.2").is_none());
        // Gemma 3 smallest first; exactly the sizes that see, hear and think do.
        let gemma3: Vec<u64> = CATALOGUE[..5].iter().map(|e| e.download_size).collect();
        assert!(gemma3.windows(2).all(|w| w[0] < w[1]), "{gemma3:?}");
        let with = |cap| CATALOGUE.iter().filter(|e| e.can(cap)).map(|e| e.name).collect::<Vec<_>>();
        let gemma4 = ["gemma4:e2b", "gemma4:e4b", "gemma4:12b", "gemma4:26b", "gemma4:31b"];
        assert_eq!(with(Capability::Vision), [&["gemma3:4b", "gemma3:12b", "gemma3:27b"][..], &gemma4].concat());
        assert_eq!(with(Capability::Audio), ["gemma4:e2b", "gemma4:e4b", "gemma4:12b"]);
        assert_eq!(with(Capability::Thinking), gemma4);
        assert_eq!(with(Capability::Tools), gemma4);
        // The guess from a name agrees with the catalogue on seeing and hearing.
        for e in &CATALOGUE {
            let guessed = guess_capabilities(e.name);
            for cap in [Capability::Vision, Capability::Audio] {
                assert_eq!(guessed.contains(&cap.as_str().to_string()), e.can(cap), "{} {cap:?}", e.name);
            }
        }
    }

    #[test]
    fn ram_is_the_download_and_a_quarter_rounded_up() {
        assert_eq!(ram_for(3_300_000_000), 5_000_000_000);
        assert_eq!(ram_for(9_600_000_000), 12_000_000_000);
        assert_eq!(ram_for(292_000_000), 1_000_000_000);
        assert!(CATALOGUE.iter().all(|e| e.ram_needed > e.download_size));
    }

    #[test]
    fn recommends_the_most_capable_that_fits_in_three_quarters_of_memory() {
        const GIB: u64 = 1 << 30;
        let pick = |gib: u64| recommended_for(gib * GIB).name;
        assert_eq!(pick(0), "gemma3:270m", "too small for any: the one needing least");
        assert_eq!(pick(1), "gemma3:270m");
        assert_eq!(pick(4), "gemma3:1b");
        assert_eq!(pick(8), "gemma3:4b");
        assert_eq!(pick(12), "gemma4:e2b");
        assert_eq!(pick(16), "gemma4:12b", "e4b needs more (its download is larger) but 12b is the larger model");
        assert_eq!(pick(24), "gemma4:12b");
        assert_eq!(pick(30), "gemma4:26b");
        assert_eq!(pick(32), "gemma4:31b");
        assert_eq!(pick(128), "gemma4:31b");
        // Exactly at three quarters fits; a byte less does not.
        let e2b = catalogue_entry("gemma4:e2b").unwrap().ram_needed;
        assert_eq!(recommended_for(e2b / 3 * 4).name, "gemma4:e2b");
        assert_eq!(recommended_for(e2b / 3 * 4 - 4).name, "gemma3:4b");
        // Whatever this machine has, the pick is in the catalogue.
        assert!(catalogue_entry(recommended_here().name).is_some());
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(3_338_801_804), "3.3 GB");
        assert_eq!(human_size(815_319_791), "815.3 MB");
        assert_eq!(human_size(512), "512 B");
    }
}
