//! Preparing audio clips for a model that hears: what a clip looks like on the wire.
//!
//! [`prepare_audio_bytes`] turns the bytes of a sound file into **16 kHz, mono, 16-bit PCM WAV**, base64-encoded
//! with the standard alphabet and no `data:` prefix: what Ollama's `images` field (which also carries audio) and an
//! OpenAI-compatible `input_audio` part take.
//!
//! - **Why this shape**: Gemma 4's audio encoder works on 16 kHz mono (its feature extractor is built for that rate
//!   and one channel). Ollama does not convert audio itself: it recognises only WAV and MP3 and hands the raw bytes to
//!   llama.cpp's mtmd, which decodes and resamples to 16 kHz. Sending 16 kHz mono 16-bit WAV is therefore what both
//!   ends accept unchanged, it is the smallest lossless form of what the model hears (32 KB per second, about 1.3 MB
//!   of base64 for the longest clip), and it lets us take formats Ollama would refuse (FLAC, OGG, M4A).
//! - **Formats** are recognised from the bytes, never the file name: WAV (8/16/24/32-bit integer and 32-bit float
//!   PCM, any rate, any number of channels), MP3, FLAC, OGG Vorbis, M4A/MP4 and raw ADTS AAC (AAC-LC). OGG Opus gets
//!   [`AudioError::NotInThisBuild`], which says to convert it: there is no well-kept pure-Rust Opus decoder (those
//!   that plug into symphonia wrap the C libopus). Known formats we do not decode (AIFF, WebM, WMA, …) are named.
//! - **Length**: clips over [`MAX_AUDIO_SECS`] are refused, saying the length and the limit. The container's stated
//!   length is checked before anything is decoded; where there is none, decoding stops as soon as the limit is
//!   passed. Files over [`AudioOptions::max_file_bytes`] are refused before they are read.
//! - **Conversion**: channels are averaged into one (the model hears mono; averaging keeps the level of a
//!   centred voice), resampled with rubato's windowed-sinc resampler (anti-aliased, so high tones do not fold into
//!   speech frequencies), then rounded to 16-bit with clipping.
//!
//! Everything here is synchronous and CPU-bound (0.2 s for 30 s of 48 kHz stereo WAV in a dev build): call it from
//! a worker thread (`tokio::task::spawn_blocking`), never the UI thread. Errors ([`AudioError`]) are short reasons
//! meant to follow the file name; [`prepare_audio_file`] wraps them in [`crate::Error::Audio`] (exit code 5 in the
//! CLI). No input makes this module panic or hang: a decoder panic is caught and reported as a damaged file.
//!
//! `sniff.rs` recognises formats, `decode.rs` decodes and downmixes with symphonia; this file holds the API, the
//! resampling and the WAV writer.

mod decode;
mod sniff;

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use serde::Serialize;

use crate::{Error, Lang};

/// The longest clip sent, in seconds. Gemma 4's model card gives 30 s as the longest audio its models that hear take;
/// Ollama itself checks nothing, so a longer clip would reach the model beyond what it was made for.
pub const MAX_AUDIO_SECS: u32 = 30;
/// The sample rate of prepared clips: what Gemma 4's audio encoder takes.
pub const TARGET_SAMPLE_RATE: u32 = 16_000;
/// The default limit on the size of an audio file (64 MiB: far more than 30 s of any format but uncompressed
/// high-rate multichannel WAV).
pub const DEFAULT_MAX_AUDIO_FILE_BYTES: u64 = 64 << 20;
/// The MIME type of prepared clips.
pub const AUDIO_MIME: &str = "audio/wav";

/// How clips are prepared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioOptions {
    /// Files larger than this are refused before they are read.
    pub max_file_bytes: u64,
}

impl Default for AudioOptions {
    fn default() -> Self {
        AudioOptions { max_file_bytes: DEFAULT_MAX_AUDIO_FILE_BYTES }
    }
}

/// The format of a source clip, as recognised from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioFormat {
    Wav,
    Mp3,
    Flac,
    /// OGG Vorbis.
    Ogg,
    /// AAC in an MP4 container (M4A, MP4, M4B).
    M4a,
    /// AAC in a raw ADTS stream (`.aac`).
    Aac,
}

impl AudioFormat {
    /// The lowercase name used in JSON and the CLI: `wav`, `mp3`, `flac`, `ogg`, `m4a`, `aac`.
    pub fn as_str(self) -> &'static str {
        match self {
            AudioFormat::Wav => "wav",
            AudioFormat::Mp3 => "mp3",
            AudioFormat::Flac => "flac",
            AudioFormat::Ogg => "ogg",
            AudioFormat::M4a => "m4a",
            AudioFormat::Aac => "aac",
        }
    }

    fn display_name(self) -> &'static str {
        match self {
            AudioFormat::Wav => "WAV",
            AudioFormat::Mp3 => "MP3",
            AudioFormat::Flac => "FLAC",
            AudioFormat::Ogg => "OGG Vorbis",
            AudioFormat::M4a => "M4A",
            AudioFormat::Aac => "AAC",
        }
    }
}

impl fmt::Display for AudioFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A clip ready to be sent to the model. (`Debug` shows sizes, not the audio.)
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct PreparedAudio {
    /// The WAV file: 16 kHz, mono, 16-bit PCM.
    #[serde(skip)]
    pub wav: Vec<u8>,
    /// [`PreparedAudio::wav`] in base64 with the standard alphabet, no `data:` prefix (what Ollama's `images` and
    /// OpenAI's `input_audio.data` take).
    pub base64: String,
    /// The length of the prepared clip in milliseconds.
    pub duration_ms: u64,
    /// The source's format, recognised from its bytes.
    pub format: AudioFormat,
    /// The source's sample rate in Hz and number of channels, before downmixing and resampling.
    pub source_sample_rate: u32,
    pub source_channels: u16,
}

impl fmt::Debug for PreparedAudio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedAudio")
            .field("wav", &format_args!("<{} bytes>", self.wav.len()))
            .field("duration_ms", &self.duration_ms)
            .field("format", &self.format)
            .field("source_sample_rate", &self.source_sample_rate)
            .field("source_channels", &self.source_channels)
            .finish()
    }
}

/// Why a clip could not be prepared. `Display` gives the reason in short English, meant to follow the file name;
/// [`AudioError::message`] gives it in either language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    #[error("the file is empty")]
    Empty,
    /// Not a sound file at all; sometimes we can say what it is instead.
    #[error("not an audio file{}", .0.map(|what| format!(" (it looks like {what})")).unwrap_or_default())]
    NotAudio(Option<&'static str>),
    /// A recognised format or codec that is not decoded here.
    #[error("{0} audio is not supported: convert it to WAV, MP3 or FLAC first")]
    Unsupported(String),
    /// A container we read holding a codec we do not know.
    #[error("this {0} file uses a codec that is not supported: convert it to WAV, MP3 or FLAC first")]
    UnknownCodec(&'static str),
    /// A format this build cannot decode (Opus: no pure-Rust decoder). Says what to do instead.
    #[error("this build of Gemma Desk cannot decode {0} audio: convert the file to WAV, MP3 or FLAC first")]
    NotInThisBuild(&'static str),
    #[error("the audio's sample rate ({0} Hz) is not supported")]
    SampleRate(u32),
    /// The data ends before the audio does.
    #[error("the file is truncated: the audio ends early")]
    Truncated,
    /// The data is not valid audio of the format its header announces.
    #[error("the file is damaged: it is not valid {0} audio")]
    Damaged(&'static str),
    /// A valid file with no audio in it.
    #[error("the file holds no sound (it is 0 seconds long)")]
    NoSound,
    /// Longer than the model takes: the length when the file states it (or `None` when decoding stopped at the
    /// limit), and the limit.
    #[error(
        "the clip is {}; the limit is {limit_secs} s: cut it shorter first",
        length_ms.map_or_else(|| format!("longer than {limit_secs} s"), |ms| format!("{} long", seconds(ms)))
    )]
    TooLong { length_ms: Option<u64>, limit_secs: u32 },
    #[error("the file is too large ({size_mb} MB; the limit is {limit_mb} MB)")]
    FileTooLarge { size_mb: u64, limit_mb: u64 },
    #[error("cannot read the file: {0}")]
    Io(String),
}

/// `31.0 s`: a length as people read it, to a tenth of a second, rounded up (so never down to the limit itself).
fn seconds(ms: u64) -> String {
    let tenths = ms.div_ceil(100);
    format!("{}.{} s", tenths / 10, tenths % 10)
}

impl AudioError {
    /// The reason in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        const CONVERT: &str = "请先转换为 WAV、MP3 或 FLAC";
        match self {
            AudioError::Empty => "文件是空的".into(),
            AudioError::NotAudio(None) => "不是音频文件".into(),
            AudioError::NotAudio(Some(what)) => {
                let what = match *what {
                    // (a space before Latin letters, none before Chinese)
                    "a PDF document" => " PDF 文档",
                    "a ZIP archive or an office document" => " ZIP 压缩包或办公文档",
                    "an image" => "图片",
                    "a video" => "视频",
                    other => other,
                };
                format!("不是音频文件（看起来是{what}）")
            }
            AudioError::Unsupported(name) => format!("不支持 {name} 音频：{CONVERT}"),
            AudioError::UnknownCodec(format) => format!("这个 {format} 文件使用了不支持的编码：{CONVERT}"),
            AudioError::NotInThisBuild(name) => format!("此版本的 Gemma Desk 无法解码 {name} 音频：{CONVERT}"),
            AudioError::SampleRate(rate) => format!("不支持该音频的采样率（{rate} Hz）"),
            AudioError::Truncated => "文件不完整：音频数据提前结束".into(),
            AudioError::Damaged(format) => format!("文件已损坏：不是有效的 {format} 音频"),
            AudioError::NoSound => "文件中没有声音（长度为 0 秒）".into(),
            AudioError::TooLong { length_ms: Some(ms), limit_secs } => {
                format!("音频长 {}，上限为 {limit_secs} 秒：请先剪短", seconds(*ms).replace(" s", " 秒"))
            }
            AudioError::TooLong { length_ms: None, limit_secs } => {
                format!("音频超过 {limit_secs} 秒，上限为 {limit_secs} 秒：请先剪短")
            }
            AudioError::FileTooLarge { size_mb, limit_mb } => format!("文件太大（{size_mb} MB；上限为 {limit_mb} MB）"),
            AudioError::Io(detail) => format!("无法读取文件：{detail}"),
        }
    }

    /// This error as the crate's error for `path` (`bad_input`: exit code 5 in the CLI).
    pub fn for_path(self, path: &Path) -> Error {
        Error::Audio { path: path.display().to_string(), error: self }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------------------------

/// Prepares the bytes of a sound file for the model. Synchronous and CPU-bound: call it off the UI thread.
pub fn prepare_audio_bytes(bytes: &[u8], opts: &AudioOptions) -> Result<PreparedAudio, AudioError> {
    check_size(bytes.len() as u64, opts.max_file_bytes)?;
    std::panic::catch_unwind(|| prepare_inner(bytes)).unwrap_or(Err(AudioError::Damaged("audio")))
}

/// Reads and prepares a sound file. Errors are [`Error::Audio`] naming the file and the reason.
pub fn prepare_audio_file(path: &Path, opts: &AudioOptions) -> crate::Result<PreparedAudio> {
    let data = read_limited(path, opts.max_file_bytes).map_err(|e| e.for_path(path))?;
    prepare_audio_bytes(&data, opts).map_err(|e| e.for_path(path))
}

/// The format of a sound file from its first bytes (a few hundred are enough), or why it is not one we can prepare.
pub fn detect_audio_format(bytes: &[u8]) -> Result<AudioFormat, AudioError> {
    sniff::sniff(bytes)
}

// ---------------------------------------------------------------------------------------------------------------
// The pipeline
// ---------------------------------------------------------------------------------------------------------------

fn prepare_inner(bytes: &[u8]) -> Result<PreparedAudio, AudioError> {
    let format = sniff::sniff(bytes)?;
    let decoded = decode::decode(bytes, format, MAX_AUDIO_SECS)?;
    let samples = resample(&decoded.mono, decoded.rate)?;
    let wav = wav_16bit_mono(&samples, TARGET_SAMPLE_RATE);
    Ok(PreparedAudio {
        base64: base64::engine::general_purpose::STANDARD.encode(&wav),
        wav,
        duration_ms: samples.len() as u64 * 1000 / u64::from(TARGET_SAMPLE_RATE),
        format,
        source_sample_rate: decoded.rate,
        source_channels: decoded.channels,
    })
}

/// `mono` at `rate` Hz, resampled to [`TARGET_SAMPLE_RATE`].
fn resample(mono: &[f32], rate: u32) -> Result<Vec<f32>, AudioError> {
    use rubato::audioadapter_buffers::direct::InterleavedSlice;
    use rubato::{Async, FixedAsync, Resampler, SincInterpolationParameters, WindowFunction};

    if rate == TARGET_SAMPLE_RATE {
        return Ok(mono.to_vec());
    }
    // 128 taps: flat to about 7 kHz at 16 kHz out (the top of speech), and a few times cheaper than the default 256.
    let params = SincInterpolationParameters::new(128, WindowFunction::BlackmanHarris2);
    let ratio = f64::from(TARGET_SAMPLE_RATE) / f64::from(rate);
    let failed = |_| AudioError::SampleRate(rate);
    let mut resampler = Async::<f32>::new_sinc(ratio, 1.0, &params, 1024, 1, FixedAsync::Input).map_err(failed)?;
    let input = InterleavedSlice::new(mono, 1, mono.len()).map_err(|_| AudioError::Damaged("audio"))?;
    let output = resampler.process_all(&input, mono.len(), None).map_err(|_| AudioError::Damaged("audio"))?;
    Ok(output.take_data())
}

/// A canonical 44-byte-header WAV file of 16-bit PCM, one channel.
fn wav_16bit_mono(samples: &[f32], rate: u32) -> Vec<u8> {
    const HEADER_LEN: u32 = 44;
    let data_len = u32::try_from(samples.len() * 2).expect("at most 30 s at 16 kHz");
    let mut wav = Vec::with_capacity((HEADER_LEN + data_len) as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(HEADER_LEN - 8 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes()); // the size of the fmt chunk
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // one channel
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes()); // bytes per second
    wav.extend_from_slice(&2u16.to_le_bytes()); // bytes per frame
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for &sample in samples {
        // NaN (from a damaged float WAV) becomes silence; `as` saturates, so this cannot overflow.
        let value = if sample.is_nan() { 0 } else { (sample.clamp(-1.0, 1.0) * 32767.0).round() as i16 };
        wav.extend_from_slice(&value.to_le_bytes());
    }
    wav
}

fn check_size(len: u64, max_bytes: u64) -> Result<(), AudioError> {
    if len > max_bytes {
        return Err(AudioError::FileTooLarge { size_mb: len >> 20, limit_mb: max_bytes >> 20 });
    }
    Ok(())
}

/// Reads a file, refusing it from its size before reading, and reading at most one byte past the limit in case it
/// grows meanwhile.
fn read_limited(path: &Path, max_bytes: u64) -> Result<Vec<u8>, AudioError> {
    use std::io::Read;
    let io = |e: std::io::Error| {
        AudioError::Io(match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".into(),
            std::io::ErrorKind::PermissionDenied => "permission denied".into(),
            _ => e.to_string(),
        })
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(AudioError::Io("it is a folder".into()));
    }
    check_size(meta.len(), max_bytes)?;
    let mut data = Vec::with_capacity(meta.len() as usize);
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut data).map_err(io)?;
    check_size(data.len() as u64, max_bytes)?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_read_as_people_say_them() {
        assert_eq!(seconds(31_000), "31.0 s");
        assert_eq!(seconds(30_001), "30.1 s");
        assert_eq!(seconds(30_950), "31.0 s");
        let long = AudioError::TooLong { length_ms: Some(31_000), limit_secs: 30 };
        assert_eq!(long.to_string(), "the clip is 31.0 s long; the limit is 30 s: cut it shorter first");
        assert_eq!(long.message(Lang::Zh), "音频长 31.0 秒，上限为 30 秒：请先剪短");
        let unknown = AudioError::TooLong { length_ms: None, limit_secs: 30 };
        assert_eq!(unknown.to_string(), "the clip is longer than 30 s; the limit is 30 s: cut it shorter first");
    }

    #[test]
    fn samples_are_clipped_and_rounded() {
        let wav = wav_16bit_mono(&[0.0, 1.0, -1.0, 2.0, -2.0, 0.5, f32::NAN], 16_000);
        assert_eq!(wav.len(), 44 + 14);
        let values: Vec<i16> = wav[44..].chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
        assert_eq!(values, [0, 32767, -32767, 32767, -32767, 16384, 0]);
    }

    #[test]
    fn the_limit_is_passed_while_decoding_when_no_length_is_stated() {
        // 2 s of 8 kHz silence against a 1 s limit: the stated length refuses it before decoding ...
        let mut wav = wav_16bit_mono(&vec![0.0; 16_000], 8_000);
        let stated = decode::decode(&wav, AudioFormat::Wav, 1).err();
        assert_eq!(stated, Some(AudioError::TooLong { length_ms: Some(2_000), limit_secs: 1 }));
        // ... and with the sizes marked unknown (0xFFFFFFFF, as streaming recorders write them) decoding stops at
        // the limit instead.
        wav[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        wav[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        let streamed = decode::decode(&wav, AudioFormat::Wav, 1).err();
        assert_eq!(streamed, Some(AudioError::TooLong { length_ms: None, limit_secs: 1 }));
    }
}
