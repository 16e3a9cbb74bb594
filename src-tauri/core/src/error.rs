//! What can go wrong, described for people in both languages, with the CLI's exit codes.

use crate::i18n::Lang;
use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum Error {
    /// Nothing answered at the host (refused, DNS failure, timeout while connecting).
    #[error("cannot reach Ollama at {host}: {detail}")]
    Unreachable { host: String, detail: String },
    /// Something answered, but it is not Ollama (or not the API asked for).
    #[error("the server at {host} does not look like Ollama: {detail}")]
    NotOllama { host: String, detail: String },
    #[error("model \"{model}\" is not installed")]
    ModelNotFound { model: String },
    /// The model is installed but cannot do what was asked (e.g. images to a text-only model).
    #[error("model \"{model}\" cannot {what}")]
    ModelUnable { model: String, what: String },
    /// Audio for a model that does not hear, with the installed models that do (which may be none).
    #[error("model \"{model}\" cannot hear audio{}", hearing_en(.hearing))]
    CannotHear { model: String, hearing: Vec<String> },
    /// A pull asked for a model the registry does not have (or a name that is not one).
    #[error("there is no model \"{model}\" to download")]
    UnknownModel { model: String },
    /// A pull that started but did not finish: Ollama's message, or `None` when the connection
    /// was cut.
    #[error("downloading \"{model}\" failed: {}", .message.as_deref().unwrap_or("the connection to Ollama was cut"))]
    PullFailed { model: String, message: Option<String> },
    /// No installed model can do the job, so none could be chosen.
    #[error("no installed model can {what}")]
    NoSuitableModel { what: String },
    #[error("Ollama is busy: {message}")]
    Busy { message: String },
    /// An HTTP error with Ollama's `{"error": …}` body.
    #[error("Ollama answered {status}: {message}")]
    Server { status: u16, message: String },
    /// An `{"error": …}` line inside a stream that had started fine.
    #[error("Ollama stopped with an error: {message}")]
    Stream { message: String },
    /// The connection closed before the final `done` message.
    #[error("the connection to Ollama was cut before the answer was complete")]
    ConnectionCut,
    /// Nothing arrived for too long.
    #[error("Ollama sent nothing for {secs} s")]
    Stalled { secs: u64 },
    /// A reply that does not parse as what Ollama sends.
    #[error("unexpected reply from Ollama: {detail}")]
    Protocol { detail: String },
    #[error("stopped")]
    Cancelled,
    /// The OS keychain (where API keys are kept) cannot be used.
    #[error("the system keychain is not available: {0}")]
    Keychain(String),
    #[error("{path}: {reason}")]
    BadInput { path: String, reason: String },
    /// A photo that cannot be prepared: the reason is kept as is, to be said in either language.
    #[error("{path}: {error}")]
    Image { path: String, error: crate::images::ImageError },
    /// An audio clip that cannot be prepared (undecodable, or longer than the model takes).
    #[error("{path}: {error}")]
    Audio { path: String, error: crate::audio::AudioError },
    /// The conversation database could not be read or written.
    #[error("cannot use the conversation database: {detail}")]
    Storage { detail: String },
    /// The database comes from a newer app: it is open read-only and left unchanged.
    #[error("the conversation database was written by a newer Gemma Desk (schema version {found}; this one understands up to {supported}), so it is open read-only")]
    StorageReadOnly { found: u32, supported: u32 },
    /// A conversation, message or image that is not (or no longer) in the database.
    #[error("{what} does not exist (it may have been deleted)")]
    StorageNotFound { what: String },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Other(String),
}

/// An error as handed to the webview: a stable `kind` for code, and text for people.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    pub kind: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl Error {
    /// A stable machine-readable name.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Unreachable { .. } => "unreachable",
            Error::NotOllama { .. } => "not_ollama",
            Error::ModelNotFound { .. } => "model_not_found",
            Error::ModelUnable { .. } | Error::CannotHear { .. } => "model_unable",
            Error::NoSuitableModel { .. } => "no_suitable_model",
            Error::UnknownModel { .. } => "unknown_model",
            Error::PullFailed { .. } => "pull_failed",
            Error::Busy { .. } => "busy",
            Error::Server { .. } => "server",
            Error::Stream { .. } => "stream",
            Error::ConnectionCut => "connection_cut",
            Error::Stalled { .. } => "stalled",
            Error::Protocol { .. } => "protocol",
            Error::Cancelled => "cancelled",
            Error::Keychain(_) => "keychain",
            Error::BadInput { .. } | Error::Image { .. } | Error::Audio { .. } => "bad_input",
            Error::Storage { .. } => "storage",
            Error::StorageReadOnly { .. } => "storage_read_only",
            Error::StorageNotFound { .. } => "storage_not_found",
            Error::Usage(_) => "usage",
            Error::Other(_) => "other",
        }
    }

    /// The CLI's exit code (its documented contract).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Unreachable { .. } => 3,
            Error::ModelNotFound { .. }
            | Error::ModelUnable { .. }
            | Error::CannotHear { .. }
            | Error::NoSuitableModel { .. }
            | Error::UnknownModel { .. } => 4,
            Error::BadInput { .. } | Error::Image { .. } | Error::Audio { .. } => 5,
            _ => 1,
        }
    }

    /// What went wrong, without the file's path for a bad file (shown beside its name), in the user's language.
    pub fn reason(&self, lang: Lang) -> String {
        match self {
            Error::BadInput { reason, .. } => reason.clone(),
            Error::Image { error, .. } => error.message(lang),
            Error::Audio { error, .. } => error.message(lang),
            other => other.message(lang),
        }
    }

    /// What went wrong, in the user's language.
    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            Error::Unreachable { host, detail } => format!("无法连接到 {host} 上的 Ollama：{detail}"),
            Error::NotOllama { host, detail } => format!("{host} 上的服务器看起来不是 Ollama：{detail}"),
            Error::ModelNotFound { model } => format!("模型 “{model}” 尚未安装"),
            Error::ModelUnable { model, what } => format!("模型 “{model}” 不能{}", what_zh(what)),
            Error::CannotHear { model, hearing } if hearing.is_empty() => {
                format!("模型 “{model}” 听不了音频，已安装的模型也都不能")
            }
            Error::CannotHear { model, hearing } => {
                format!("模型 “{model}” 听不了音频；能听的已安装模型：{}", hearing.join("、"))
            }
            Error::NoSuitableModel { what } => format!("已安装的模型都不能{}", what_zh(what)),
            Error::UnknownModel { model } => format!("没有可下载的模型 “{model}”"),
            Error::PullFailed { model, message: Some(m) } => format!("下载模型 “{model}” 失败：{m}"),
            Error::PullFailed { model, message: None } => format!("下载模型 “{model}” 失败：与 Ollama 的连接断开了"),
            Error::Busy { message } => format!("Ollama 正忙：{message}"),
            Error::Server { status, message } => format!("Ollama 返回 {status}：{message}"),
            Error::Stream { message } => format!("Ollama 中途出错：{message}"),
            Error::ConnectionCut => "回答还没完成，与 Ollama 的连接就断开了".into(),
            Error::Stalled { secs } => format!("Ollama 已经 {secs} 秒没有发送任何内容"),
            Error::Protocol { detail } => format!("Ollama 的回复无法识别：{detail}"),
            Error::Cancelled => "已停止".into(),
            Error::Keychain(detail) => format!("无法使用系统钥匙串：{detail}"),
            Error::BadInput { path, reason } => format!("{path}：{reason}"),
            Error::Image { path, error } => format!("{path}：{}", error.message(lang)),
            Error::Audio { path, error } => format!("{path}：{}", error.message(lang)),
            Error::Storage { detail } => format!("无法使用对话数据库：{detail}"),
            Error::StorageReadOnly { found, supported } => format!(
                "对话数据库由更新版本的 Gemma Desk 写入（架构版本 {found}，本版本最高支持 {supported}），因此以只读方式打开"
            ),
            Error::StorageNotFound { what } => format!("{} 不存在（可能已被删除）", thing_zh(what)),
            Error::Usage(m) | Error::Other(m) => m.clone(),
        }
    }

    /// What to do next, in the user's language, where there is something useful to say.
    pub fn hint(&self, lang: Lang) -> Option<String> {
        if let Error::ModelNotFound { model } = self {
            return Some(match lang {
                Lang::En => format!("Pull it first (`ollama pull {model}`) or choose an installed model."),
                Lang::Zh => format!("请先下载它（`ollama pull {model}`），或选择已安装的模型。"),
            });
        }
        if let Error::PullFailed { message, .. } = self {
            return Some(pull_hint(message.as_deref().unwrap_or(""), lang).to_string());
        }
        let s = match self {
            Error::UnknownModel { .. } => lang.pick(
                "Check the name and tag (for example gemma3:4b); Ollama's models are listed at https://ollama.com/library.",
                "请检查名称和标签（例如 gemma3:4b）；Ollama 的模型列表见 https://ollama.com/library。",
            ),
            Error::Unreachable { .. } => lang.pick(
                "Install Ollama from https://ollama.com and start it (`ollama serve`), or set its address (Settings in the app, OLLAMA_HOST, or --host).",
                "请从 https://ollama.com 安装并启动 Ollama（`ollama serve`），或设置其地址（应用中的“设置”、OLLAMA_HOST 或 --host）。",
            ),
            Error::NotOllama { .. } => lang.pick(
                "Check the server address: it should point at Ollama (port 11434 by default).",
                "请检查服务器地址：它应指向 Ollama（默认端口 11434）。",
            ),
            Error::CannotHear { .. } => lang.pick(
                "Choose a model that hears (Gemma 4 e2b, e4b or 12b: `ollama pull gemma4:e4b`), or send the question without the clip.",
                "请选择能听音频的模型（Gemma 4 的 e2b、e4b 或 12b：`ollama pull gemma4:e4b`），或不带音频发送问题。",
            ),
            Error::ModelUnable { what, .. } if what == "think" => lang.pick(
                "Set Think to Auto or Off for this model, or choose one that thinks (Gemma 4: `ollama pull gemma4:e4b`).",
                "请把“思考”设为“自动”或“关闭”，或选择会思考的模型（Gemma 4：`ollama pull gemma4:e4b`）。",
            ),
            Error::ModelUnable { .. } | Error::NoSuitableModel { .. } => lang.pick(
                "Choose a model that can (Gemma 3 4b, 12b and 27b see images), or pull one: `ollama pull gemma3:4b`.",
                "请选择具备该能力的模型（Gemma 3 的 4b、12b、27b 能看图），或下载一个：`ollama pull gemma3:4b`。",
            ),
            Error::Busy { .. } => lang.pick(
                "Wait a moment and try again.",
                "请稍候再试。",
            ),
            Error::ConnectionCut | Error::Stream { .. } => lang.pick(
                "The partial answer is kept. Try again; if it keeps happening, check Ollama's log.",
                "已保留部分回答。请重试；如果反复出现，请查看 Ollama 的日志。",
            ),
            Error::Stalled { .. } => lang.pick(
                "Ollama may be overloaded or stuck. Try again, or restart Ollama.",
                "Ollama 可能过载或卡住了。请重试，或重启 Ollama。",
            ),
            Error::Storage { .. } => lang.pick(
                "Check that the data folder exists, is writable and has free space, then try again.",
                "请检查数据文件夹是否存在、可写且有剩余空间，然后重试。",
            ),
            Error::StorageReadOnly { .. } => lang.pick(
                "Update Gemma Desk to add or change conversations. Nothing in the file was changed.",
                "请更新 Gemma Desk 后再新建或修改对话。文件中的内容没有任何改动。",
            ),
            Error::StorageNotFound { .. } => lang.pick("Reload the list of conversations.", "请刷新对话列表。"),
            Error::Keychain(_) => lang.pick(
                "API keys are kept only in the system keychain. On Linux a Secret Service must be running (GNOME Keyring or KWallet); from a terminal, give the key with --api-key or GEMMA_DESK_API_KEY instead.",
                "API 密钥只保存在系统钥匙串中。在 Linux 上需要运行 Secret Service（GNOME 密钥环或 KWallet）；在终端中也可以用 --api-key 或 GEMMA_DESK_API_KEY 提供密钥。",
            ),
            Error::Server { status, .. } if *status >= 500 => lang.pick(
                "Ollama failed while answering. Try again; if it keeps happening, check Ollama's log.",
                "Ollama 在回答时出错。请重试；如果反复出现，请查看 Ollama 的日志。",
            ),
            _ => return None,
        };
        Some(s.to_string())
    }

    pub fn report(&self, lang: Lang) -> ErrorReport {
        ErrorReport { kind: self.kind(), message: self.message(lang), hint: self.hint(lang) }
    }
}

/// What to do after a failed download, from Ollama's reason.
fn pull_hint(message: &str, lang: Lang) -> &'static str {
    let m = message.to_ascii_lowercase();
    if m.contains("newer version of ollama") {
        // The registry answers 412 to clients too old for a model.
        lang.pick(
            "This model needs a newer Ollama: update it from https://ollama.com/download, then pull again.",
            "此模型需要更新版本的 Ollama：请从 https://ollama.com/download 更新后再下载。",
        )
    } else if m.contains("no space left") {
        lang.pick(
            "The disk is full: free some space, then pull again; the download resumes where it stopped.",
            "磁盘已满：请腾出空间后再下载；下载会从中断处继续。",
        )
    } else {
        lang.pick(
            "Pull again: Ollama keeps what it has downloaded and resumes from there.",
            "请重新下载：Ollama 会保留已下载的部分并从中断处继续。",
        )
    }
}

/// `CannotHear`'s list of the models that can, in English.
fn hearing_en(hearing: &[String]) -> String {
    if hearing.is_empty() {
        "; no installed model can".into()
    } else {
        format!("; installed models that can: {}", hearing.join(", "))
    }
}

/// The job words used by `ModelUnable`/`NoSuitableModel`, in Chinese.
fn what_zh(what: &str) -> &str {
    match what {
        "see images" => "看图",
        "chat" => "聊天",
        "use tools" => "使用工具",
        "think" => "思考",
        "hear audio" => "听音频",
        other => other,
    }
}

/// `StorageNotFound`'s "conversation 3", "message 7", "image ab12…", in Chinese.
fn thing_zh(what: &str) -> String {
    let mut out = what.to_string();
    for (en, zh) in [("conversation ", "对话 "), ("message ", "消息 "), ("image ", "图片 ")] {
        out = out.replace(en, zh);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_cli_contract() {
        let unreachable = Error::Unreachable { host: "h".into(), detail: "refused".into() };
        assert_eq!(unreachable.exit_code(), 3);
        assert_eq!(Error::ModelNotFound { model: "m".into() }.exit_code(), 4);
        assert_eq!(Error::ModelUnable { model: "m".into(), what: "see images".into() }.exit_code(), 4);
        assert_eq!(Error::BadInput { path: "p".into(), reason: "r".into() }.exit_code(), 5);
        assert_eq!(Error::Usage("u".into()).exit_code(), 2);
        assert_eq!(Error::ConnectionCut.exit_code(), 1);
    }

    #[test]
    fn both_languages_say_something() {
        let e = Error::ModelUnable { model: "gemma3:1b".into(), what: "see images".into() };
        assert_eq!(e.message(Lang::En), "model \"gemma3:1b\" cannot see images");
        assert_eq!(e.message(Lang::Zh), "模型 “gemma3:1b” 不能看图");
        assert!(e.hint(Lang::Zh).unwrap().contains("gemma3:4b"));
        let unknown = Error::UnknownModel { model: "gemma9:1b".into() };
        assert_eq!(unknown.exit_code(), 4);
        assert!(unknown.message(Lang::Zh).contains("gemma9:1b"));
        let cut = Error::PullFailed { model: "gemma3:4b".into(), message: None };
        assert_eq!(cut.message(Lang::En), "downloading \"gemma3:4b\" failed: the connection to Ollama was cut");
        assert_eq!(cut.exit_code(), 1);
        assert!(cut.hint(Lang::En).unwrap().contains("resumes"));
        let old = Error::PullFailed {
            model: "m".into(),
            message: Some("pull model manifest: 412: requires a newer version of Ollama".into()),
        };
        assert!(old.hint(Lang::Zh).unwrap().contains("更新"));
        let nf = Error::ModelNotFound { model: "x:1b".into() };
        assert!(nf.hint(Lang::En).unwrap().contains("ollama pull x:1b"));
    }
}
