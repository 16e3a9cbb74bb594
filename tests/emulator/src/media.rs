//! What a request's `images` really carried: Ollama's media sniffing (WAV/MP3 audio, else an
//! image) and, for the request log, each item's format and size — the pixel dimensions of an
//! image, the sample format and length of a WAV clip.
//!
//! Ollama sends the bytes on untouched (GEMMA4-FACTS.md §5, §6), so a client's resizing and
//! audio conversion can only be checked by looking inside them; the headers are read here by
//! hand, in the spirit of `util.rs`, rather than pulling image and audio crates into the
//! emulator.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::gojson;

/// One `images` entry (or `/v1` `image_url` / `input_audio` part) as the emulator decoded it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaItem {
    /// `image`, `audio` or `unknown`, as `llm.DetectMediaKind` classifies the bytes.
    pub kind: String,
    /// `png`, `jpeg`, `webp`, `gif`, `bmp`, `tiff`, `wav`, `mp3`, or empty when unknown.
    pub format: String,
    /// Decoded length in bytes.
    pub bytes: usize,
    /// Images: pixel width and height as stored (EXIF orientation is not applied, as Ollama
    /// does not apply it either).
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// WAV only: from the `fmt ` and `data` chunks.
    pub sample_rate: Option<u32>,
    pub channels: Option<u16>,
    pub bits_per_sample: Option<u16>,
    pub duration_ms: Option<u64>,
}

/// Ollama's `llm.AudioFormat` (GEMMA4-FACTS.md §5): WAV by its RIFF/WAVE header, MP3 by an ID3
/// tag or a frame sync.
pub fn audio_format(b: &[u8]) -> Option<&'static str> {
    if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WAVE" {
        Some("wav")
    } else if b.starts_with(b"ID3") || (b.len() >= 2 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0) {
        Some("mp3")
    } else {
        None
    }
}

fn image_format(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpeg")
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some("webp")
    } else if b.starts_with(b"GIF8") {
        Some("gif")
    } else if b.starts_with(b"BM") {
        Some("bmp")
    } else if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        Some("tiff")
    } else {
        None
    }
}

/// A 16-bit PCM WAV of `ms` milliseconds of silence: a clip for tests to send (what Gemma Desk
/// sends is 16 kHz mono, §5).
pub fn silent_wav(sample_rate: u32, channels: u16, ms: u32) -> Vec<u8> {
    let block_align = channels * 2;
    let byte_rate = sample_rate * u32::from(block_align);
    let data = (u64::from(byte_rate) * u64::from(ms) / 1000) as u32 / u32::from(block_align) * u32::from(block_align);
    let mut b = b"RIFF".to_vec();
    b.extend((36 + data).to_le_bytes());
    b.extend(b"WAVEfmt ");
    b.extend(16u32.to_le_bytes()); // fmt chunk size
    b.extend(1u16.to_le_bytes()); // PCM
    b.extend(channels.to_le_bytes());
    b.extend(sample_rate.to_le_bytes());
    b.extend(byte_rate.to_le_bytes());
    b.extend(block_align.to_le_bytes());
    b.extend(16u16.to_le_bytes());
    b.extend(b"data");
    b.extend(data.to_le_bytes());
    b.resize(b.len() + data as usize, 0);
    b
}

/// Describes decoded media bytes.
pub fn describe(b: &[u8]) -> MediaItem {
    let mut item = MediaItem { bytes: b.len(), ..MediaItem::default() };
    if let Some(format) = audio_format(b) {
        item.kind = "audio".into();
        item.format = format.into();
        if format == "wav" {
            describe_wav(b, &mut item);
        }
    } else if let Some(format) = image_format(b) {
        item.kind = "image".into();
        item.format = format.into();
        if let Some((w, h)) = image_size(format, b) {
            item.width = Some(w);
            item.height = Some(h);
        }
    } else {
        item.kind = "unknown".into();
    }
    item
}

/// The media a recorded request carries, in order: native `images` (per message for chat) or
/// `/v1` content parts. Entries that are not valid base64 are left out (the request fails).
pub fn in_request(path: &str, body: &Value) -> Vec<MediaItem> {
    let mut encoded: Vec<&str> = Vec::new();
    let messages = body.get("messages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    match path {
        "/api/chat" => {
            for m in messages {
                encoded.extend(strings(m.get("images")));
            }
        }
        "/api/generate" => encoded.extend(strings(body.get("images"))),
        "/v1/chat/completions" => {
            for part in messages.iter().filter_map(|m| m.get("content")?.as_array()).flatten() {
                let url = part.get("image_url").and_then(|u| u.get("url").or(Some(u))).and_then(Value::as_str);
                let audio = part.get("input_audio").and_then(|a| a.get("data")).and_then(Value::as_str);
                encoded.extend(url.and_then(|u| u.split_once(";base64,")).map(|(_, data)| data));
                encoded.extend(audio);
            }
        }
        _ => {}
    }
    encoded.into_iter().filter_map(|s| gojson::decode_base64(s).ok()).map(|b| describe(&b)).collect()
}

fn strings(v: Option<&Value>) -> impl Iterator<Item = &str> {
    v.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
}

fn u16_le(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u16_be(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_be(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Walks the RIFF chunks for `fmt ` (sample format) and `data` (length).
fn describe_wav(b: &[u8], item: &mut MediaItem) {
    let mut at = 12;
    let mut byte_rate = None;
    while let (Some(id), Some(size)) = (b.get(at..at + 4), u32_le(b, at + 4)) {
        let body = at + 8;
        match id {
            b"fmt " => {
                item.channels = u16_le(b, body + 2);
                item.sample_rate = u32_le(b, body + 4);
                byte_rate = u32_le(b, body + 8).filter(|r| *r > 0);
                item.bits_per_sample = u16_le(b, body + 14);
            }
            b"data" => {
                // A streamed WAV may leave the size at 0 or 0xFFFFFFFF: then the rest of the file.
                let len = if size == 0 || size == u32::MAX { b.len().saturating_sub(body) as u64 } else { size as u64 };
                item.duration_ms = byte_rate.map(|r| len * 1000 / r as u64);
                return;
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        at = body + size as usize + (size as usize & 1);
    }
}

fn image_size(format: &str, b: &[u8]) -> Option<(u32, u32)> {
    match format {
        "png" => Some((u32_be(b, 16)?, u32_be(b, 20)?)),
        "gif" => Some((u16_le(b, 6)? as u32, u16_le(b, 8)? as u32)),
        "bmp" => Some((u32_le(b, 18)?, (u32_le(b, 22)? as i32).unsigned_abs())),
        "jpeg" => jpeg_size(b),
        "webp" => webp_size(b),
        "tiff" => tiff_size(b),
        _ => None,
    }
}

/// The frame header (SOFn) holds the size; other segments are skipped by their length.
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        while *b.get(at)? == 0xFF && b.get(at + 1) == Some(&0xFF) {
            at += 1; // fill bytes
        }
        if *b.get(at)? != 0xFF {
            return None;
        }
        let marker = *b.get(at + 1)?;
        let len = u16_be(b, at + 2)? as usize;
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            return Some((u16_be(b, at + 7)? as u32, u16_be(b, at + 5)? as u32));
        }
        at += 2 + len;
    }
}

fn webp_size(b: &[u8]) -> Option<(u32, u32)> {
    let chunk = b.get(12..16)?;
    // VP8X stores the canvas size minus one, in 24 bits.
    let le24 = |at: usize| -> Option<u32> {
        let v = b.get(at..at + 3)?;
        Some((u32::from(v[0]) | u32::from(v[1]) << 8 | u32::from(v[2]) << 16) + 1)
    };
    match chunk {
        b"VP8X" => Some((le24(24)?, le24(27)?)),
        b"VP8 " => Some((u16_le(b, 26)? as u32 & 0x3FFF, u16_le(b, 28)? as u32 & 0x3FFF)),
        b"VP8L" => {
            let bits = u32_le(b, 21)?;
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        _ => None,
    }
}

/// The first IFD's ImageWidth (256) and ImageLength (257) tags.
fn tiff_size(b: &[u8]) -> Option<(u32, u32)> {
    let le = b.starts_with(b"II");
    let u16_at = |at| if le { u16_le(b, at) } else { u16_be(b, at) };
    let u32_at = |at| if le { u32_le(b, at) } else { u32_be(b, at) };
    let ifd = u32_at(4)? as usize;
    let (mut width, mut height) = (None, None);
    for i in 0..u16_at(ifd)? as usize {
        let entry = ifd + 2 + i * 12;
        // SHORT (3) values sit in the first two bytes of the value field, LONG (4) fill it.
        let value = match u16_at(entry + 2)? {
            3 => u16_at(entry + 8)? as u32,
            _ => u32_at(entry + 8)?,
        };
        match u16_at(entry)? {
            256 => width = Some(value),
            257 => height = Some(value),
            _ => {}
        }
    }
    Some((width?, height?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_headers_give_the_sample_format_and_length() {
        let item = describe(&silent_wav(16_000, 1, 1500));
        assert_eq!((item.kind.as_str(), item.format.as_str()), ("audio", "wav"));
        assert_eq!((item.sample_rate, item.channels, item.bits_per_sample), (Some(16_000), Some(1), Some(16)));
        assert_eq!(item.duration_ms, Some(1500));
    }

    #[test]
    fn mp3_is_found_by_tag_or_frame_sync_and_jpeg_is_not_mp3() {
        assert_eq!(audio_format(b"ID3\x04\0"), Some("mp3"));
        assert_eq!(audio_format(&[0xFF, 0xFB, 0x90]), Some("mp3"));
        assert_eq!(audio_format(&[0xFF, 0xD8, 0xFF, 0xE0]), None);
        assert_eq!(describe(&[0xFF, 0xD8, 0xFF, 0xE0]).kind, "image");
    }

    #[test]
    fn image_sizes_come_from_the_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend(640u32.to_be_bytes());
        png.extend(480u32.to_be_bytes());
        assert_eq!(image_size("png", &png), Some((640, 480)));

        // SOI, an APP0 segment, then SOF0 with height 300, width 400.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8];
        jpeg.extend(300u16.to_be_bytes());
        jpeg.extend(400u16.to_be_bytes());
        assert_eq!(image_size("jpeg", &jpeg), Some((400, 300)));

        let mut gif = b"GIF89a".to_vec();
        gif.extend(7u16.to_le_bytes());
        gif.extend(9u16.to_le_bytes());
        assert_eq!(image_size("gif", &gif), Some((7, 9)));

        let mut webp = b"RIFF\0\0\0\0WEBPVP8X\0\0\0\0\0\0\0\0".to_vec();
        webp.extend([0x7F, 0x02, 0x00, 0xDF, 0x01, 0x00]); // 640 × 480, stored minus one
        assert_eq!(image_size("webp", &webp), Some((640, 480)));

        // Little-endian TIFF, one IFD at 8 with two SHORT entries.
        let mut tiff = b"II*\0\x08\0\0\0\x02\0".to_vec();
        for (tag, v) in [(256u16, 33u16), (257, 44)] {
            tiff.extend(tag.to_le_bytes());
            tiff.extend(3u16.to_le_bytes());
            tiff.extend(1u32.to_le_bytes());
            tiff.extend(v.to_le_bytes());
            tiff.extend([0, 0]);
        }
        assert_eq!(image_size("tiff", &tiff), Some((33, 44)));
    }
}
