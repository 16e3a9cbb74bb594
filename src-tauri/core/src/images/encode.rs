//! From decoded pixels to the bytes sent: shrinking with SIMD (fast_image_resize, Lanczos3), turning the small image
//! upright (orientation is applied after shrinking, which is cheaper and gives the same picture), and encoding as
//! JPEG (`jpeg-encoder`, optimised Huffman tables) or PNG. Which of the two is sent is decided by the caller.

use image::metadata::Orientation;
use image::DynamicImage;

use super::decode::Pixels;
use super::ImageError;

pub(super) fn resize(pixels: Pixels, width: u32, height: u32, tw: u32, th: u32) -> Result<Pixels, ImageError> {
    use fast_image_resize as fr;
    if (tw, th) == (width, height) {
        return Ok(pixels);
    }
    let pixel_type = match pixels {
        Pixels::Rgb(_) => fr::PixelType::U8x3,
        Pixels::Gray(_) => fr::PixelType::U8,
    };
    let src = fr::images::ImageRef::new(width, height, pixels.data(), pixel_type)
        .map_err(|e| ImageError::Encode(format!("resize: {e}")))?;
    let mut dst = fr::images::Image::new(tw, th, pixel_type);
    let options = fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    fr::Resizer::new().resize(&src, &mut dst, &options).map_err(|e| ImageError::Encode(format!("resize: {e}")))?;
    let out = dst.into_vec();
    Ok(match pixels {
        Pixels::Rgb(_) => Pixels::Rgb(out),
        Pixels::Gray(_) => Pixels::Gray(out),
    })
}

pub(super) fn orient(pixels: Pixels, width: u32, height: u32, orientation: Orientation) -> (Pixels, u32, u32) {
    if orientation == Orientation::NoTransforms {
        return (pixels, width, height);
    }
    let mut img = match pixels {
        Pixels::Rgb(v) => DynamicImage::ImageRgb8(image::RgbImage::from_raw(width, height, v).expect("sized buffer")),
        Pixels::Gray(v) => {
            DynamicImage::ImageLuma8(image::GrayImage::from_raw(width, height, v).expect("sized buffer"))
        }
    };
    img.apply_orientation(orientation);
    let (w, h) = (img.width(), img.height());
    let pixels = match img {
        DynamicImage::ImageLuma8(g) => Pixels::Gray(g.into_raw()),
        other => Pixels::Rgb(other.into_rgb8().into_raw()),
    };
    (pixels, w, h)
}

pub(super) fn encode_jpeg(pixels: &Pixels, width: u32, height: u32, quality: u8) -> Result<Vec<u8>, ImageError> {
    let color = match pixels {
        Pixels::Rgb(_) => jpeg_encoder::ColorType::Rgb,
        Pixels::Gray(_) => jpeg_encoder::ColorType::Luma,
    };
    let (w, h) = (u16::try_from(width), u16::try_from(height));
    let (Ok(w), Ok(h)) = (w, h) else {
        return Err(ImageError::Encode("the image is too wide for JPEG".into()));
    };
    let mut out = Vec::with_capacity(width as usize * height as usize / 4);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    encoder.set_optimized_huffman_tables(true);
    encoder.encode(pixels.data(), w, h, color).map_err(|e| ImageError::Encode(e.to_string()))?;
    Ok(out)
}

pub(super) fn encode_png(pixels: &Pixels, width: u32, height: u32) -> Result<Vec<u8>, ImageError> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    use image::ImageEncoder;
    let color = match pixels {
        Pixels::Rgb(_) => image::ExtendedColorType::Rgb8,
        Pixels::Gray(_) => image::ExtendedColorType::L8,
    };
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(pixels.data(), width, height, color)
        .map_err(|e| ImageError::Encode(e.to_string()))?;
    Ok(out)
}
