//! QR codes for VerifyKit's `start`: the deeplink encoded as a PNG, as a `data:` URI.

use base64::Engine as _;
use qrcode::{Color, QrCode};

/// Pixels per QR module.
const SCALE: usize = 4;
/// Light modules around the code (the quiet zone the QR standard asks for).
const QUIET_ZONE: usize = 4;

/// `data:image/png;base64,...` of a QR code that encodes `text`.
pub(crate) fn png_data_uri(text: &str) -> Option<String> {
    let png = png_bytes(text)?;
    Some(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    ))
}

/// A grayscale PNG of the QR code of `text`.
fn png_bytes(text: &str) -> Option<Vec<u8>> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (index % modules, index / modules);
        for dy in 0..SCALE {
            let row = (my + QUIET_ZONE) * SCALE + dy;
            let start = row * side + (mx + QUIET_ZONE) * SCALE;
            pixels[start..start + SCALE].fill(0);
        }
    }
    let side_u32 = u32::try_from(side).ok()?;
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side_u32, side_u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().ok()?;
        writer.write_image_data(&pixels).ok()?;
        writer.finish().ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_decodable_png_with_dark_and_light_pixels() {
        let uri = png_data_uri("https://wa.me/15550100000?text=Verification%20reference%3A%20ABC")
            .unwrap();
        let b64 = uri.strip_prefix("data:image/png;base64,").unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.width, info.height);
        assert!(info.width >= (21 + 8) * 4);
        let pixels = &buf[..info.buffer_size()];
        assert!(pixels.contains(&0) && pixels.contains(&255));
        // Quiet zone: the first row is all light.
        assert!(pixels[..info.width as usize].iter().all(|p| *p == 255));
    }
}
