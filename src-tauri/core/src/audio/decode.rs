//! Turning an audio file into mono samples with symphonia, refusing long clips as early as the file allows: before
//! decoding when the container states the length, otherwise as soon as the decoded audio passes the limit, so that
//! a two-hour recording costs no more than its first 30 seconds.

use std::io::Cursor;

use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_AC3, CODEC_ID_ALAC, CODEC_ID_EAC3, CODEC_ID_OPUS, CODEC_ID_VORBIS,
};
use symphonia::core::codecs::audio::{AudioCodecId, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, Track, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::{AudioError, AudioFormat};

/// Sample rates outside this range are refused: below it there is no speech to hear, above it the header is most
/// likely wrong (and 30 s of samples would need too much memory).
const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 1_000..=384_000;

/// A clip decoded and downmixed, at its own sample rate.
pub(super) struct Decoded {
    /// One sample per frame: the average of the frame's channels, nominally in -1.0..=1.0.
    pub mono: Vec<f32>,
    pub rate: u32,
    pub channels: u16,
}

/// Decodes `data` (already recognised as `format`), refusing clips longer than `max_secs`.
pub(super) fn decode(data: &[u8], format: AudioFormat, max_secs: u32) -> Result<Decoded, AudioError> {
    let damaged = || AudioError::Damaged(format.display_name());
    let source = MediaSourceStream::new(Box::new(Cursor::new(data)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(format.as_str());
    let mut reader = symphonia::default::get_probe()
        .probe(&hint, source, FormatOptions::default(), MetadataOptions::default())
        .map_err(|e| stream_error(&e, format))?;
    let track = reader.default_track(TrackType::Audio).ok_or_else(damaged)?;
    let track_id = track.id;
    let params = track.codec_params.as_ref().and_then(|p| p.audio()).cloned().ok_or_else(damaged)?;
    let stated_ms = stated_length_ms(track, params.sample_rate);
    if let Some(ms) = stated_ms.filter(|&ms| ms > u64::from(max_secs) * 1000) {
        return Err(AudioError::TooLong { length_ms: Some(ms), limit_secs: max_secs });
    }
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|_| unsupported_codec(params.codec, format))?;

    let mut mono: Vec<f32> = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    let mut shape: Option<(u32, usize)> = None;
    let (mut packets, mut bad_packets) = (0u32, 0u32);
    let mut ended_early = false;
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A chained OGG stream: the first is the clip.
            Err(SymphoniaError::ResetRequired) => break,
            // The data stops (or turns to garbage) mid-packet: whatever came before may still be a whole clip.
            Err(_) => {
                ended_early = true;
                break;
            }
        };
        if packet.track_id != track_id {
            continue;
        }
        packets += 1;
        let buffer = match decoder.decode(&packet) {
            Ok(buffer) => buffer,
            // One bad packet is skipped as players do; too many make the file damaged (counted below).
            Err(SymphoniaError::DecodeError(_)) | Err(SymphoniaError::IoError(_)) => {
                bad_packets += 1;
                continue;
            }
            Err(SymphoniaError::Unsupported(_)) => return Err(unsupported_codec(params.codec, format)),
            Err(_) => return Err(damaged()),
        };
        if buffer.frames() == 0 {
            continue;
        }
        let this_shape = (buffer.spec().rate(), buffer.spec().channels().count());
        let (rate, channels) = *shape.get_or_insert(this_shape);
        if this_shape != (rate, channels) || channels == 0 || !SAMPLE_RATES.contains(&rate) {
            return Err(if SAMPLE_RATES.contains(&rate) { damaged() } else { AudioError::SampleRate(rate) });
        }
        interleaved.resize(buffer.samples_interleaved(), 0.0);
        buffer.copy_to_slice_interleaved(&mut interleaved);
        mono.extend(interleaved.chunks_exact(channels).map(|frame| frame.iter().sum::<f32>() / channels as f32));
        if mono.len() as u64 > u64::from(max_secs) * u64::from(rate) {
            return Err(AudioError::TooLong { length_ms: None, limit_secs: max_secs });
        }
    }

    if bad_packets > 0 && (mono.is_empty() || bad_packets * 10 > packets) {
        return Err(damaged());
    }
    let decoded_ms = shape.map_or(0, |(rate, _)| mono.len() as u64 * 1000 / u64::from(rate));
    // MP3 and ADTS lengths may be estimated from the bitrate, so only exact lengths can show a cut file.
    let exact_length = !matches!(format, AudioFormat::Mp3 | AudioFormat::Aac);
    let short_by_ms = stated_ms.filter(|_| exact_length).map_or(0, |ms| ms.saturating_sub(decoded_ms));
    if ended_early || short_by_ms > 100 {
        return Err(AudioError::Truncated);
    }
    let Some((rate, channels)) = shape else { return Err(AudioError::NoSound) };
    Ok(Decoded { mono, rate, channels: u16::try_from(channels).unwrap_or(u16::MAX) })
}

/// The length the container states, in milliseconds, when it states one.
fn stated_length_ms(track: &Track, sample_rate: Option<u32>) -> Option<u64> {
    if let (Some(frames), Some(rate)) = (track.num_frames, sample_rate.filter(|&r| r > 0)) {
        return Some(frames.saturating_mul(1000) / u64::from(rate));
    }
    let time = track.time_base?.calc_duration(track.duration?)?;
    u64::try_from(time.as_millis()).ok()
}

/// Why the container could not be read.
fn stream_error(error: &SymphoniaError, format: AudioFormat) -> AudioError {
    match error {
        SymphoniaError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => AudioError::Truncated,
        _ => AudioError::Damaged(format.display_name()),
    }
}

/// A codec the container names but this build cannot decode, named where we know it.
fn unsupported_codec(codec: AudioCodecId, format: AudioFormat) -> AudioError {
    let name = match codec {
        CODEC_ID_OPUS => return AudioError::NotInThisBuild("Opus"),
        CODEC_ID_ALAC => "ALAC",
        CODEC_ID_AC3 => "AC-3",
        CODEC_ID_EAC3 => "E-AC-3",
        // Vorbis is built in: a Vorbis stream it refuses is not a valid one.
        CODEC_ID_VORBIS => return AudioError::Damaged(format.display_name()),
        _ => return AudioError::UnknownCodec(format.display_name()),
    };
    AudioError::Unsupported(name.to_string())
}
