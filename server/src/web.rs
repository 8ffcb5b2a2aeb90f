//! The web app (`clients/web`, built by Vite into `clients/web/dist`) served at `/`, beside the
//! API. Files come from the directory as they are; a path that names no file gets `index.html`
//! (the app's routes live in the page), except under `/assets/` and `/v1/`, which answer 404.
//!
//! Caching follows how the build names files: everything under `assets/` carries a content hash
//! in its name and is cached for a year as immutable; every other file (`index.html`, the service
//! worker `sw.js`, the manifest and icons) is revalidated on every use (`no-cache`), so a new
//! build reaches tablets at their next visit online.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response};
use axum::response::IntoResponse;
use axum::routing::Router;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::Error;

/// The folder of hashed, immutable build output.
const ASSETS_PREFIX: &str = "/assets/";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// Where the built web app is, checked at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebApp {
    dir: PathBuf,
}

impl WebApp {
    /// The app in `dir`, if it holds a build (an `index.html`); otherwise logs why the web app is
    /// not served (the API is served either way) and returns `None`.
    pub fn find(dir: &Path) -> Option<WebApp> {
        let index = dir.join("index.html");
        if index.is_file() {
            tracing::info!(dir = %dir.display(), "serving the web app at /");
            Some(WebApp { dir: dir.to_path_buf() })
        } else {
            tracing::warn!(
                dir = %dir.display(),
                "no web app build here (index.html missing): / is not served, the API is; \
                 build it with `cd clients/web && npm ci && npm run build`, or pass --web-dir"
            );
            None
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds the app as the fallback of `router`: the API's routes keep precedence.
    pub fn mount<S: Clone + Send + Sync + 'static>(&self, router: Router<S>) -> Router<S> {
        let index = self.dir.join("index.html");
        let with_index =
            ServeDir::new(&self.dir).append_index_html_on_directories(true).fallback(ServeFile::new(index));
        let assets_only = ServeDir::new(&self.dir);
        router.fallback(move |request: Request<Body>| {
            let with_index = with_index.clone();
            let assets_only = assets_only.clone();
            async move { serve(request, with_index, assets_only).await }
        })
    }
}

async fn serve(
    request: Request<Body>,
    with_index: ServeDir<ServeFile>,
    assets_only: ServeDir,
) -> axum::response::Response {
    let path = request.uri().path().to_string();
    if path.starts_with("/v1/") || path == "/v1" {
        return Error::NotFound.into_response();
    }
    let immutable = path.starts_with(ASSETS_PREFIX);
    let response = if immutable { assets_only.oneshot(request).await } else { with_index.oneshot(request).await };
    let mut response: Response<_> = match response {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    if response.status().is_success() || response.status() == axum::http::StatusCode::NOT_MODIFIED {
        let policy = if immutable { IMMUTABLE } else { REVALIDATE };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}
