//! Decoding a source into 8-bit pixels ([`Decoded`]): JPEG with jpeg-decoder (DCT-scaled when the target is at most
//! half the size, and strict about truncated data), PNG, GIF, WebP, BMP and TIFF with the `image` crate, both after
//! the header's dimensions have passed the size check and under the memory budget. Alpha is flattened onto white
//! here, so that everything after decoding deals with RGB or grey only. The decoders' errors become the short
//! reasons of [`ImageError`]. HEIC/HEIF/AVIF decode in `heif.rs`, into the same [`Decoded`].

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader};

use super::{check_dimensions, too_much_memory, ImageError, PrepareOptions, SourceFormat};

/// Decoded pixels, 8 bits per sample, alpha already flattened onto white.
pub(super) enum Pixels {
    Rgb(Vec<u8>),
    Gray(Vec<u8>),
}

impl Pixels {
    pub(super) fn channels(&self) -> usize {
        match self {
            Pixels::Rgb(_) => 3,
            Pixels::Gray(_) => 1,
        }
    }
    pub(super) fn data(&self) -> &[u8] {
        match self {
            Pixels::Rgb(v) | Pixels::Gray(v) => v,
        }
    }
}

pub(super) struct Decoded {
    pub(super) pixels: Pixels,
    /// Dimensions of `pixels` (stored orientation; smaller than the source when JPEG DCT scaling was used).
    pub(super) width: u32,
    pub(super) height: u32,
    /// The source's stored dimensions.
    pub(super) source_width: u32,
    pub(super) source_height: u32,
    /// What remains to be applied to the pixels.
    pub(super) apply: Orientation,
    /// The EXIF orientation value to report.
    pub(super) reported_orientation: u8,
}

/// JPEG with jpeg-decoder: header first (size check), then a DCT-scaled decode when the target is at most half the
/// size. jpeg-decoder, unlike zune-jpeg as used by `image`, refuses truncated data instead of filling it with grey.
pub(super) fn decode_jpeg(data: &[u8], opts: &PrepareOptions) -> Result<Decoded, ImageError> {
    let mut decoder = jpeg_decoder::Decoder::new(data);
    decoder.set_max_decoding_buffer_size(usize::try_from(opts.max_decode_bytes).unwrap_or(usize::MAX));
    decoder.read_info().map_err(jpeg_error)?;
    let info = decoder.info().ok_or(ImageError::Damaged("JPEG"))?;
    let (source_width, source_height) = (u32::from(info.width), u32::from(info.height));
    check_dimensions(source_width, source_height, SourceFormat::Jpeg, opts)?;
    let (tw, th) = opts.target_size(source_width, source_height);
    if tw.saturating_mul(2) <= source_width && th.saturating_mul(2) <= source_height {
        // Picks the smallest of 1/8, 1/4, 1/2 whose output is still at least the target size.
        decoder.scale(tw as u16, th as u16).map_err(jpeg_error)?;
    }
    let raw = decoder.decode().map_err(|e| match jpeg_error(e) {
        ImageError::Damaged(_) if is_jpeg_buffer_limit(opts, source_width, source_height) => too_much_memory(opts),
        other => other,
    })?;
    let info = decoder.info().ok_or(ImageError::Damaged("JPEG"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let pixels = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => Pixels::Rgb(raw),
        jpeg_decoder::PixelFormat::L8 => Pixels::Gray(raw),
        jpeg_decoder::PixelFormat::L16 => Pixels::Gray(
            raw.chunks_exact(2).map(|c| (u32::from(u16::from_ne_bytes([c[0], c[1]])) * 255 / 65535) as u8).collect(),
        ),
        // jpeg-decoder gives CMYK as ink amounts (Adobe's inverted storage already undone).
        jpeg_decoder::PixelFormat::CMYK32 => Pixels::Rgb(
            raw.chunks_exact(4)
                .flat_map(|p| {
                    let k = 255 - u32::from(p[3]);
                    let ch = |c: u8| ((255 - u32::from(c)) * k / 255) as u8;
                    [ch(p[0]), ch(p[1]), ch(p[2])]
                })
                .collect(),
        ),
    };
    if pixels.data().len() != width as usize * height as usize * pixels.channels() {
        return Err(ImageError::Damaged("JPEG"));
    }
    let orientation = decoder.exif_data().and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms);
    Ok(Decoded {
        pixels,
        width,
        height,
        source_width,
        source_height,
        apply: orientation,
        reported_orientation: orientation.to_exif(),
    })
}

fn is_jpeg_buffer_limit(opts: &PrepareOptions, width: u32, height: u32) -> bool {
    u64::from(width) * u64::from(height) * 4 > opts.max_decode_bytes
}

pub(super) fn jpeg_error(e: jpeg_decoder::Error) -> ImageError {
    use jpeg_decoder::{Error as E, UnsupportedFeature as U};
    match e {
        E::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => ImageError::Truncated,
        E::Io(io) => ImageError::Io(io.to_string()),
        E::Unsupported(feature) => ImageError::Unsupported(match feature {
            U::Hierarchical => "hierarchical JPEG".into(),
            U::ArithmeticEntropyCoding => "arithmetic-coded JPEG".into(),
            U::SamplePrecision(bits) => format!("{bits}-bit JPEG"),
            U::ComponentCount(n) => format!("{n}-channel JPEG"),
            other => format!("JPEG ({other:?})"),
        }),
        E::Format(msg) if msg.to_ascii_lowercase().contains("eof") => ImageError::Truncated,
        E::Format(_) | E::Internal(_) => ImageError::Damaged("JPEG"),
    }
}

pub(super) fn image_crate_dimensions(data: &[u8], format: SourceFormat) -> Result<(u32, u32), ImageError> {
    let image_format = format.image_format().ok_or(ImageError::Damaged(format.display_name()))?;
    let mut reader = ImageReader::with_format(Cursor::new(data), image_format);
    reader.no_limits();
    reader.into_dimensions().map_err(|e| image_error(e, format, None))
}

/// PNG, GIF (first frame), WebP, BMP and TIFF with the `image` crate: dimensions from the header first, then the
/// decode under a memory limit.
pub(super) fn decode_with_image_crate(
    data: &[u8],
    format: SourceFormat,
    opts: &PrepareOptions,
) -> Result<Decoded, ImageError> {
    let (width, height) = image_crate_dimensions(data, format)?;
    check_dimensions(width, height, format, opts)?;
    let image_format = format.image_format().ok_or(ImageError::Damaged(format.display_name()))?;
    let mut reader = ImageReader::with_format(Cursor::new(data), image_format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(opts.max_decode_bytes);
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| image_error(e, format, Some(opts)))?;
    // The decoded buffer's size is known before it is allocated.
    if decoder.total_bytes() > opts.max_decode_bytes {
        return Err(too_much_memory(opts));
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let img = DynamicImage::from_decoder(decoder).map_err(|e| image_error(e, format, Some(opts)))?;
    let (width, height) = (img.width(), img.height());
    let pixels = flatten(img);
    Ok(Decoded {
        pixels,
        width,
        height,
        source_width: width,
        source_height: height,
        apply: orientation,
        reported_orientation: orientation.to_exif(),
    })
}

fn image_error(e: image::ImageError, format: SourceFormat, opts: Option<&PrepareOptions>) -> ImageError {
    use image::ImageError as E;
    let name = format.display_name();
    let eof_words = |s: &str| {
        let s = s.to_ascii_lowercase();
        s.contains("eof") || s.contains("end of file") || s.contains("unexpected end") || s.contains("truncated")
    };
    match e {
        E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => ImageError::Truncated,
        E::IoError(io) if eof_words(&io.to_string()) => ImageError::Truncated,
        E::IoError(_) => ImageError::Damaged(name),
        E::Decoding(d) if eof_words(&d.to_string()) => ImageError::Truncated,
        E::Decoding(_) | E::Parameter(_) | E::Encoding(_) => ImageError::Damaged(name),
        E::Limits(_) => match opts {
            Some(opts) => too_much_memory(opts),
            None => ImageError::Damaged(name),
        },
        E::Unsupported(u) => ImageError::Unsupported(format!("this kind of {name} ({u})")),
    }
}

/// Alpha composited onto white; 16-bit and float samples reduced to 8 bits; grey stays grey.
pub(super) fn flatten(img: DynamicImage) -> Pixels {
    let has_alpha = img.color().has_alpha();
    let is_gray = !img.color().has_color();
    match (is_gray, has_alpha) {
        (true, false) => Pixels::Gray(img.into_luma8().into_raw()),
        (false, false) => Pixels::Rgb(img.into_rgb8().into_raw()),
        (true, true) => {
            let la = img.into_luma_alpha8().into_raw();
            Pixels::Gray(la.chunks_exact(2).map(|p| over_white(p[0], p[1])).collect())
        }
        (false, true) => {
            let rgba = img.into_rgba8().into_raw();
            Pixels::Rgb(
                rgba.chunks_exact(4)
                    .flat_map(|p| [over_white(p[0], p[3]), over_white(p[1], p[3]), over_white(p[2], p[3])])
                    .collect(),
            )
        }
    }
}

pub(super) fn over_white(c: u8, a: u8) -> u8 {
    let (c, a) = (u32::from(c), u32::from(a));
    ((c * a + 255 * (255 - a) + 127) / 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattening_onto_white() {
        assert_eq!(over_white(0, 0), 255);
        assert_eq!(over_white(0, 255), 0);
        assert_eq!(over_white(100, 255), 100);
        assert_eq!(over_white(0, 128), 127);
    }
}
