//! Recognising an audio file's format from its first bytes, never from its file name: the signatures of the formats
//! we decode, Opus told apart from Vorbis inside OGG (symphonia has no Opus decoder), and the known formats we do
//! not decode or that are not sound at all, so that the error can name what the file is.

use super::{AudioError, AudioFormat};

pub(super) fn sniff(data: &[u8]) -> Result<AudioFormat, AudioError> {
    if data.is_empty() {
        return Err(AudioError::Empty);
    }
    let starts = |sig: &[u8]| data.starts_with(sig);
    let at = |offset: usize, sig: &[u8]| data.get(offset..offset + sig.len()) == Some(sig);
    if (starts(b"RIFF") || starts(b"RF64")) && at(8, b"WAVE") {
        return Ok(AudioFormat::Wav);
    }
    if starts(b"fLaC") {
        return Ok(AudioFormat::Flac);
    }
    if starts(b"OggS") {
        return ogg_codec(data);
    }
    if at(4, b"ftyp") {
        return iso_bmff(data);
    }
    if starts(b"ID3") || mpeg_audio_sync(data) == Some(Sync::Mp3) {
        return Ok(AudioFormat::Mp3);
    }
    if mpeg_audio_sync(data) == Some(Sync::Adts) {
        return Ok(AudioFormat::Aac);
    }
    if starts(b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        return Err(AudioError::Unsupported("AIFF".into()));
    }
    if let Some((_, name)) = UNSUPPORTED.iter().find(|(signature, _)| starts(signature)) {
        return Err(AudioError::Unsupported(name.to_string()));
    }
    if starts(b"%PDF") {
        return Err(AudioError::NotAudio(Some("a PDF document")));
    }
    if starts(b"PK\x03\x04") {
        return Err(AudioError::NotAudio(Some("a ZIP archive or an office document")));
    }
    if crate::images::detect_format(data).is_ok() {
        return Err(AudioError::NotAudio(Some("an image")));
    }
    Err(AudioError::NotAudio(None))
}

/// Known sound formats we do not decode, by the signature they start with.
const UNSUPPORTED: &[(&[u8], &str)] = &[
    (&[0x1A, 0x45, 0xDF, 0xA3], "WebM/Matroska"),
    (&[0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11], "WMA"),
    (b"#!AMR", "AMR"),
    (b"caff", "CAF"),
    (b"MThd", "MIDI"),
    (b"wvpk", "WavPack"),
    (b"MAC ", "Monkey's Audio (APE)"),
];

/// What an OGG stream carries, from the codec header in its first page.
fn ogg_codec(data: &[u8]) -> Result<AudioFormat, AudioError> {
    // The first page holds only the codec's identification header, right after the segment table.
    let head = data.get(..512.min(data.len())).unwrap_or(data);
    let has = |sig: &[u8]| head.windows(sig.len()).any(|w| w == sig);
    if has(b"OpusHead") {
        return Err(AudioError::NotInThisBuild("Opus"));
    }
    if has(b"\x01vorbis") {
        return Ok(AudioFormat::Ogg);
    }
    if has(b"\x7fFLAC") {
        return Err(AudioError::Unsupported("FLAC in OGG".into()));
    }
    if has(b"Speex   ") {
        return Err(AudioError::Unsupported("Speex".into()));
    }
    if has(b"\x80theora") {
        return Err(AudioError::NotAudio(Some("a video")));
    }
    // Not enough to tell (e.g. a cut first page): let the decoder have a go and say what is wrong.
    Ok(AudioFormat::Ogg)
}

/// MP4-family files: audio brands (M4A, M4B, plain ISO MP4 whose audio track we then look for) are tried; the HEIF
/// family is a photo, and QuickTime or 3GP are tried too since they often hold AAC.
fn iso_bmff(data: &[u8]) -> Result<AudioFormat, AudioError> {
    let brand = data.get(8..12).unwrap_or_default();
    match brand {
        b"heic" | b"heix" | b"mif1" | b"msf1" | b"avif" | b"avis" => Err(AudioError::NotAudio(Some("an image"))),
        _ => Ok(AudioFormat::M4a),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sync {
    Mp3,
    Adts,
}

/// An MPEG audio frame header at the very start: 11 sync bits, then the version and layer. Layer bits `00` are
/// reserved in MPEG audio and mean ADTS (AAC) when the sync is 12 bits long.
fn mpeg_audio_sync(data: &[u8]) -> Option<Sync> {
    let [b0, b1, b2, ..] = *data else { return None };
    if b0 != 0xFF || b1 & 0xE0 != 0xE0 {
        return None;
    }
    let layer = (b1 >> 1) & 0b11;
    let version = (b1 >> 3) & 0b11;
    if layer == 0 {
        return (b1 & 0xF0 == 0xF0).then_some(Sync::Adts);
    }
    // Version 01 is reserved, and bitrate index 1111 is invalid: not a frame.
    (version != 0b01 && b2 >> 4 != 0xF).then_some(Sync::Mp3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_their_first_bytes() {
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), Ok(AudioFormat::Wav));
        assert_eq!(sniff(b"fLaC\0\0\0\x22"), Ok(AudioFormat::Flac));
        assert_eq!(sniff(b"ID3\x04\0\0"), Ok(AudioFormat::Mp3));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]), Ok(AudioFormat::Mp3));
        assert_eq!(sniff(&[0xFF, 0xF1, 0x50, 0x80]), Ok(AudioFormat::Aac));
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A \0\0\0\0"), Ok(AudioFormat::M4a));
        assert_eq!(sniff(b"OggS\0\x02\0\0\0\0\0\0\0\0\x01\x13OpusHead"), Err(AudioError::NotInThisBuild("Opus")));
        assert_eq!(sniff(b"OggS\0\x02\0\0\0\0\0\0\0\0\x01\x1e\x01vorbis"), Ok(AudioFormat::Ogg));
        assert_eq!(sniff(b""), Err(AudioError::Empty));
        assert_eq!(sniff(b"FORM\0\0\0\0AIFF"), Err(AudioError::Unsupported("AIFF".into())));
        assert_eq!(sniff(b"MThd\0\0\0\x06"), Err(AudioError::Unsupported("MIDI".into())));
        assert_eq!(sniff(b"%PDF-1.7"), Err(AudioError::NotAudio(Some("a PDF document"))));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Err(AudioError::NotAudio(Some("an image"))));
        assert_eq!(sniff(b"hello, world"), Err(AudioError::NotAudio(None)));
        // A lone 0xFF followed by an invalid bitrate is not a frame.
        assert_eq!(sniff(&[0xFF, 0xFB, 0xF0, 0x00]), Err(AudioError::NotAudio(None)));
    }
}
