//! Recognising an image's format from its first bytes, never from its file name: the signatures of the formats we
//! decode, the HEIF family told apart by its `ftyp` brands, and the known formats we do not decode (JPEG XL, PSD,
//! SVG, …) or that are not images at all (PDF, ZIP, video), so that the error can name what the file is. Also
//! whether a source was lossless, which decides whether PNG is worth trying on the way out.

use super::{ImageError, SourceFormat};

pub(super) fn sniff(data: &[u8]) -> Result<SourceFormat, ImageError> {
    if data.is_empty() {
        return Err(ImageError::Empty);
    }
    let starts = |sig: &[u8]| data.starts_with(sig);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Ok(SourceFormat::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(SourceFormat::Png);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Ok(SourceFormat::Gif);
    }
    if data.len() >= 12 && starts(b"RIFF") && &data[8..12] == b"WEBP" {
        return Ok(SourceFormat::Webp);
    }
    if starts(b"II*\0") || starts(b"MM\0*") || starts(b"II+\0") || starts(b"MM\0+") {
        return Ok(SourceFormat::Tiff);
    }
    if is_bmp(data) {
        return Ok(SourceFormat::Bmp);
    }
    if data.len() >= 12 && &data[4..8] == b"ftyp" {
        return sniff_iso_bmff(data);
    }
    // Known formats we do not decode.
    let unsupported = |name: &str| Err(ImageError::Unsupported(name.to_string()));
    if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0CJXL \r\n\x87\n") {
        return unsupported("JPEG XL");
    }
    if starts(b"\0\0\0\x0CjP  \r\n\x87\n") || starts(&[0xFF, 0x4F, 0xFF, 0x51]) {
        return unsupported("JPEG 2000");
    }
    if starts(b"8BPS") {
        return unsupported("Photoshop (PSD)");
    }
    if starts(&[0x76, 0x2F, 0x31, 0x01]) {
        return unsupported("OpenEXR");
    }
    if starts(b"qoif") {
        return unsupported("QOI");
    }
    if starts(b"DDS ") {
        return unsupported("DDS");
    }
    if starts(b"#?RADIANCE") || starts(b"#?RGBE") {
        return unsupported("Radiance HDR");
    }
    if data.len() >= 6 && starts(&[0, 0, 1, 0]) && data[4..6] != [0, 0] {
        return unsupported("Windows icon (ICO)");
    }
    if looks_like_svg(data) {
        return Err(ImageError::Svg);
    }
    if starts(b"%PDF") {
        return Err(ImageError::NotAnImage(Some("a PDF document")));
    }
    if starts(b"PK\x03\x04") {
        return Err(ImageError::NotAnImage(Some("a ZIP archive or an office document")));
    }
    if starts(&[0x1F, 0x8B]) {
        return Err(ImageError::NotAnImage(Some("a gzip archive")));
    }
    Err(ImageError::NotAnImage(None))
}

fn is_bmp(data: &[u8]) -> bool {
    // "BM", then the DIB header size at offset 14 must be one of the known ones.
    if data.len() < 18 || !data.starts_with(b"BM") {
        return false;
    }
    let dib = u32::from_le_bytes([data[14], data[15], data[16], data[17]]);
    matches!(dib, 12 | 16 | 40 | 52 | 56 | 64 | 108 | 124)
}

/// HEIF-family files (`ftyp` box): HEIC/HEIF and AVIF images; videos and other ISO media are not images.
fn sniff_iso_bmff(data: &[u8]) -> Result<SourceFormat, ImageError> {
    let box_len = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
    let end = box_len.clamp(12, data.len().min(256));
    let mut brands = vec![&data[8..12]];
    brands.extend(data.get(16..end).unwrap_or_default().chunks_exact(4));
    let has = |names: &[&[u8; 4]]| brands.iter().any(|b| names.iter().any(|n| *b == &n[..]));
    if has(&[b"avif", b"avis"]) {
        return Ok(SourceFormat::Avif);
    }
    if has(&[b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"mif2"]) {
        return Ok(SourceFormat::Heic);
    }
    if has(&[b"crx "]) {
        return Err(ImageError::Unsupported("Canon RAW (CR3)".into()));
    }
    if has(&[b"jxl "]) {
        return Err(ImageError::Unsupported("JPEG XL".into()));
    }
    Err(ImageError::NotAnImage(Some("a video or another media file")))
}

fn looks_like_svg(data: &[u8]) -> bool {
    let head = &data[..data.len().min(4096)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start();
    trimmed.starts_with('<') && text.to_ascii_lowercase().contains("<svg")
}

pub(super) fn is_lossless_source(format: SourceFormat, data: &[u8]) -> bool {
    match format {
        SourceFormat::Png | SourceFormat::Gif | SourceFormat::Bmp | SourceFormat::Tiff | SourceFormat::Rgba => true,
        // VP8L is lossless WebP; VP8X (extended) may hold either: look for a VP8L chunk near the start.
        SourceFormat::Webp => {
            data.get(12..16) == Some(b"VP8L")
                || (data.get(12..16) == Some(b"VP8X") && data[..data.len().min(4096)].windows(4).any(|w| w == b"VP8L"))
        }
        SourceFormat::Jpeg | SourceFormat::Heic | SourceFormat::Avif => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_uses_bytes_not_names() {
        assert_eq!(sniff(b""), Err(ImageError::Empty));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Ok(SourceFormat::Jpeg));
        assert_eq!(sniff(b"GIF89a...."), Ok(SourceFormat::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Ok(SourceFormat::Webp));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"), Ok(SourceFormat::Heic));
        assert_eq!(sniff(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf"), Ok(SourceFormat::Avif));
        assert_eq!(sniff(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"...\"/>"), Err(ImageError::Svg));
        assert_eq!(sniff(b"%PDF-1.7"), Err(ImageError::NotAnImage(Some("a PDF document"))));
        assert_eq!(sniff(b"hello"), Err(ImageError::NotAnImage(None)));
        assert!(matches!(sniff(b"\0\0\0\x0CJXL \r\n\x87\n"), Err(ImageError::Unsupported(_))));
        assert!(matches!(sniff(b"\0\0\0\x18ftypisom\0\0\0\0isomavc1"), Err(ImageError::NotAnImage(Some(_)))));
    }
}
