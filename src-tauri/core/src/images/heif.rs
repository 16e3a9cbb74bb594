//! HEIC/HEIF and AVIF through the system libheif, compiled only with the `heic` feature (libheif >= 1.14 must be
//! there to link: Debian 12 has it, macOS, Windows and Ubuntu 22.04 do not). Without the feature, `mod.rs` keeps a
//! stand-in with the same two functions that says the build cannot read these photos. libheif applies the
//! container's own rotation, mirroring and crop, so what comes back is upright already.

use std::sync::OnceLock;

use image::metadata::Orientation;
use libheif_rs::{ColorSpace, DecodingOptions, HeifContext, HeifErrorCode, HeifErrorSubCode, LibHeif, RgbChroma};

use super::decode::{over_white, Decoded, Pixels};
use super::{check_dimensions, too_much_memory, ImageError, PrepareOptions, SourceFormat};

fn lib() -> &'static LibHeif {
    static LIB: OnceLock<LibHeif> = OnceLock::new();
    LIB.get_or_init(LibHeif::new)
}

fn error(e: libheif_rs::HeifError, format: SourceFormat, opts: Option<&PrepareOptions>) -> ImageError {
    let name = format.display_name();
    match (e.code, e.sub_code) {
        (_, HeifErrorSubCode::EndOfData) => ImageError::Truncated,
        (HeifErrorCode::MemoryAllocationError, _) | (_, HeifErrorSubCode::SecurityLimitExceeded) => match opts {
            Some(opts) => too_much_memory(opts),
            None => ImageError::Damaged(name),
        },
        (HeifErrorCode::UnsupportedFeature | HeifErrorCode::UnsupportedFileType, sub) => {
            let what = match sub {
                HeifErrorSubCode::UnsupportedCodec => format!("{name} with this codec"),
                HeifErrorSubCode::UnsupportedBitDepth => format!("{name} with this bit depth"),
                _ => format!("this kind of {name}"),
            };
            ImageError::Unsupported(what)
        }
        _ => ImageError::Damaged(name),
    }
}

pub(super) fn dimensions(data: &[u8], format: SourceFormat) -> Result<(u32, u32), ImageError> {
    lib();
    let ctx = HeifContext::read_from_bytes(data).map_err(|e| error(e, format, None))?;
    let handle = ctx.primary_image_handle().map_err(|e| error(e, format, None))?;
    Ok((handle.width(), handle.height()))
}

/// Decodes the primary image with libheif, which applies the container's rotation, mirroring and cropping
/// (`irot`, `imir`, `clap`) itself. Dimensions are checked from the container before decoding.
pub(super) fn decode(data: &[u8], format: SourceFormat, opts: &PrepareOptions) -> Result<Decoded, ImageError> {
    let lib = lib();
    let ctx = HeifContext::read_from_bytes(data).map_err(|e| error(e, format, Some(opts)))?;
    let handle = ctx.primary_image_handle().map_err(|e| error(e, format, Some(opts)))?;
    let (width, height) = (handle.width(), handle.height());
    check_dimensions(width, height, format, opts)?;
    // Decoded planes plus the interleaved copy: about 6 bytes per pixel at 8 bits.
    if u64::from(width) * u64::from(height) * 6 > opts.max_decode_bytes {
        return Err(too_much_memory(opts));
    }
    let alpha = handle.has_alpha_channel();
    let mut options = DecodingOptions::new();
    if let Some(o) = options.as_mut() {
        o.set_convert_hdr_to_8bit(true);
    }
    let chroma = if alpha { RgbChroma::Rgba } else { RgbChroma::Rgb };
    let image = lib.decode(&handle, ColorSpace::Rgb(chroma), options).map_err(|e| error(e, format, Some(opts)))?;
    let planes = image.planes();
    let plane = planes.interleaved.ok_or(ImageError::Damaged(format.display_name()))?;
    let channels = if alpha { 4 } else { 3 };
    if plane.storage_bits_per_pixel as usize != channels * 8 {
        return Err(ImageError::Unsupported(format!("{} with this bit depth", format.display_name())));
    }
    // The size libheif announces after its transformations (rotation, mirroring, clean-aperture crop). libheif
    // 1.15 can hand back a plane a pixel larger than that after a `clap` crop with a half-pixel offset (an
    // iPhone-style odd width): keep the announced size, from the top-left.
    let (w, h) = (width.min(plane.width) as usize, height.min(plane.height) as usize);
    let row = w * channels;
    if plane.stride < row || plane.data.len() < plane.stride * h.saturating_sub(1) + row {
        return Err(ImageError::Damaged(format.display_name()));
    }
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let line = &plane.data[y * plane.stride..y * plane.stride + row];
        if alpha {
            for p in line.chunks_exact(4) {
                rgb.extend_from_slice(&[over_white(p[0], p[3]), over_white(p[1], p[3]), over_white(p[2], p[3])]);
            }
        } else {
            rgb.extend_from_slice(line);
        }
    }
    Ok(Decoded {
        pixels: Pixels::Rgb(rgb),
        width: w as u32,
        height: h as u32,
        source_width: w as u32,
        source_height: h as u32,
        apply: Orientation::NoTransforms,
        reported_orientation: exif_orientation(&handle).unwrap_or(1),
    })
}

/// The EXIF orientation stored in the file, for reporting only (libheif already applied the container's own
/// transformations, which is what HEIF readers must follow).
fn exif_orientation(handle: &libheif_rs::ImageHandle) -> Option<u8> {
    let mut ids = [0; 1];
    if handle.metadata_block_ids(&mut ids, b"Exif") == 0 {
        return None;
    }
    let block = handle.metadata(ids[0]).ok()?;
    // The block starts with a 4-byte big-endian offset to the TIFF header.
    let offset = u32::from_be_bytes(block.get(..4)?.try_into().ok()?) as usize;
    let tiff = block.get(4 + offset..)?;
    Orientation::from_exif_chunk(tiff).map(|o| o.to_exif())
}
