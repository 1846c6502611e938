//! The compiled site's `/pkg` files. Their names carry a content hash
//! (cargo-leptos `hash-files`), so browsers may keep them for a year.

use axum::http::{HeaderValue, header};
use leptos::prelude::LeptosOptions;
use tower::ServiceBuilder;
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

pub fn hashed_assets(options: &LeptosOptions) -> axum::routing::MethodRouter {
    let dir = std::path::Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    let cache = if options.hash_files {
        "public, max-age=31536000, immutable"
    } else {
        // Unhashed names (development) change content in place.
        "no-cache"
    };
    axum::routing::get_service(
        ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static(cache)))
            .service(ServeDir::new(dir)),
    )
}
