//! Image preparation against every fixture in `tests/fixtures/images/` (see its README): what the app sends for
//! each of them, compared pixel by pixel where it matters.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use gemma_desk_core::images::{
    collect_images, is_image_file, prepare_bytes, prepare_file, prepare_many, prepare_rgba8, probe, thumbnail_bytes,
    thumbnail_file, ImageError, PrepareOptions, PreparedImage, SourceFormat,
};
use gemma_desk_core::Error;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/images")
}

fn fixture(name: &str) -> PathBuf {
    let path = fixtures().join(name);
    assert!(path.exists(), "missing fixture {}", path.display());
    path
}

fn prepare(name: &str) -> PreparedImage {
    prepare_file(&fixture(name), &PrepareOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn prepare_err(name: &str) -> (ImageError, Error) {
    let data = std::fs::read(fixture(name)).unwrap();
    let image_error = prepare_bytes(&data, &PrepareOptions::default()).expect_err(name);
    let error = prepare_file(&fixture(name), &PrepareOptions::default()).expect_err(name);
    (image_error, error)
}

/// RGB pixels of an encoded JPEG or PNG (grey expanded to RGB), with its size.
struct Rgb {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl Rgb {
    fn at(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }
}

fn decode_jpeg(bytes: &[u8]) -> Rgb {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let raw = decoder.decode().expect("a valid JPEG");
    let info = decoder.info().unwrap();
    let data = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => raw,
        jpeg_decoder::PixelFormat::L8 => raw.iter().flat_map(|&v| [v, v, v]).collect(),
        other => panic!("unexpected JPEG pixel format {other:?}"),
    };
    Rgb { width: u32::from(info.width), height: u32::from(info.height), data }
}

fn decode_png(bytes: &[u8]) -> Rgb {
    let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Png).expect("a valid PNG").into_rgb8();
    Rgb { width: img.width(), height: img.height(), data: img.into_raw() }
}

/// Decodes what would be sent, checking that it is plain base64 of a JPEG or PNG of the reported size.
fn sent_pixels(p: &PreparedImage) -> Rgb {
    assert!(!p.base64.starts_with("data:"), "no data: prefix");
    assert!(p.base64.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='));
    let bytes = base64::engine::general_purpose::STANDARD.decode(&p.base64).expect("standard base64");
    assert_eq!(bytes.len(), p.bytes);
    assert_eq!(bytes, p.encoded());
    let rgb = match p.mime {
        "image/jpeg" => {
            assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
            decode_jpeg(&bytes)
        }
        "image/png" => {
            assert!(bytes.starts_with(b"\x89PNG"));
            decode_png(&bytes)
        }
        other => panic!("unexpected mime {other}"),
    };
    assert_eq!((rgb.width, rgb.height), (p.width, p.height), "the encoded image has the reported size");
    rgb
}

fn mean_abs_diff(a: &Rgb, b: &Rgb) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let sum: u64 = a.data.iter().zip(&b.data).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    sum as f64 / a.data.len() as f64
}

/// The fixture decoded as stored, ignoring any orientation (what Ollama and llama.cpp do).
fn naive_decode(name: &str) -> Rgb {
    decode_jpeg(&std::fs::read(fixture(name)).unwrap())
}

// ----------------------------------------------------------------------------------------------------------------
// Accepted files
// ----------------------------------------------------------------------------------------------------------------

#[test]
fn baseline_jpeg_is_kept_at_its_size() {
    let p = prepare("cat.jpg");
    assert_eq!((p.format, p.mime, p.width, p.height), (SourceFormat::Jpeg, "image/jpeg", 451, 300));
    assert_eq!((p.source_width, p.source_height, p.orientation), (451, 300, 1));
    let sent = sent_pixels(&p);
    let original = naive_decode("cat.jpg");
    assert!(mean_abs_diff(&sent, &original) < 3.0, "re-encoding keeps the picture");
}

#[test]
fn exif_orientation_6_comes_out_upright() {
    let upright = sent_pixels(&prepare("cat.jpg"));
    let p = prepare("cat-exif-orientation-6.jpg");
    assert_eq!(p.orientation, 6);
    assert_eq!((p.width, p.height, p.source_width, p.source_height), (451, 300, 451, 300));
    let sent = sent_pixels(&p);
    let diff = mean_abs_diff(&sent, &upright);
    assert!(diff < 4.0, "orientation 6 differs from the upright cat by {diff}");
    // Stored sideways: a decoder that ignores EXIF sees a 300×451 picture.
    let naive = naive_decode("cat-exif-orientation-6.jpg");
    assert_eq!((naive.width, naive.height), (300, 451));
}

#[test]
fn exif_orientation_3_comes_out_upright() {
    let upright = sent_pixels(&prepare("cat.jpg"));
    let p = prepare("cat-exif-orientation-3.jpg");
    assert_eq!(p.orientation, 3);
    assert_eq!((p.width, p.height), (451, 300));
    let sent = sent_pixels(&p);
    let diff = mean_abs_diff(&sent, &upright);
    // Same shape when stored upside down, so only pixels tell: ignoring the orientation differs a lot.
    let naive_diff = mean_abs_diff(&naive_decode("cat-exif-orientation-3.jpg"), &upright);
    assert!(diff < 4.0, "orientation 3 differs from the upright cat by {diff}");
    assert!(naive_diff > 20.0 && naive_diff > 5.0 * diff, "upside down differs by {naive_diff}, upright by {diff}");
}

#[test]
fn cmyk_jpeg_has_the_right_colours() {
    let p = prepare("cat-cmyk.jpg");
    assert_eq!((p.format, p.width, p.height), (SourceFormat::Jpeg, 451, 300));
    let diff = mean_abs_diff(&sent_pixels(&p), &sent_pixels(&prepare("cat.jpg")));
    assert!(diff < 6.0, "CMYK cat differs from the RGB cat by {diff}");
}

#[test]
fn progressive_jpeg() {
    let p = prepare("rocket-progressive.jpg");
    assert_eq!((p.format, p.width, p.height), (SourceFormat::Jpeg, 640, 427));
    let diff = mean_abs_diff(&sent_pixels(&p), &naive_decode("rocket-progressive.jpg"));
    assert!(diff < 3.0, "{diff}");
}

#[test]
fn twelve_megapixel_photo_shrinks_to_896() {
    let p = prepare("coffee-12mp.jpg");
    assert_eq!((p.source_width, p.source_height), (4032, 3024));
    assert_eq!((p.width, p.height, p.mime), (896, 672, "image/jpeg"));
    let original_size = std::fs::metadata(fixture("coffee-12mp.jpg")).unwrap().len() as usize;
    assert!(p.bytes * 5 < original_size, "{} bytes sent for a {original_size}-byte photo", p.bytes);
    // The DCT-scaled decode shows the same picture as a full decode shrunk the same way.
    let full = naive_decode("coffee-12mp.jpg");
    let sent = sent_pixels(&p);
    let (sx, sy) = (full.width as f64 / 896.0, full.height as f64 / 672.0);
    let mut diff = 0u64;
    let mut n = 0u64;
    for y in (8..664).step_by(16) {
        for x in (8..888).step_by(16) {
            // Average the full-size block that maps onto this output pixel.
            let (x0, y0) = ((x as f64 * sx) as u32, (y as f64 * sy) as u32);
            let mut acc = [0u32; 3];
            for dy in 0..4 {
                for dx in 0..4 {
                    let px = full.at(x0 + dx, y0 + dy);
                    (0..3).for_each(|c| acc[c] += u32::from(px[c]));
                }
            }
            let got = sent.at(x, y);
            (0..3).for_each(|c| diff += u64::from((acc[c] / 16).abs_diff(u32::from(got[c]))));
            n += 3;
        }
    }
    let mean = diff as f64 / n as f64;
    assert!(mean < 12.0, "the shrunk photo differs from the original by {mean} on average");
}

#[test]
fn panorama_keeps_its_aspect_ratio() {
    let p = prepare("panorama-8000x1000.jpg");
    assert_eq!((p.width, p.height), (896, 112));
    assert_eq!((p.source_width, p.source_height), (8000, 1000));
    sent_pixels(&p);
    // An extreme panorama keeps at least one pixel on its short side.
    let thin = prepare_file(&fixture("panorama-8000x1000.jpg"), &PrepareOptions::with_max_side(4)).unwrap();
    assert_eq!((thin.width, thin.height), (4, 1));
    sent_pixels(&thin);
}

#[test]
fn png_photo_is_sent_as_jpeg_when_png_would_be_much_larger() {
    let p = prepare("coffee.png");
    assert_eq!((p.format, p.width, p.height), (SourceFormat::Png, 600, 400));
    assert_eq!(p.mime, "image/jpeg", "a photo saved as PNG is sent as JPEG ({} bytes)", p.bytes);
    let original = decode_png(&std::fs::read(fixture("coffee.png")).unwrap());
    let diff = mean_abs_diff(&sent_pixels(&p), &original);
    assert!(diff < 4.0, "{diff}");
}

#[test]
fn screenshots_and_diagrams_stay_lossless_png() {
    // A flat-colour graphic with one-pixel lines and small "glyphs", like a screenshot of a window or a chart.
    let graphic = image::RgbImage::from_fn(800, 500, |x, y| {
        if y < 40 {
            image::Rgb([40, 44, 52])
        } else if x % 100 == 0 || y % 50 == 0 {
            image::Rgb([200, 200, 200])
        } else if (x / 6 + y / 9) % 7 == 0 && (x % 6 < 4) && (y % 9 < 7) {
            image::Rgb([20, 20, 20])
        } else {
            image::Rgb([250, 250, 250])
        }
    });
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(graphic.clone())
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let p = prepare_bytes(&png, &PrepareOptions::default()).unwrap();
    assert_eq!((p.mime, p.width, p.height), ("image/png", 800, 500));
    let raw = graphic.into_raw();
    assert_eq!(sent_pixels(&p).data, raw, "lossless");
    // The same graphic from a JPEG is sent as JPEG: its source was lossy anyway.
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 90).encode(&raw, 800, 500, jpeg_encoder::ColorType::Rgb).unwrap();
    assert_eq!(prepare_bytes(&jpeg, &PrepareOptions::default()).unwrap().mime, "image/jpeg");
}

#[test]
fn transparency_is_flattened_onto_white() {
    let p = prepare("astronaut-transparent.png");
    assert_eq!((p.width, p.height), (512, 512));
    let sent = sent_pixels(&p);
    for (x, y) in [(0, 0), (511, 0), (0, 511), (511, 511), (2, 256)] {
        let px = sent.at(x, y);
        assert!(px.iter().all(|&c| c >= 250), "pixel ({x}, {y}) is {px:?}, not white");
    }
    // The opaque middle is the astronaut, not white.
    let centre = sent.at(256, 256);
    assert!(centre.iter().any(|&c| c < 200), "centre {centre:?}");
}

#[test]
fn webp() {
    let p = prepare("astronaut.webp");
    assert_eq!((p.format, p.width, p.height), (SourceFormat::Webp, 512, 512));
    let original = image::load_from_memory(&std::fs::read(fixture("astronaut.webp")).unwrap()).unwrap().into_rgb8();
    let original = Rgb { width: 512, height: 512, data: original.into_raw() };
    let diff = mean_abs_diff(&sent_pixels(&p), &original);
    assert!(diff < 4.0, "{diff}");
}

#[test]
fn gif_sends_its_first_frame() {
    let p = prepare("cat-animated.gif");
    assert_eq!((p.format, p.width, p.height), (SourceFormat::Gif, 451, 300));
    let sent = sent_pixels(&p);
    // The first frame, not another one.
    use image::AnimationDecoder;
    let file = std::fs::File::open(fixture("cat-animated.gif")).unwrap();
    let frames = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(file)).unwrap().into_frames();
    let frames: Vec<Rgb> = frames
        .map(|f| {
            let rgb = image::DynamicImage::ImageRgba8(f.unwrap().into_buffer()).into_rgb8();
            Rgb { width: rgb.width(), height: rgb.height(), data: rgb.into_raw() }
        })
        .collect();
    assert_eq!(frames.len(), 3);
    let diffs: Vec<f64> = frames.iter().map(|f| mean_abs_diff(&sent, f)).collect();
    assert!(diffs[0] < 4.0, "differs from frame 1 by {}", diffs[0]);
    assert!(diffs[1] > diffs[0] && diffs[2] > diffs[0], "closest to the first frame: {diffs:?}");
}

#[test]
fn bmp_and_tiff() {
    let reference = sent_pixels(&prepare("cat.jpg"));
    for (name, format) in [("cat.bmp", SourceFormat::Bmp), ("cat.tiff", SourceFormat::Tiff)] {
        let p = prepare(name);
        assert_eq!((p.format, p.width, p.height), (format, 451, 300), "{name}");
        let diff = mean_abs_diff(&sent_pixels(&p), &reference);
        assert!(diff < 5.0, "{name} differs from cat.jpg by {diff}");
    }
}

#[test]
fn sixteen_bit_grayscale_png() {
    let p = prepare("cat-gray16.png");
    assert_eq!((p.format, p.width, p.height), (SourceFormat::Png, 451, 300));
    let sent = sent_pixels(&p);
    assert!(sent.data.chunks(3).all(|c| c[0] == c[1] && c[1] == c[2]), "still grey");
    // The fixture's samples run from 4 to 194 out of 65535: by the PNG standard it is almost black, and that is
    // what any viewer shows and what is sent.
    let faithful = image::open(fixture("cat-gray16.png")).unwrap().into_luma8();
    assert!(sent.data.chunks(3).zip(faithful.as_raw()).all(|(s, f)| s[0].abs_diff(*f) <= 2));
    assert!(faithful.as_raw().iter().all(|&v| v <= 1));
}

#[test]
fn sixteen_bit_samples_keep_their_brightness() {
    // The cat as a full-range 16-bit grey PNG (8-bit values × 257): sent as the same 8-bit grey (as a JPEG: a photo).
    let grey =
        image::DynamicImage::ImageRgb8(image::RgbImage::from_raw(451, 300, naive_decode("cat.jpg").data).unwrap())
            .into_luma8();
    let wide = image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_fn(451, 300, |x, y| {
        image::Luma([u16::from(grey.get_pixel(x, y)[0]) * 257])
    });
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma16(wide)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let p = prepare_bytes(&png, &PrepareOptions::default()).unwrap();
    let sent = sent_pixels(&p);
    let diff: u64 = sent.data.chunks(3).zip(grey.as_raw()).map(|(s, g)| u64::from(s[0].abs_diff(*g))).sum();
    let mean = diff as f64 / grey.as_raw().len() as f64;
    assert!(mean < 2.0, "differs by {mean} on average");
}

#[test]
fn one_pixel_stays_one_pixel() {
    let p = prepare("one-pixel.png");
    assert_eq!((p.width, p.height, p.source_width, p.source_height), (1, 1, 1, 1));
    assert_eq!(p.mime, "image/png", "tiny lossless images stay PNG");
    let sent = sent_pixels(&p);
    let original = decode_png(&std::fs::read(fixture("one-pixel.png")).unwrap());
    assert_eq!(sent.data, original.data, "lossless");
}

#[cfg(feature = "heic")]
#[test]
fn heic_from_an_iphone() {
    let p = prepare("cat.heic");
    assert_eq!(p.format, SourceFormat::Heic);
    assert_eq!(p.mime, "image/jpeg");
    assert_eq!((p.width, p.height), (451, 300), "upright, 451×300 like the other cats");
    let diff = mean_abs_diff(&sent_pixels(&p), &sent_pixels(&prepare("cat.jpg")));
    assert!(diff < 8.0, "the HEIC cat differs from the JPEG cat by {diff}");
}

/// Built without libheif (`--no-default-features`, as released for macOS, Windows and Ubuntu 22.04): an iPhone
/// photo is recognised and refused with what to do, in both languages.
#[cfg(not(feature = "heic"))]
#[test]
fn heic_without_libheif_says_to_convert() {
    use gemma_desk_core::Lang;
    let (e, error) = prepare_err("cat.heic");
    assert_eq!(e, ImageError::NotInThisBuild("HEIC/HEIF"));
    assert_eq!(probe(&std::fs::read(fixture("cat.heic")).unwrap()), Err(e.clone()));
    assert!(is_image_file(&fixture("cat.heic")), "still listed when a folder is dropped, to get its error");
    assert_eq!(error.exit_code(), 5);
    let en = error.message(Lang::En);
    assert!(en.ends_with("cat.heic: this build of Gemma Desk cannot read HEIC/HEIF photos: convert the photo to JPEG first (on a Mac: open it in Preview, File › Export…, Format: JPEG; on an iPhone, Settings › Camera › Formats › Most Compatible takes new photos as JPEG)"), "{en}");
    let zh = error.message(Lang::Zh);
    assert!(zh.contains("cat.heic：此版本的 Gemma Desk 无法读取 HEIC/HEIF 照片：请先把照片转换为 JPEG"), "{zh}");
}

#[test]
fn never_upscales_and_max_side_is_configurable() {
    let big = PrepareOptions::with_max_side(4096);
    let p = prepare_file(&fixture("cat.jpg"), &big).unwrap();
    assert_eq!((p.width, p.height), (451, 300));
    let small = prepare_file(&fixture("cat-exif-orientation-6.jpg"), &PrepareOptions::with_max_side(100)).unwrap();
    assert_eq!((small.width, small.height), (100, 67));
    let reference = prepare_file(&fixture("cat.jpg"), &PrepareOptions::with_max_side(100)).unwrap();
    let diff = mean_abs_diff(&sent_pixels(&small), &sent_pixels(&reference));
    assert!(diff < 6.0, "{diff}");
}

#[test]
fn format_comes_from_the_bytes_not_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let disguised = dir.path().join("photo.png");
    std::fs::copy(fixture("cat.jpg"), &disguised).unwrap();
    let p = prepare_file(&disguised, &PrepareOptions::default()).unwrap();
    assert_eq!(p.format, SourceFormat::Jpeg);
    let info = probe(&std::fs::read(fixture("cat-exif-orientation-6.jpg")).unwrap()).unwrap();
    assert_eq!((info.format, info.width, info.height), (SourceFormat::Jpeg, 300, 451));
}

// ----------------------------------------------------------------------------------------------------------------
// Bad files: clear errors, never a panic
// ----------------------------------------------------------------------------------------------------------------

#[test]
fn empty_file() {
    let (e, err) = prepare_err("empty.jpg");
    assert_eq!(e, ImageError::Empty);
    assert!(err.to_string().ends_with("empty.jpg: the file is empty"), "{err}");
    assert_eq!(err.exit_code(), 5);
    assert_eq!(err.kind(), "bad_input");
}

#[test]
fn truncated_jpeg() {
    let (e, err) = prepare_err("truncated.jpg");
    assert_eq!(e, ImageError::Truncated);
    assert!(err.to_string().contains("truncated.jpg: the file is truncated"), "{err}");
    assert_eq!(err.exit_code(), 5);
}

#[test]
fn text_file_named_jpg() {
    let (e, err) = prepare_err("not-an-image.jpg");
    assert_eq!(e, ImageError::NotAnImage(None));
    assert!(err.to_string().ends_with("not-an-image.jpg: not an image"), "{err}");
}

#[test]
fn svg_is_refused_by_name() {
    let (e, err) = prepare_err("vector.svg");
    assert_eq!(e, ImageError::Svg);
    assert!(err.to_string().ends_with("vector.svg: SVG (vector) images are not supported"), "{err}");
}

#[test]
fn garbage_after_a_png_signature() {
    let (e, err) = prepare_err("garbage.png");
    assert_eq!(e, ImageError::Damaged("PNG"));
    assert!(err.to_string().ends_with("garbage.png: the file is damaged: it is not a valid PNG image"), "{err}");
}

#[test]
fn decompression_bomb_is_refused_from_its_header() {
    let data = std::fs::read(fixture("bomb-40000x40000.png")).unwrap();
    assert!(data.len() < 10_000);
    // The size is known from the header alone…
    let info = probe(&data).unwrap();
    assert_eq!((info.format, info.width, info.height), (SourceFormat::Png, 40000, 40000));
    // …and refused with it, before decoding (which would need 4.8 GB).
    let (e, err) = prepare_err("bomb-40000x40000.png");
    assert_eq!(e, ImageError::TooLarge { width: 40000, height: 40000, limit_mp: 100 });
    let text = err.to_string();
    assert!(text.contains("40000×40000 pixels") && text.contains("100 megapixels"), "{text}");
    // Memory stayed small: the peak of this whole test process is far below the 4.8 GB a decode would take.
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let peak_kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        assert!(peak_kb < 1_500_000, "peak memory {peak_kb} kB");
    }
}

#[test]
fn pixel_and_memory_limits_are_options() {
    let data = std::fs::read(fixture("coffee-12mp.jpg")).unwrap();
    let few_pixels = PrepareOptions { max_pixels: 10_000_000, ..PrepareOptions::default() };
    let e = prepare_bytes(&data, &few_pixels).unwrap_err();
    assert_eq!(e.to_string(), "the image is too large (4032×3024 pixels; the limit is 10 megapixels)");
    // The decoders' memory budget (image::Limits for PNG, jpeg-decoder's buffer limit for JPEG).
    let little_memory = PrepareOptions { max_decode_bytes: 100_000, ..PrepareOptions::default() };
    let png = std::fs::read(fixture("coffee.png")).unwrap();
    for data in [&png, &data] {
        let e = prepare_bytes(data, &little_memory).unwrap_err();
        assert!(matches!(e, ImageError::TooMuchMemory { .. }), "{e}");
        assert!(e.to_string().contains("too much memory"), "{e}");
    }
}

#[test]
fn every_truncation_of_a_photo_gives_an_error_not_a_panic() {
    for name in ["cat.jpg", "rocket-progressive.jpg", "coffee.png", "astronaut.webp", "cat.heic", "cat-animated.gif"] {
        if !cfg!(feature = "heic") && name == "cat.heic" {
            continue; // refused unread (heic_without_libheif_says_to_convert)
        }
        let data = std::fs::read(fixture(name)).unwrap();
        for cut in [1, 2, 3, 8, 16, 40, 100, 500, data.len() / 3, data.len() / 2, data.len() - 10] {
            match prepare_bytes(&data[..cut], &PrepareOptions::default()) {
                Err(ImageError::Truncated | ImageError::Damaged(_) | ImageError::NotAnImage(_)) => {}
                // Some formats (GIF) may legitimately show what arrived of a later part; never a panic.
                // A GIF cut after its first frame still has that frame.
                Ok(p) if name.ends_with(".gif") && cut > data.len() / 3 => {
                    sent_pixels(&p);
                }
                other => panic!("{name} cut at {cut}: {other:?}"),
            }
        }
    }
}

#[test]
fn missing_file_and_folder() {
    let err = prepare_file(Path::new("/nonexistent/photo.jpg"), &PrepareOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "/nonexistent/photo.jpg: cannot read the file: no such file");
    assert_eq!(err.exit_code(), 5);
    let err = prepare_file(&fixtures(), &PrepareOptions::default()).unwrap_err();
    assert!(err.to_string().ends_with("cannot read the file: it is a folder"), "{err}");
}

// ----------------------------------------------------------------------------------------------------------------
// Every fixture, in parallel; folders; thumbnails
// ----------------------------------------------------------------------------------------------------------------

const GOOD: &[&str] = &[
    "astronaut-transparent.png",
    "astronaut.webp",
    "cat-animated.gif",
    "cat-cmyk.jpg",
    "cat-exif-orientation-3.jpg",
    "cat-exif-orientation-6.jpg",
    "cat-gray16.png",
    "cat.bmp",
    "cat.heic",
    "cat.jpg",
    "cat.tiff",
    "coffee-12mp.jpg",
    "coffee.png",
    "one-pixel.png",
    "panorama-8000x1000.jpg",
    "rocket-progressive.jpg",
];
const BAD: &[&str] =
    &["bomb-40000x40000.png", "empty.jpg", "garbage.png", "not-an-image.jpg", "truncated.jpg", "vector.svg"];

#[test]
fn every_fixture_is_covered_here() {
    let mut listed: Vec<&str> = GOOD.iter().chain(BAD).copied().collect();
    listed.sort();
    let mut present: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .collect();
    present.sort();
    assert_eq!(listed, present, "a fixture was added or removed: give it a test");
}

#[test]
fn prepare_many_keeps_input_order_and_isolates_bad_files() {
    let paths: Vec<PathBuf> = GOOD.iter().chain(BAD).map(|n| fixture(n)).collect();
    let results = prepare_many(&paths, &PrepareOptions::default());
    assert_eq!(results.len(), paths.len());
    for (name, result) in GOOD.iter().chain(BAD).zip(&results) {
        match result {
            Ok(p) => {
                assert!(GOOD.contains(name), "{name} should fail");
                assert!(p.width.max(p.height) <= 896 && p.width >= 1 && p.height >= 1);
                assert_eq!(*result, prepare_file(&fixture(name), &PrepareOptions::default()), "{name}: deterministic");
            }
            Err(e) => {
                // Without libheif the HEIC photo is refused too (heic_without_libheif_says_to_convert).
                let unreadable = BAD.contains(name) || (!cfg!(feature = "heic") && *name == "cat.heic");
                assert!(unreadable, "{name}: {e}");
                assert!(e.to_string().contains(name), "{e} names the file");
                assert_eq!(e.exit_code(), 5);
            }
        }
    }
}

#[test]
fn folders_expand_to_their_images_in_natural_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(fixture("cat.jpg"), d.join("IMG_10.jpg")).unwrap();
    std::fs::copy(fixture("cat.jpg"), d.join("IMG_2.JPG")).unwrap();
    std::fs::copy(fixture("coffee.png"), d.join("no-extension")).unwrap();
    std::fs::copy(fixture("empty.jpg"), d.join("empty.jpg")).unwrap();
    std::fs::copy(fixture("cat.jpg"), d.join(".hidden.jpg")).unwrap();
    std::fs::write(d.join("notes.txt"), "not a photo").unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::copy(fixture("cat.jpg"), d.join("sub/inner.jpg")).unwrap();
    let loose = fixture("vector.svg");

    let found = collect_images(&[loose.clone(), d.to_path_buf(), loose.clone()]);
    let names: Vec<String> = found.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["vector.svg", "empty.jpg", "IMG_2.JPG", "IMG_10.jpg", "no-extension"]);
    assert_eq!(found[0], loose, "files given directly are kept as given");

    assert!(is_image_file(&d.join("no-extension")));
    assert!(!is_image_file(&d.join("notes.txt")));
    assert!(!is_image_file(&d.join("empty.jpg")));
}

#[test]
fn thumbnails_are_small_jpeg_data_uris() {
    let uri = thumbnail_file(&fixture("cat-exif-orientation-6.jpg"), 160).unwrap();
    let b64 = uri.strip_prefix("data:image/jpeg;base64,").expect("a JPEG data URI");
    let rgb = decode_jpeg(&base64::engine::general_purpose::STANDARD.decode(b64).unwrap());
    assert_eq!((rgb.width, rgb.height), (160, 106), "upright");
    let err = thumbnail_file(&fixture("vector.svg"), 160).unwrap_err();
    assert!(err.to_string().ends_with("SVG (vector) images are not supported"));
}

#[test]
fn clipboard_pixels() {
    // A 1200×300 "screenshot" with a transparent strip: shrunk to 896×224, flattened onto white, kept lossless.
    let rgba: Vec<u8> = (0..300u32)
        .flat_map(|y| (0..1200u32).map(move |x| (x, y)))
        .flat_map(|(x, y)| {
            if y < 20 {
                [0, 0, 0, 0]
            } else if x % 200 < 100 {
                [30, 60, 90, 255]
            } else {
                [240, 240, 240, 255]
            }
        })
        .collect();
    let p = prepare_rgba8(1200, 300, &rgba, &PrepareOptions::default()).unwrap();
    assert_eq!((p.format, p.mime, p.width, p.height), (SourceFormat::Rgba, "image/png", 896, 224));
    let sent = sent_pixels(&p);
    assert_eq!(sent.at(10, 2), [255, 255, 255]);
    assert_eq!(sent.at(30, 100), [30, 60, 90]);
    let e = prepare_rgba8(10, 10, &rgba[..399], &PrepareOptions::default()).unwrap_err();
    assert_eq!(e, ImageError::Damaged("RGBA"));
    let e = prepare_rgba8(20000, 20000, &[], &PrepareOptions::default()).unwrap_err();
    assert!(matches!(e, ImageError::TooLarge { .. }), "{e}");
}

#[test]
fn thumbnails_from_bytes() {
    let uri = thumbnail_bytes(&std::fs::read(fixture("coffee-12mp.jpg")).unwrap(), 160).unwrap();
    let rgb = decode_jpeg(
        &base64::engine::general_purpose::STANDARD
            .decode(uri.strip_prefix("data:image/jpeg;base64,").unwrap())
            .unwrap(),
    );
    assert_eq!((rgb.width, rgb.height), (160, 120));
    assert_eq!(thumbnail_bytes(b"", 160), Err(ImageError::Empty));
}
