//! Preparing images for a vision model: what a photo looks like on the wire.
//!
//! [`prepare_bytes`] turns the bytes of an image file into what Ollama's `images` field takes: the picture upright
//! (EXIF orientation, or HEIF's own rotation, applied), transparency flattened onto white, the long side shrunk to at
//! most [`PrepareOptions::max_side`] (the model's vision input size, 896 for Gemma 3; never enlarged) — or, for a
//! model that sees at a variable token budget (Gemma 4), the area shrunk to its [`PrepareOptions::pixel_budget`],
//! the aspect ratio kept — re-encoded compactly and base64-encoded with the standard alphabet and no `data:` prefix.
//!
//! - **Formats** are recognised from the bytes, never the file name: JPEG (baseline, progressive, CMYK), PNG (8/16-bit,
//!   alpha), WebP, GIF (first frame), BMP, TIFF, HEIC/HEIF and AVIF (through the system libheif, with the `heic`
//!   feature; without it they get [`ImageError::NotInThisBuild`], which says to convert them). SVG and other
//!   known-but-unsupported formats get an error that names them.
//! - **Decompression bombs** are refused before anything large is allocated: the dimensions are read from the header
//!   ([`probe`]) and checked against [`PrepareOptions::max_pixels`]; decoders also get a memory budget
//!   ([`PrepareOptions::max_decode_bytes`], through `image::Limits` and jpeg-decoder's buffer limit).
//! - **Speed**: large JPEGs are decoded at a reduced DCT scale (1/2, 1/4 or 1/8) when the target is at most half the
//!   size, then resized with SIMD (fast_image_resize, Lanczos3) and encoded by `jpeg-encoder`. Everything here is
//!   synchronous and CPU-bound: call it from a worker thread (`tokio::task::spawn_blocking`), never the UI thread.
//!   [`prepare_many`] prepares several files in parallel on scoped threads, one per core.
//! - **Output encoding**: JPEG (quality [`JPEG_QUALITY`], 4:2:0, optimised Huffman tables) for photos. For sources
//!   that were lossless (PNG, GIF, BMP, TIFF, lossless WebP) the image is also encoded as PNG and the PNG is sent when
//!   it is at most [`PNG_SIZE_FACTOR`] times the JPEG's size: screenshots, diagrams, text and pixel art stay sharp,
//!   while photos that happened to be saved as PNG are not sent at ten times the size.
//!
//! Errors ([`ImageError`]) are short English reasons meant to be shown next to the file name; [`prepare_file`]
//! wraps them in [`crate::Error::Image`] (exit code 5 in the CLI). No input makes this module panic or hang: decoder
//! panics, should a third-party decoder have one, are caught and reported as a damaged file.

//!
//! # Where things are
//!
//! This file holds the public API (options, results, errors, the entry points) and the pipeline that ties the steps
//! together; the steps are apart: `sniff.rs` recognises formats, `decode.rs` turns bytes into pixels, `encode.rs`
//! shrinks, turns and encodes them, `heif.rs` reads HEIC/AVIF through libheif (only with the `heic` feature), and
//! `files.rs` finds the image files in dropped folders.

mod decode;
mod encode;
mod files;
#[cfg(feature = "heic")]
mod heif;
mod sniff;

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use image::metadata::Orientation;
use image::DynamicImage;
use serde::Serialize;

use crate::{Error, Lang};
use decode::{decode_jpeg, decode_with_image_crate, flatten, image_crate_dimensions, jpeg_error, Decoded};
use encode::{encode_jpeg, encode_png, orient, resize};
pub use files::{collect_images, is_image_file, IMAGE_EXTENSIONS};
use sniff::{is_lossless_source, sniff};

/// The long side images are shrunk to when the model does not say: Gemma 3's vision input is 896×896.
pub const DEFAULT_MAX_SIDE: u32 = 896;
/// The default limit on the number of pixels an image may claim (100 megapixels).
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;
/// The default memory budget for decoding one image (1 GiB).
pub const DEFAULT_MAX_DECODE_BYTES: u64 = 1 << 30;
/// The default limit on the size of an image file (256 MiB).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 256 << 20;
/// JPEG quality of prepared images.
pub const JPEG_QUALITY: u8 = 85;
/// A lossless source is sent as PNG when the PNG is at most this many times the size of the JPEG.
pub const PNG_SIZE_FACTOR: f64 = 2.0;
/// The long side of [`thumbnail_file`]'s thumbnails.
pub const THUMBNAIL_SIDE: u32 = 160;
/// Gemma 4's vision encoder: one soft token per 48×48 pixels (16-pixel patches merged 3×3).
pub const GEMMA4_TOKEN_SIDE: u64 = 48;
/// Gemma 4's image token budget as Ollama runs it by default (llama.cpp's gemma4v limit): 280 tokens ≈ 645,120 px.
pub const GEMMA4_STANDARD_TOKENS: u32 = 280;
/// Gemma 4's largest image token budget, for reading text in photos and screenshots: 1,120 tokens ≈ 2.58 MP.
pub const GEMMA4_HIGH_TOKENS: u32 = 1120;

/// How much detail a photo is sent at, for models with a variable image budget (Gemma 4): `Standard` is the
/// server's default budget, `High` the largest (more tokens per photo: slower, but small text stays readable).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Detail {
    #[default]
    Standard,
    High,
}

impl Detail {
    pub fn parse(s: &str) -> Option<Detail> {
        match s.trim().to_ascii_lowercase().as_str() {
            "standard" => Some(Detail::Standard),
            "high" => Some(Detail::High),
            _ => None,
        }
    }

    /// Gemma 4's soft-token budget per image at this detail.
    pub fn gemma4_tokens(self) -> u32 {
        match self {
            Detail::Standard => GEMMA4_STANDARD_TOKENS,
            Detail::High => GEMMA4_HIGH_TOKENS,
        }
    }

    /// The pixel area that budget covers.
    pub fn gemma4_pixels(self) -> u64 {
        u64::from(self.gemma4_tokens()) * GEMMA4_TOKEN_SIDE * GEMMA4_TOKEN_SIDE
    }

    /// What to ask the server for (`options.image_max_tokens`) with photos prepared by `opts`: the high budget,
    /// only at high detail and only for a model sized by a budget (Gemma 4); otherwise nothing.
    pub fn image_max_tokens(self, opts: &PrepareOptions) -> Option<u32> {
        (self == Detail::High && opts.pixel_budget.is_some()).then(|| self.gemma4_tokens())
    }
}

/// How images are prepared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrepareOptions {
    /// The longest side of the prepared image, in pixels (the model's vision input size; at least 1).
    pub max_side: u32,
    /// For a model with a variable image budget: the most pixels (width × height) to send, aspect ratio kept.
    /// Takes the place of `max_side` when set.
    pub pixel_budget: Option<u64>,
    /// Images whose header claims more pixels than this are refused before decoding.
    pub max_pixels: u64,
    /// The memory budget for decoding one image, in bytes.
    pub max_decode_bytes: u64,
    /// Files larger than this are refused before they are read.
    pub max_file_bytes: u64,
}

impl Default for PrepareOptions {
    fn default() -> Self {
        PrepareOptions {
            max_side: DEFAULT_MAX_SIDE,
            pixel_budget: None,
            max_pixels: DEFAULT_MAX_PIXELS,
            max_decode_bytes: DEFAULT_MAX_DECODE_BYTES,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }
}

impl PrepareOptions {
    /// The defaults with another long side (e.g. `ModelInfo`'s vision image size).
    pub fn with_max_side(max_side: u32) -> Self {
        PrepareOptions { max_side, ..Self::default() }
    }

    /// The defaults, sized by area (a Gemma 4 budget, see [`Detail::gemma4_pixels`]) instead of a side.
    pub fn with_pixel_budget(pixels: u64) -> Self {
        PrepareOptions { pixel_budget: Some(pixels), ..Self::default() }
    }

    /// The size an image of `width` × `height` is shrunk to (never enlarged).
    pub fn target_size(&self, width: u32, height: u32) -> (u32, u32) {
        match self.pixel_budget {
            Some(pixels) => fit_area(width, height, pixels),
            None => fit_within(width, height, self.max_side),
        }
    }
}

/// The format of a source image, as recognised from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    Jpeg,
    Png,
    Gif,
    Webp,
    Bmp,
    Tiff,
    /// HEIC/HEIF (HEVC in an HEIF container, as iPhones save).
    Heic,
    /// AVIF (AV1 in an HEIF container).
    Avif,
    /// Raw RGBA pixels handed over directly ([`prepare_rgba8`]), e.g. a screenshot pasted from the clipboard.
    Rgba,
}

impl SourceFormat {
    /// The lowercase name used in JSON and the CLI: `jpeg`, `png`, `gif`, `webp`, `bmp`, `tiff`, `heic`, `avif`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "jpeg",
            SourceFormat::Png => "png",
            SourceFormat::Gif => "gif",
            SourceFormat::Webp => "webp",
            SourceFormat::Bmp => "bmp",
            SourceFormat::Tiff => "tiff",
            SourceFormat::Heic => "heic",
            SourceFormat::Avif => "avif",
            SourceFormat::Rgba => "rgba",
        }
    }

    fn display_name(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "JPEG",
            SourceFormat::Png => "PNG",
            SourceFormat::Gif => "GIF",
            SourceFormat::Webp => "WebP",
            SourceFormat::Bmp => "BMP",
            SourceFormat::Tiff => "TIFF",
            SourceFormat::Heic => "HEIC/HEIF",
            SourceFormat::Avif => "AVIF",
            SourceFormat::Rgba => "RGBA",
        }
    }

    fn image_format(self) -> Option<image::ImageFormat> {
        Some(match self {
            SourceFormat::Png => image::ImageFormat::Png,
            SourceFormat::Gif => image::ImageFormat::Gif,
            SourceFormat::Webp => image::ImageFormat::WebP,
            SourceFormat::Bmp => image::ImageFormat::Bmp,
            SourceFormat::Tiff => image::ImageFormat::Tiff,
            SourceFormat::Jpeg | SourceFormat::Heic | SourceFormat::Avif | SourceFormat::Rgba => return None,
        })
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`probe`] learns from an image's header, without decoding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    pub format: SourceFormat,
    /// The dimensions as stored (before any orientation is applied).
    pub width: u32,
    pub height: u32,
}

/// An image ready to be sent to the model. (`Debug` shows the size of the base64 text, not the text.)
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct PreparedImage {
    /// The encoded image, base64 with the standard alphabet, no `data:` prefix (what Ollama's `images` takes).
    pub base64: String,
    /// `image/jpeg` or `image/png`.
    pub mime: &'static str,
    /// The prepared image's dimensions (upright).
    pub width: u32,
    pub height: u32,
    /// The source's full dimensions, upright (after orientation), before any shrinking.
    pub source_width: u32,
    pub source_height: u32,
    /// The EXIF orientation found in the source (1..=8; 1 when there is none). Already applied to the pixels. For
    /// HEIC/AVIF this is informational: libheif applies the container's own rotation and mirroring (`irot`/`imir`).
    pub orientation: u8,
    /// The source's format, recognised from its bytes.
    pub format: SourceFormat,
    /// The size of the encoded image in bytes (before base64).
    pub bytes: usize,
}

impl fmt::Debug for PreparedImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedImage")
            .field("base64", &format_args!("<{} characters>", self.base64.len()))
            .field("mime", &self.mime)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("source_width", &self.source_width)
            .field("source_height", &self.source_height)
            .field("orientation", &self.orientation)
            .field("format", &self.format)
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl PreparedImage {
    /// The encoded image (JPEG or PNG file contents), e.g. to write it to a file.
    pub fn encoded(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD.decode(&self.base64).expect("base64 made by this module")
    }

    /// A `data:` URI for showing the image in the UI (never for sending it to Ollama).
    pub fn data_uri(&self) -> String {
        format!("data:{};base64,{}", self.mime, self.base64)
    }

    /// The file extension matching [`PreparedImage::mime`]: `jpg` or `png`.
    pub fn extension(&self) -> &'static str {
        if self.mime == MIME_PNG {
            "png"
        } else {
            "jpg"
        }
    }
}

const MIME_JPEG: &str = "image/jpeg";
const MIME_PNG: &str = "image/png";

/// Why an image could not be prepared. `Display` gives the reason in short English, meant to follow the file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("the file is empty")]
    Empty,
    /// Not an image at all; sometimes we can say what it is instead.
    #[error("not an image{}", .0.map(|what| format!(" (it looks like {what})")).unwrap_or_default())]
    NotAnImage(Option<&'static str>),
    #[error("SVG (vector) images are not supported")]
    Svg,
    /// A recognised image format (or variant) that cannot be decoded here.
    #[error("{0} images are not supported")]
    Unsupported(String),
    /// HEIC/HEIF or AVIF in a build made without libheif (the `heic` feature is off: macOS, Windows and the
    /// Ubuntu 22.04-built .deb, see docs/releasing.md). Says what to do instead; in Chinese through [`Self::message`].
    #[error(
        "this build of Gemma Desk cannot read {0} photos: convert the photo to JPEG first (on a Mac: open it in \
         Preview, File › Export…, Format: JPEG; on an iPhone, Settings › Camera › Formats › Most Compatible takes \
         new photos as JPEG)"
    )]
    NotInThisBuild(&'static str),
    /// The data ends before the image does.
    #[error("the file is truncated: the image data ends early")]
    Truncated,
    /// The data is not a valid image of the format its header announces.
    #[error("the file is damaged: it is not a valid {0} image")]
    Damaged(&'static str),
    /// The header claims more pixels than allowed (checked before decoding).
    #[error("the image is too large ({width}×{height} pixels; the limit is {limit_mp} megapixels)")]
    TooLarge { width: u32, height: u32, limit_mp: u64 },
    /// Decoding would need more memory than allowed.
    #[error("the image needs too much memory to open (the limit is {limit_mb} MB)")]
    TooMuchMemory { limit_mb: u64 },
    #[error("the file is too large ({size_mb} MB; the limit is {limit_mb} MB)")]
    FileTooLarge { size_mb: u64, limit_mb: u64 },
    #[error("cannot read the file: {0}")]
    Io(String),
    /// Encoding the prepared image failed (not expected to happen).
    #[error("the image could not be re-encoded: {0}")]
    Encode(String),
}

impl ImageError {
    /// The reason in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            ImageError::Empty => "文件是空的".into(),
            ImageError::NotAnImage(None) => "不是图片".into(),
            ImageError::NotAnImage(Some(what)) => {
                let what = match *what {
                    // (a space before Latin letters, none before Chinese)
                    "a PDF document" => " PDF 文档",
                    "a ZIP archive or an office document" => " ZIP 压缩包或办公文档",
                    "a gzip archive" => " gzip 压缩包",
                    "a video or another media file" => "视频或其他媒体文件",
                    other => other,
                };
                format!("不是图片（看起来是{what}）")
            }
            ImageError::Svg => "不支持 SVG（矢量）图片".into(),
            ImageError::Unsupported(format) => format!("不支持 {format} 图片"),
            ImageError::NotInThisBuild(name) => format!(
                "此版本的 Gemma Desk 无法读取 {name} 照片：请先把照片转换为 JPEG（Mac：用“预览”打开，选择“文件 › \
                 导出…”，格式选 JPEG；iPhone：“设置 › 相机 › 格式 › 兼容性最佳”会把新拍的照片存为 JPEG）"
            ),
            ImageError::Truncated => "文件不完整：图片数据提前结束".into(),
            ImageError::Damaged(format) => format!("文件已损坏：不是有效的 {format} 图片"),
            ImageError::TooLarge { width, height, limit_mp } => {
                format!("图片太大（{width}×{height} 像素；上限为 {limit_mp} 百万像素）")
            }
            ImageError::TooMuchMemory { limit_mb } => format!("打开这张图片需要的内存太多（上限为 {limit_mb} MB）"),
            ImageError::FileTooLarge { size_mb, limit_mb } => {
                format!("文件太大（{size_mb} MB；上限为 {limit_mb} MB）")
            }
            ImageError::Io(detail) => format!("无法读取文件：{detail}"),
            ImageError::Encode(detail) => format!("无法重新编码图片：{detail}"),
        }
    }

    /// This error as the crate's error for `path` (`bad_input`: exit code 5 in the CLI).
    pub fn for_path(self, path: &Path) -> Error {
        Error::Image { path: path.display().to_string(), error: self }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------------------------

/// Prepares the bytes of an image file for the model. Synchronous and CPU-bound (tens of milliseconds for a 12 MP
/// photo): call it off the UI thread.
pub fn prepare_bytes(data: &[u8], opts: &PrepareOptions) -> Result<PreparedImage, ImageError> {
    catch_panics(|| prepare_inner(data, opts, Output::Best))
}

/// An already prepared image, shrunk further if `opts` asks for less (a photo attached at Gemma 4's high detail,
/// sent at standard detail); as it is otherwise. What is known of the source (size, orientation, format) is kept.
pub fn refit(image: &PreparedImage, opts: &PrepareOptions) -> Result<PreparedImage, ImageError> {
    if opts.target_size(image.width, image.height) == (image.width, image.height) {
        return Ok(image.clone());
    }
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(&image.base64).map_err(|_| ImageError::NotAnImage(None))?;
    let smaller = prepare_bytes(&bytes, opts)?;
    Ok(PreparedImage {
        source_width: image.source_width,
        source_height: image.source_height,
        orientation: image.orientation,
        format: image.format,
        ..smaller
    })
}

/// Reads and prepares an image file. Errors are [`Error::Image`] naming the file and the reason.
pub fn prepare_file(path: &Path, opts: &PrepareOptions) -> Result<PreparedImage, Error> {
    let data = read_limited(path, opts.max_file_bytes).map_err(|e| e.for_path(path))?;
    prepare_bytes(&data, opts).map_err(|e| e.for_path(path))
}

/// Prepares several files in parallel (one scoped thread per core, at most one per file). The results are in the
/// order of `paths`; one bad file does not affect the others.
pub fn prepare_many(paths: &[PathBuf], opts: &PrepareOptions) -> Vec<Result<PreparedImage, Error>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).min(paths.len());
    if workers <= 1 {
        return paths.iter().map(|p| prepare_file(p, opts)).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<PreparedImage, Error>>>> = Mutex::new(vec![None; paths.len()]);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = paths.get(i) else { break };
                let result = prepare_file(path, opts);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::Other("image preparation stopped unexpectedly".into()))))
        .collect()
}

/// A small JPEG thumbnail of an image file as a `data:image/jpeg;base64,…` URI, for the UI (long side `max_side`,
/// e.g. [`THUMBNAIL_SIDE`]; the UI may show it at half size for sharpness on high-DPI screens).
pub fn thumbnail_file(path: &Path, max_side: u32) -> Result<String, Error> {
    let opts = PrepareOptions::with_max_side(max_side);
    let data = read_limited(path, opts.max_file_bytes).map_err(|e| e.for_path(path))?;
    catch_panics(|| prepare_inner(&data, &opts, Output::Jpeg(80))).map(|p| p.data_uri()).map_err(|e| e.for_path(path))
}

/// Like [`thumbnail_file`], from the bytes of an image file (e.g. one pasted from the clipboard).
pub fn thumbnail_bytes(data: &[u8], max_side: u32) -> Result<String, ImageError> {
    catch_panics(|| prepare_inner(data, &PrepareOptions::with_max_side(max_side), Output::Jpeg(80)))
        .map(|p| p.data_uri())
}

/// Prepares raw 8-bit RGBA pixels (row by row, no padding), such as a screenshot read from the clipboard. They are
/// treated like a lossless source (PNG when that is not much larger than JPEG); `format` is [`SourceFormat::Rgba`].
pub fn prepare_rgba8(width: u32, height: u32, rgba: &[u8], opts: &PrepareOptions) -> Result<PreparedImage, ImageError> {
    catch_panics(|| {
        check_dimensions(width, height, SourceFormat::Rgba, opts)?;
        if rgba.len() as u64 != u64::from(width) * u64::from(height) * 4 {
            return Err(ImageError::Damaged("RGBA"));
        }
        let img = image::RgbaImage::from_raw(width, height, rgba.to_vec()).ok_or(ImageError::Damaged("RGBA"))?;
        let decoded = Decoded {
            pixels: flatten(DynamicImage::ImageRgba8(img)),
            width,
            height,
            source_width: width,
            source_height: height,
            apply: Orientation::NoTransforms,
            reported_orientation: 1,
        };
        finish(decoded, SourceFormat::Rgba, true, opts, Output::Best)
    })
}

/// Reads an image's format and stored dimensions from its header, without decoding the pixels.
pub fn probe(data: &[u8]) -> Result<ImageInfo, ImageError> {
    catch_panics(|| {
        let format = sniff(data)?;
        let (width, height) = match format {
            SourceFormat::Jpeg => {
                let mut decoder = jpeg_decoder::Decoder::new(data);
                decoder.read_info().map_err(jpeg_error)?;
                let info = decoder.info().ok_or(ImageError::Damaged("JPEG"))?;
                (u32::from(info.width), u32::from(info.height))
            }
            SourceFormat::Heic | SourceFormat::Avif => heif::dimensions(data, format)?,
            SourceFormat::Rgba => return Err(ImageError::NotAnImage(None)), // never sniffed
            _ => image_crate_dimensions(data, format)?,
        };
        Ok(ImageInfo { format, width, height })
    })
}

/// The format of an image from its first bytes (a few hundred are enough), or why it is not one we can prepare.
pub fn detect_format(data: &[u8]) -> Result<SourceFormat, ImageError> {
    sniff(data)
}

// ---------------------------------------------------------------------------------------------------------------
// The pipeline
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Output {
    /// JPEG, or PNG for lossless sources when it is not much larger.
    Best,
    /// JPEG at this quality, always (thumbnails).
    Jpeg(u8),
}

fn prepare_inner(data: &[u8], opts: &PrepareOptions, output: Output) -> Result<PreparedImage, ImageError> {
    let format = sniff(data)?;
    let decoded = match format {
        SourceFormat::Jpeg => decode_jpeg(data, opts)?,
        SourceFormat::Heic | SourceFormat::Avif => heif::decode(data, format, opts)?,
        SourceFormat::Rgba => return Err(ImageError::NotAnImage(None)), // never sniffed
        _ => decode_with_image_crate(data, format, opts)?,
    };
    finish(decoded, format, is_lossless_source(format, data), opts, output)
}

/// Shrinks, orients, encodes.
fn finish(
    decoded: Decoded,
    format: SourceFormat,
    lossless_source: bool,
    opts: &PrepareOptions,
    output: Output,
) -> Result<PreparedImage, ImageError> {
    // Shrink in the stored orientation (the long side and the area are the same either way), then turn the small
    // image upright.
    let (tw, th) = opts.target_size(decoded.source_width, decoded.source_height);
    // Never upscale (a DCT-scaled decode can come out a pixel short on one side: keep it then).
    let (tw, th) = (tw.min(decoded.width), th.min(decoded.height));
    let pixels = resize(decoded.pixels, decoded.width, decoded.height, tw, th)?;
    let (pixels, width, height) = orient(pixels, tw, th, decoded.apply);

    let swaps = matches!(
        decoded.apply,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    );
    let (source_width, source_height) = if swaps {
        (decoded.source_height, decoded.source_width)
    } else {
        (decoded.source_width, decoded.source_height)
    };

    let (bytes, mime) = match output {
        Output::Jpeg(quality) => (encode_jpeg(&pixels, width, height, quality)?, MIME_JPEG),
        Output::Best => {
            let jpeg = encode_jpeg(&pixels, width, height, JPEG_QUALITY)?;
            if lossless_source {
                let png = encode_png(&pixels, width, height)?;
                if (png.len() as f64) <= PNG_SIZE_FACTOR * jpeg.len() as f64 {
                    (png, MIME_PNG)
                } else {
                    (jpeg, MIME_JPEG)
                }
            } else {
                (jpeg, MIME_JPEG)
            }
        }
    };
    Ok(PreparedImage {
        base64: base64::engine::general_purpose::STANDARD.encode(&bytes),
        mime,
        width,
        height,
        source_width,
        source_height,
        orientation: decoded.reported_orientation,
        format,
        bytes: bytes.len(),
    })
}

/// The largest size with the same aspect ratio whose long side is at most `max_side`; never larger than the image,
/// never below 1 pixel.
pub fn fit_within(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let max_side = max_side.max(1);
    let long = width.max(height);
    if long <= max_side {
        return (width.max(1), height.max(1));
    }
    let scale = f64::from(max_side) / f64::from(long);
    let short = |side: u32| ((f64::from(side) * scale).round() as u32).clamp(1, max_side);
    if width >= height {
        (max_side, short(height))
    } else {
        (short(width), max_side)
    }
}

/// The largest size with the same aspect ratio whose area is at most `pixels`; never larger than the image, never
/// below 1 pixel. (Ollama resizes to whole 48-pixel tiles itself; doing it here would bend the aspect ratio.)
pub fn fit_area(width: u32, height: u32, pixels: u64) -> (u32, u32) {
    let (w, h) = (width.max(1), height.max(1));
    let area = u64::from(w) * u64::from(h);
    if area <= pixels.max(1) {
        return (w, h);
    }
    let scale = (pixels.max(1) as f64 / area as f64).sqrt();
    let side = |s: u32| ((f64::from(s) * scale).floor() as u32).clamp(1, s);
    (side(w), side(h))
}

fn check_dimensions(width: u32, height: u32, format: SourceFormat, opts: &PrepareOptions) -> Result<(), ImageError> {
    if width == 0 || height == 0 {
        return Err(ImageError::Damaged(format.display_name()));
    }
    if u64::from(width) * u64::from(height) > opts.max_pixels {
        return Err(ImageError::TooLarge { width, height, limit_mp: opts.max_pixels.div_ceil(1_000_000) });
    }
    Ok(())
}

fn too_much_memory(opts: &PrepareOptions) -> ImageError {
    ImageError::TooMuchMemory { limit_mb: opts.max_decode_bytes >> 20 }
}

// ---------------------------------------------------------------------------------------------------------------
// HEIC/HEIF/AVIF without libheif
// ---------------------------------------------------------------------------------------------------------------

/// Without the `heic` feature (no libheif to link): the formats are still recognised, so that such a photo gets an
/// error that says what to do rather than "not an image".
#[cfg(not(feature = "heic"))]
mod heif {
    use super::decode::Decoded;
    use super::{ImageError, PrepareOptions, SourceFormat};

    pub(super) fn dimensions(_data: &[u8], format: SourceFormat) -> Result<(u32, u32), ImageError> {
        Err(ImageError::NotInThisBuild(format.display_name()))
    }

    pub(super) fn decode(_data: &[u8], format: SourceFormat, _opts: &PrepareOptions) -> Result<Decoded, ImageError> {
        Err(ImageError::NotInThisBuild(format.display_name()))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------------

fn catch_panics<T>(f: impl FnOnce() -> Result<T, ImageError>) -> Result<T, ImageError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(Err(ImageError::Damaged("image")))
}

fn read_limited(path: &Path, max_bytes: u64) -> Result<Vec<u8>, ImageError> {
    let meta = std::fs::metadata(path).map_err(|e| ImageError::Io(io_reason(&e)))?;
    if meta.is_dir() {
        return Err(ImageError::Io("it is a folder".into()));
    }
    if meta.len() > max_bytes {
        return Err(ImageError::FileTooLarge { size_mb: meta.len() >> 20, limit_mb: max_bytes >> 20 });
    }
    std::fs::read(path).map_err(|e| ImageError::Io(io_reason(&e)))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_aspect_and_never_upscales() {
        assert_eq!(fit_within(4032, 3024, 896), (896, 672));
        assert_eq!(fit_within(3024, 4032, 896), (672, 896));
        assert_eq!(fit_within(8000, 1000, 896), (896, 112));
        assert_eq!(fit_within(100_000, 10, 896), (896, 1));
        assert_eq!(fit_within(451, 300, 896), (451, 300));
        assert_eq!(fit_within(1, 1, 896), (1, 1));
    }

    #[test]
    fn an_area_budget_keeps_the_aspect_ratio_and_never_enlarges() {
        let budget = Detail::Standard.gemma4_pixels();
        assert_eq!(budget, 645_120);
        assert_eq!(Detail::High.gemma4_pixels(), 2_580_480);
        let (w, h) = fit_area(4032, 3024, budget);
        assert!(u64::from(w) * u64::from(h) <= budget && (w, h) == (927, 695), "{w}×{h}");
        let (w, h) = fit_area(3024, 4032, budget);
        assert_eq!((w, h), (695, 927), "portrait is the same, turned");
        assert_eq!(fit_area(800, 600, budget), (800, 600), "under the budget: as it is");
        let (w, h) = fit_area(100_000, 10, budget);
        assert!(u64::from(w) * u64::from(h) <= budget && h >= 1);
        assert_eq!(PrepareOptions::with_pixel_budget(budget).target_size(4032, 3024), (927, 695));
        assert_eq!(PrepareOptions::with_max_side(896).target_size(4032, 3024), (896, 672));
        assert_eq!(fit_within(500, 500, 0), (1, 1));
    }

    #[test]
    fn errors_read_well() {
        let e = ImageError::TooLarge { width: 40000, height: 40000, limit_mp: 100 };
        assert_eq!(e.to_string(), "the image is too large (40000×40000 pixels; the limit is 100 megapixels)");
        assert_eq!(
            ImageError::NotAnImage(Some("a PDF document")).to_string(),
            "not an image (it looks like a PDF document)"
        );
        assert_eq!(ImageError::Unsupported("JPEG XL".into()).to_string(), "JPEG XL images are not supported");
        let bad = ImageError::Empty.for_path(Path::new("/x/empty.jpg"));
        assert_eq!(bad.to_string(), "/x/empty.jpg: the file is empty");
        assert_eq!(bad.exit_code(), 5);
    }

    #[test]
    fn a_build_without_libheif_says_to_convert_in_both_languages() {
        let e = ImageError::NotInThisBuild(SourceFormat::Heic.display_name());
        let en = e.to_string();
        assert!(en.starts_with("this build of Gemma Desk cannot read HEIC/HEIF photos: convert the photo to JPEG"));
        let zh = e.message(Lang::Zh);
        assert!(zh.starts_with("此版本的 Gemma Desk 无法读取 HEIC/HEIF 照片：请先把照片转换为 JPEG"), "{zh}");
        assert_eq!(e.message(Lang::En), en);
        assert_eq!(ImageError::Empty.message(Lang::Zh), "文件是空的");
        assert_eq!(ImageError::NotAnImage(Some("a PDF document")).message(Lang::Zh), "不是图片（看起来是 PDF 文档）");
        // Through the crate's error, as the CLI shows it: the path, then the reason in the user's language.
        let bad = e.for_path(Path::new("/x/IMG_0001.HEIC"));
        assert_eq!(bad.exit_code(), 5);
        assert_eq!(bad.message(Lang::En), format!("/x/IMG_0001.HEIC: {en}"));
        assert_eq!(bad.message(Lang::Zh), format!("/x/IMG_0001.HEIC：{zh}"));
    }

    #[cfg(not(feature = "heic"))]
    #[test]
    fn heif_family_files_are_recognised_but_not_read_without_libheif() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(detect_format(heic), Ok(SourceFormat::Heic));
        assert_eq!(probe(heic), Err(ImageError::NotInThisBuild("HEIC/HEIF")));
        let avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf";
        assert_eq!(prepare_bytes(avif, &PrepareOptions::default()), Err(ImageError::NotInThisBuild("AVIF")));
    }
}
