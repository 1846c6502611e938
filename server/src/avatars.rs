//! Avatars: upload (a plain multipart form, so it works without JavaScript)
//! and serving, with a generated default showing the person's initials.
//!
//! An upload is decoded under strict limits (size, dimensions, memory), so a
//! decompression bomb is refused before it is expanded, then re-encoded as a
//! small square WebP stored in the database: every server process serves it.

use std::io::Cursor;

use axum::{
    body::Body,
    extract::{Extension, Multipart, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use image::{ImageFormat, ImageReader, Limits, imageops::FilterType};
use tchatche_core::{limits::Scope, store::fnv1a};
use tower_sessions::Session;

use crate::AppState;

/// Largest upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 2 * 1024 * 1024;
/// Largest request body read at all. Between the two, the upload is read
/// and dropped, so the browser gets its "too large" answer instead of a
/// connection reset; beyond this, the connection is cut.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;
/// Largest image side and decoder memory: beyond these the decoder stops.
const MAX_SIDE: u32 = 4096;
const MAX_DECODE_BYTES: u64 = 64 * 1024 * 1024;
/// The stored thumbnail's side.
pub const THUMBNAIL_SIDE: u32 = 128;
/// Uploads decoded at once: decoding takes a core and up to
/// `MAX_DECODE_BYTES` each, so more wait their turn rather than starve the
/// blocking pool (and the memory) that everything else shares.
pub const CONCURRENT_DECODES: usize = 2;

/// The decoding turns of this process, given to the upload route.
#[derive(Clone)]
pub struct Decoders(pub std::sync::Arc<tokio::sync::Semaphore>);

impl Default for Decoders {
    fn default() -> Self {
        Self(std::sync::Arc::new(tokio::sync::Semaphore::new(CONCURRENT_DECODES)))
    }
}

/// Why an upload was refused (also the `?avatar=` code the page translates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvatarError {
    TooLarge,
    NotImage,
    TooManyPixels,
    /// Too many uploads from this person lately.
    TooFast,
}

impl AvatarError {
    fn code(self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::NotImage => "not_image",
            Self::TooManyPixels => "too_many_pixels",
            Self::TooFast => "too_fast",
        }
    }
}

/// Turns uploaded bytes into the stored thumbnail (WebP, square).
pub fn thumbnail(bytes: &[u8]) -> Result<Vec<u8>, AvatarError> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(AvatarError::TooLarge);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| AvatarError::NotImage)?;
    if !matches!(reader.format(), Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif)) {
        return Err(AvatarError::NotImage);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let image = reader.decode().map_err(|err| match err {
        image::ImageError::Limits(_) => AvatarError::TooManyPixels,
        _ => AvatarError::NotImage,
    })?;
    let side = image.width().min(image.height());
    let square = image.crop_imm((image.width() - side) / 2, (image.height() - side) / 2, side, side);
    let thumbnail = square.resize_exact(THUMBNAIL_SIDE, THUMBNAIL_SIDE, FilterType::Lanczos3).to_rgba8();
    let mut out = Vec::new();
    thumbnail.write_to(&mut Cursor::new(&mut out), ImageFormat::WebP).map_err(|_| AvatarError::NotImage)?;
    Ok(out)
}

/// `POST /settings/avatar`: stores the signed-in person's new avatar, then
/// goes back to the settings page with the outcome in the query string.
pub async fn upload(
    State(state): State<AppState>,
    Extension(decoders): Extension<Decoders>,
    session: Session,
    mut multipart: Multipart,
) -> Response {
    let user = match app::auth::session::user_of(&session, &state.store).await {
        Ok(Some(user)) => user,
        Ok(None) => return Redirect::to("/signin?next=/settings").into_response(),
        Err(err) => {
            tracing::error!(%err, "avatar upload: loading the account failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let outcome = match (read_upload(&mut multipart).await, state.limiter.hit(Scope::Avatar, &user.id.to_string()).await) {
        (Err(error), _) => Err(error),
        (_, Ok(Err(_wait))) => Err(AvatarError::TooFast),
        (_, Err(err)) => {
            tracing::error!(%err, "avatar upload: the rate limiter failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        (Ok(bytes), Ok(Ok(()))) => {
            let Ok(_turn) = decoders.0.acquire().await else { return StatusCode::SERVICE_UNAVAILABLE.into_response() };
            tokio::task::spawn_blocking(move || thumbnail(&bytes)).await.unwrap_or(Err(AvatarError::NotImage))
        }
    };
    match outcome {
        Ok(webp) => match state.store.set_avatar(user.id, &webp).await {
            Ok(()) => Redirect::to("/settings?avatar=saved").into_response(),
            Err(err) => {
                tracing::error!(%err, "avatar upload: storing failed");
                Redirect::to("/settings?avatar=error").into_response()
            }
        },
        Err(error) => Redirect::to(&format!("/settings?avatar={}", error.code())).into_response(),
    }
}

/// Reads the `avatar` field, keeping at most `MAX_UPLOAD_BYTES` of it and
/// reading (but dropping) the rest of the request.
async fn read_upload(multipart: &mut Multipart) -> Result<Vec<u8>, AvatarError> {
    let mut upload: Option<Result<Vec<u8>, AvatarError>> = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            // Past the request limit, or a malformed body.
            Err(_) => return Err(upload.and_then(Result::err).unwrap_or(AvatarError::TooLarge)),
        };
        let wanted = field.name() == Some("avatar") && upload.is_none();
        let mut bytes = Vec::new();
        let mut too_large = false;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) if wanted && !too_large => {
                    if bytes.len() + chunk.len() > MAX_UPLOAD_BYTES {
                        too_large = true;
                        bytes = Vec::new();
                    } else {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return Err(AvatarError::TooLarge),
            }
        }
        if wanted {
            upload = Some(if too_large {
                Err(AvatarError::TooLarge)
            } else if bytes.is_empty() {
                Err(AvatarError::NotImage)
            } else {
                Ok(bytes)
            });
        }
    }
    upload.unwrap_or(Err(AvatarError::NotImage))
}

/// `GET /avatars/{username}`: the stored avatar, or a generated one.
pub async fn serve(State(state): State<AppState>, Path(username): Path<String>, headers: HeaderMap) -> Response {
    let stored = match state.store.avatar(&username).await {
        Ok(stored) => stored,
        Err(err) => {
            tracing::error!(%err, "loading an avatar failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let (body, etag, content_type) = match stored {
        Some(avatar) => (avatar.image, avatar.etag, "image/webp"),
        None => {
            let display_name = match state.store.user_by_username(&username).await {
                Ok(Some(user)) => user.display_name,
                _ => username.clone(),
            };
            let svg = initials_svg(&display_name, &username);
            let etag = format!("\"i-{:x}\"", fnv1a(svg.as_bytes()));
            (svg.into_bytes(), etag, "image/svg+xml")
        }
    };
    let cache = HeaderValue::from_static("public, max-age=300, stale-while-revalidate=86400");
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\""));
    if headers.get(header::IF_NONE_MATCH).is_some_and(|value| value.as_bytes() == etag.as_bytes()) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache),
        ],
        Body::from(body),
    )
        .into_response()
}

/// A round badge with up to two initials on a colour chosen from the username.
pub fn initials_svg(display_name: &str, username: &str) -> String {
    let initials: String = display_name
        .split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    let initials = if initials.is_empty() { "?".to_owned() } else { initials };
    let hue = fnv1a(username.to_ascii_lowercase().as_bytes()) % 360;
    let escaped = initials.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="32" fill="hsl({hue} 55% 42%)"/><text x="32" y="32" dy=".35em" text-anchor="middle" font-family="system-ui,sans-serif" font-size="26" font-weight="600" fill="#fff">{escaped}</text></svg>"##
    )
}

/// A valid PNG header claiming a huge image, with a tiny body: the shape of
/// a decompression bomb, for tests.
#[doc(hidden)]
pub fn bomb_png(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut crc_input = kind.to_vec();
        crc_input.extend(data);
        out.extend(kind);
        out.extend(data);
        out.extend(crc32(&crc_input).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &header);
    // zlib stream of a few zero bytes (a real bomb would go on for gigabytes).
    chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 128]));
        let mut out = Vec::new();
        image.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    /// A valid 1×1, 24-bit BMP, written by hand: the image crate is built
    /// without its BMP codec, which is the point of the test.
    fn one_pixel_bmp() -> Vec<u8> {
        let mut bmp = b"BM".to_vec();
        for field in [58u32, 0, 54, 40, 1, 1] {
            bmp.extend_from_slice(&field.to_le_bytes());
        }
        bmp.extend_from_slice(&1u16.to_le_bytes()); // planes
        bmp.extend_from_slice(&24u16.to_le_bytes()); // bits per pixel
        for field in [0u32, 4, 2835, 2835, 0, 0] {
            bmp.extend_from_slice(&field.to_le_bytes());
        }
        bmp.extend_from_slice(&[0, 0, 255, 0]); // one red pixel, padded to 4 bytes
        bmp
    }

    #[test]
    fn images_become_square_webp_thumbnails() {
        let webp = thumbnail(&png(300, 200)).unwrap();
        let decoded = image::load_from_memory_with_format(&webp, ImageFormat::WebP).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (THUMBNAIL_SIDE, THUMBNAIL_SIDE));
    }

    #[test]
    fn non_images_and_other_formats_are_refused() {
        assert_eq!(thumbnail(b"hello, this is text"), Err(AvatarError::NotImage));
        assert_eq!(thumbnail(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), Err(AvatarError::NotImage));
        assert_eq!(thumbnail(&one_pixel_bmp()), Err(AvatarError::NotImage));
        // A PNG cut in half.
        let whole = png(64, 64);
        assert_eq!(thumbnail(&whole[..whole.len() / 2]), Err(AvatarError::NotImage));
    }

    #[test]
    fn decompression_bombs_are_refused_before_decoding() {
        let bomb = bomb_png(50_000, 50_000);
        assert!(bomb.len() < 1024, "a few hundred bytes claiming 2.5 gigapixels");
        assert_eq!(thumbnail(&bomb), Err(AvatarError::TooManyPixels));
    }

    #[test]
    fn initials_are_escaped_and_stable() {
        let svg = initials_svg("<b>ob &", "bob");
        assert!(svg.contains(">B<") && !svg.contains("<b>"), "markup never reaches the SVG: {svg}");
        assert_eq!(initials_svg("Alice Liddell", "alice"), initials_svg("Alice Liddell", "ALICE"));
        assert!(initials_svg("Alice Liddell", "alice").contains(">AL<"));
        assert!(initials_svg("", "x").contains(">?<"));
    }

}
