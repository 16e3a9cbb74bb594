//! Audio preparation against every fixture in `tests/fixtures/audio/` (see its README): each format comes out as a
//! 16 kHz mono 16-bit WAV of the right length and pitch (read back with `hound`, not our writer), and every bad
//! file gets its own clear error in both languages.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use gemma_desk_core::audio::{
    prepare_audio_bytes, prepare_audio_file, AudioError, AudioFormat, AudioOptions, PreparedAudio, MAX_AUDIO_SECS,
};
use gemma_desk_core::{Error, Lang};

fn fixture(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/audio").join(name);
    assert!(path.exists(), "missing fixture {}", path.display());
    path
}

fn prepare(name: &str) -> PreparedAudio {
    prepare_audio_file(&fixture(name), &AudioOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The error for a fixture, from the bytes and from the file (which must agree).
fn prepare_err(name: &str) -> (AudioError, Error) {
    let data = std::fs::read(fixture(name)).unwrap();
    let audio_error = prepare_audio_bytes(&data, &AudioOptions::default()).expect_err(name);
    let error = prepare_audio_file(&fixture(name), &AudioOptions::default()).expect_err(name);
    assert_eq!(error, Error::Audio { path: fixture(name).display().to_string(), error: audio_error.clone() });
    (audio_error, error)
}

/// Reads a prepared clip back with hound, checking it is 16 kHz mono 16-bit PCM.
fn samples_of(prepared: &PreparedAudio) -> Vec<i16> {
    let reader = hound::WavReader::new(prepared.wav.as_slice()).expect("a valid WAV");
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample, spec.sample_format),
        (1, 16_000, 16, hound::SampleFormat::Int)
    );
    reader.into_samples::<i16>().map(|s| s.expect("whole samples")).collect()
}

/// The frequency of a steady tone, from the zero crossings in the middle 80% of the clip (codecs ramp in and out).
fn tone_hz(samples: &[i16]) -> f64 {
    let middle = &samples[samples.len() / 10..samples.len() * 9 / 10];
    let crossings = middle.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 / 2.0 / (middle.len() as f64 / 16_000.0)
}

#[test]
fn every_format_becomes_a_16khz_mono_wav_of_the_same_length_and_pitch() {
    // (file, format, source rate, source channels, length in ms, tone in Hz)
    let cases = [
        ("tone-440hz-44k1-stereo-s16.wav", AudioFormat::Wav, 44_100, 2, 400, 440.0),
        ("tone-1000hz-48k-mono-f32.wav", AudioFormat::Wav, 48_000, 1, 300, 1000.0),
        ("tone-440hz-44k1-stereo.mp3", AudioFormat::Mp3, 44_100, 2, 2000, 440.0),
        ("tone-660hz-22k05-mono.flac", AudioFormat::Flac, 22_050, 1, 1500, 660.0),
        ("tone-440hz-48k-stereo-vorbis.ogg", AudioFormat::Ogg, 48_000, 2, 1500, 440.0),
        ("tone-880hz-48k-mono-aac.m4a", AudioFormat::M4a, 48_000, 1, 2000, 880.0),
        ("tone-550hz-44k1-mono-adts.aac", AudioFormat::Aac, 44_100, 1, 1000, 550.0),
    ];
    for (name, format, rate, channels, length_ms, hz) in cases {
        let prepared = prepare(name);
        assert_eq!(
            (prepared.format, prepared.source_sample_rate, prepared.source_channels),
            (format, rate, channels),
            "{name}"
        );
        let samples = samples_of(&prepared);
        let heard_ms = samples.len() as u64 * 1000 / 16_000;
        assert_eq!(prepared.duration_ms, heard_ms, "{name}");
        assert!(heard_ms.abs_diff(length_ms) <= 50, "{name}: {heard_ms} ms, expected {length_ms} ms");
        let heard_hz = tone_hz(&samples);
        assert!((heard_hz - hz).abs() <= hz * 0.05, "{name}: {heard_hz:.1} Hz, expected {hz} Hz");
        // Loud enough to be the tone and not noise: the fixtures' peaks are 0.5 (mono) or 0.375 (averaged stereo).
        let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!(peak > 8_000, "{name}: peak {peak}");
        let base64 = base64::engine::general_purpose::STANDARD.decode(&prepared.base64).unwrap();
        assert_eq!(base64, prepared.wav, "{name}: base64 is the WAV");
        let json = serde_json::to_value(&prepared).unwrap();
        assert_eq!(json["format"], format.as_str());
        assert!(json.get("wav").is_none(), "the WAV goes to JSON only once, as base64");
    }
}

/// A WAV of `secs` of a `hz` tone written by hound (an independent writer): integer PCM of `bits`, every channel
/// the same.
fn hound_wav(bits: u16, rate: u32, channels: u16, secs: f64, hz: f64) -> Vec<u8> {
    let spec =
        hound::WavSpec { channels, sample_rate: rate, bits_per_sample: bits, sample_format: hound::SampleFormat::Int };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec).unwrap();
    let full_scale = f64::from((1u32 << (bits - 1)) - 1);
    for i in 0..(secs * f64::from(rate)) as u32 {
        let value =
            (0.5 * full_scale * (2.0 * std::f64::consts::PI * hz * f64::from(i) / f64::from(rate)).sin()) as i32;
        for _ in 0..channels {
            writer.write_sample(value).unwrap();
        }
    }
    writer.finalize().unwrap();
    out.into_inner()
}

#[test]
fn every_integer_pcm_layout_is_read_at_any_rate_and_channel_count() {
    // (bits, rate, channels): 8-bit unsigned upsampled from 8 kHz, 24-bit surround, 32-bit, 16 kHz passed through.
    for (bits, rate, channels) in [(8, 8_000, 1), (24, 96_000, 3), (32, 11_025, 6), (16, 16_000, 1)] {
        let what = format!("{bits}-bit {rate} Hz {channels} ch");
        let prepared = prepare_audio_bytes(&hound_wav(bits, rate, channels, 1.0, 500.0), &AudioOptions::default())
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!((prepared.source_sample_rate, prepared.source_channels), (rate, channels), "{what}");
        let samples = samples_of(&prepared);
        assert!(prepared.duration_ms.abs_diff(1000) <= 50, "{what}: {} ms", prepared.duration_ms);
        let heard_hz = tone_hz(&samples);
        assert!((heard_hz - 500.0).abs() <= 25.0, "{what}: {heard_hz:.1} Hz");
    }
}

#[test]
fn channels_are_averaged() {
    // The left channel peaks at 0.5 and the right at 0.25, in phase: their average peaks at 0.375 of full scale
    // (taking one channel would give 0.5 or 0.25, summing 0.75). Lossless, so only resampling moves it a little.
    let samples = samples_of(&prepare("tone-440hz-44k1-stereo-s16.wav"));
    let peak = f64::from(samples.iter().map(|s| s.unsigned_abs()).max().unwrap()) / 32767.0;
    assert!((peak - 0.375).abs() < 0.01, "peak {peak:.3}");
}

#[test]
fn the_format_comes_from_the_bytes_not_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let misnamed = dir.path().join("voice-note.wav");
    std::fs::copy(fixture("tone-440hz-44k1-stereo.mp3"), &misnamed).unwrap();
    let prepared = prepare_audio_file(&misnamed, &AudioOptions::default()).unwrap();
    assert_eq!(prepared.format, AudioFormat::Mp3);
    let unnamed = dir.path().join("clip");
    std::fs::copy(fixture("tone-660hz-22k05-mono.flac"), &unnamed).unwrap();
    assert_eq!(prepare_audio_file(&unnamed, &AudioOptions::default()).unwrap().format, AudioFormat::Flac);
}

#[test]
fn a_clip_over_30_s_is_refused_with_its_length_and_the_limit() {
    let (audio_error, error) = prepare_err("tone-440hz-31s.mp3");
    assert!(matches!(audio_error, AudioError::TooLong { limit_secs: MAX_AUDIO_SECS, .. }), "{audio_error:?}");
    let en = error.message(Lang::En);
    assert!(en.contains("tone-440hz-31s.mp3") && en.contains("31.0 s") && en.contains("the limit is 30 s"), "{en}");
    let zh = error.message(Lang::Zh);
    assert!(zh.contains("31.0 秒") && zh.contains("30 秒"), "{zh}");
    assert_eq!((error.kind(), error.exit_code()), ("bad_input", 5));
}

#[test]
fn a_stated_length_over_the_limit_is_refused_before_decoding() {
    // A WAV header promising 31 s of 16 kHz audio, followed by only 0.1 s: refused as too long (from the header),
    // not as truncated, which decoding would find.
    let data_len = 31 * 16_000 * 2;
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36u32 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x01\0");
    wav.extend_from_slice(&16_000u32.to_le_bytes());
    wav.extend_from_slice(&32_000u32.to_le_bytes());
    wav.extend_from_slice(b"\x02\0\x10\0data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.resize(wav.len() + 3_200, 0);
    let error = prepare_audio_bytes(&wav, &AudioOptions::default()).unwrap_err();
    assert_eq!(error, AudioError::TooLong { length_ms: Some(31_000), limit_secs: 30 });
}

#[test]
fn a_truncated_file_is_an_error_in_both_languages() {
    let (audio_error, error) = prepare_err("truncated.flac");
    assert_eq!(audio_error, AudioError::Truncated);
    assert!(error.message(Lang::En).contains("truncated"));
    assert!(error.message(Lang::Zh).contains("不完整"));
    assert_eq!(error.exit_code(), 5);
}

#[test]
fn opus_is_named_with_what_to_do_instead() {
    let (audio_error, error) = prepare_err("tone-440hz-48k-mono-opus.ogg");
    assert_eq!(audio_error, AudioError::NotInThisBuild("Opus"));
    let en = error.message(Lang::En);
    assert!(en.contains("Opus") && en.contains("WAV, MP3 or FLAC"), "{en}");
    assert!(error.message(Lang::Zh).contains("Opus"));
}

#[test]
fn empty_garbage_and_damaged_files_get_clear_errors() {
    let opts = AudioOptions::default();
    let mut noise = vec![0u8; 20_000];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for byte in &mut noise {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state as u8;
    }
    // Files that are not audio at all, with what each language must say.
    let not_audio: [(&str, Vec<u8>, &str, &str); 3] = [
        ("empty", Vec::new(), "the file is empty", "文件是空的"),
        ("noise", noise.clone(), "not an audio file", "不是音频文件"),
        ("pdf", b"%PDF-1.7\n".to_vec(), "not an audio file (it looks like a PDF document)", "PDF 文档"),
    ];
    for (what, bytes, en, zh) in not_audio {
        let error = prepare_audio_bytes(&bytes, &opts).expect_err(what);
        assert_eq!(error.message(Lang::En), en, "{what}");
        assert!(error.message(Lang::Zh).contains(zh), "{what}: {}", error.message(Lang::Zh));
    }
    // A valid WAV with no samples.
    let silent = prepare_audio_bytes(&hound_wav(16, 16_000, 1, 0.0, 440.0), &opts).unwrap_err();
    assert_eq!(silent, AudioError::NoSound);
    assert!(silent.message(Lang::Zh).contains("没有声音"));
    // Known containers with nothing valid inside: damaged or truncated (never "no sound", never a panic).
    let headers: [(&str, &[u8]); 5] = [
        ("wav", b"RIFF\x10\x4e\0\0WAVE"),
        ("flac", b"fLaC"),
        ("mp3", b"ID3\x04\0\0\0\0\0\0"),
        ("m4a", b"\0\0\0\x18ftypM4A \0\0\0\0M4A mp42"),
        ("ogg", b"OggS\0\x02"),
    ];
    for (what, header) in headers {
        let error = prepare_audio_bytes(&[header, noise.as_slice()].concat(), &opts).expect_err(what);
        match &error {
            AudioError::Damaged(format) => assert!(format.to_lowercase().contains(what), "{what}: {error}"),
            AudioError::Truncated => {}
            other => panic!("{what}: {other:?}"),
        }
        assert!(["损坏", "不完整"].iter().any(|word| error.message(Lang::Zh).contains(word)), "{what}");
    }
}

#[test]
fn large_missing_and_folder_paths_are_refused_before_decoding() {
    let small = AudioOptions { max_file_bytes: 1 << 10 };
    let path = fixture("tone-440hz-44k1-stereo.mp3");
    let error = prepare_audio_file(&path, &small).unwrap_err();
    assert!(matches!(&error, Error::Audio { error: AudioError::FileTooLarge { limit_mb: 0, .. }, .. }), "{error:?}");
    let bytes = std::fs::read(&path).unwrap();
    assert!(matches!(prepare_audio_bytes(&bytes, &small), Err(AudioError::FileTooLarge { .. })));
    let missing = prepare_audio_file(Path::new("/nonexistent/clip.wav"), &AudioOptions::default()).unwrap_err();
    assert!(missing.message(Lang::En).contains("no such file"), "{missing}");
    let folder = prepare_audio_file(&fixture(""), &AudioOptions::default()).unwrap_err();
    assert!(folder.message(Lang::En).contains("folder"), "{folder}");
}
