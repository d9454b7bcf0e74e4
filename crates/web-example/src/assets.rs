//! The page's static files, compiled in: one stylesheet, one small script, the method icons.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The apps with a bundled icon.
pub const ICON_APPS: [&str; 3] = ["whatsapp", "telegram", "otp"];

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");
const ICONS: [&str; 3] = [
    include_str!("../assets/icons/whatsapp.svg"),
    include_str!("../assets/icons/telegram.svg"),
    include_str!("../assets/icons/otp.svg"),
];

/// `GET /assets/app.css`.
pub async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

/// `GET /assets/app.js`.
pub async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}

/// `GET /assets/icons/{app}.svg`.
pub async fn icon(Path(file): Path<String>) -> Response {
    let svg = file
        .strip_suffix(".svg")
        .and_then(|app| ICON_APPS.iter().position(|a| *a == app))
        .map(|i| ICONS[i]);
    match svg {
        Some(svg) => asset("image/svg+xml", svg),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}
