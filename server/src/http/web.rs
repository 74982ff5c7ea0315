//! The small web pages people need, served by the binary from files compiled into it: the
//! young person's web chat at `/`, the staff console at `/console`, the survey page at
//! `/survey` where parents and carers answer with their access code, and the YOT admin's page
//! at `/admin` (`server/web/`); and the web chat's service worker (`/service-worker.js`) and web
//! app manifest (`/manifest.webmanifest`), for its push notifications and to install it.
//!
//! The pages are static: everything they show comes from the same REST and WebSocket API as
//! any client, and they put what users wrote on the page only as text. Their Content Security
//! Policy allows scripts and styles from this origin only (no inline script, no `eval`), so
//! even a mistake there could not run a script stored in a message.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::http::extract::ApiPath;
use crate::state::AppState;

/// For the HTML pages. `connect-src 'self'` covers this origin's WebSocket too; `worker-src` and
/// `manifest-src` let the web chat register its service worker and link its manifest, both
/// from this origin only.
pub(super) const PAGE_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
     worker-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The web chat's service worker (push notifications, nothing cached). At the root, so that
/// its scope covers the chat page at `/` with no `Service-Worker-Allowed` header.
const SERVICE_WORKER: &str = include_str!("../../web/service-worker.js");
/// The web app manifest: a neutral name and icon, so that the page can be installed.
const MANIFEST: &str = include_str!("../../web/manifest.webmanifest");

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "common.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/common.js"),
    },
    Asset {
        name: "signin.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/signin.js"),
    },
    Asset {
        name: "passkeys.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/passkeys.js"),
    },
    Asset {
        name: "stream.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/stream.js"),
    },
    Asset {
        name: "coming-back.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/coming-back.js"),
    },
    Asset {
        name: "push.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/push.js"),
    },
    Asset {
        name: "chat.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/chat.js"),
    },
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/console.js"),
    },
    Asset {
        name: "console-alerts.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/console-alerts.js"),
    },
    Asset {
        name: "console-chat.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/console-chat.js"),
    },
    Asset {
        name: "console-escalations.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/console-escalations.js"),
    },
    Asset {
        name: "console-moderation.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/console-moderation.js"),
    },
    Asset {
        name: "console-verdict.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/console-verdict.js"),
    },
    Asset {
        name: "console-ui.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/console-ui.js"),
    },
    Asset {
        name: "survey.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/survey.js"),
    },
    Asset {
        name: "survey-page.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/survey-page.js"),
    },
    Asset {
        name: "admin.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/admin.js"),
    },
    Asset {
        name: "admin-tools.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/admin-tools.js"),
    },
    // The web app manifest's icons: a speech bubble, no words (docs/protocol.md, "The web chat's
    // notifications").
    Asset { name: "icon-192.png", content_type: "image/png", body: include_bytes!("../../web/icon-192.png") },
    Asset { name: "icon-512.png", content_type: "image/png", body: include_bytes!("../../web/icon-512.png") },
    Asset {
        name: "admin-reports.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/admin-reports.js"),
    },
    Asset {
        name: "talkzone.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../web/talkzone.css"),
    },
];

const CHAT_PAGE: &str = include_str!("../../web/chat.html");
const CONSOLE_PAGE: &str = include_str!("../../web/console.html");
const SURVEY_PAGE: &str = include_str!("../../web/survey.html");
const ADMIN_PAGE: &str = include_str!("../../web/admin.html");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { page(CHAT_PAGE) }))
        .route("/console", get(|State(state): State<AppState>| async move { staff_page(CONSOLE_PAGE, &state) }))
        .route("/survey", get(|| async { page(SURVEY_PAGE) }))
        .route("/admin", get(|State(state): State<AppState>| async move { staff_page(ADMIN_PAGE, &state) }))
        .route("/web/{name}", get(asset))
        // The worker's own policy (the global default, `default-src 'none'`) applies to it: it
        // fetches nothing.
        .route(
            "/service-worker.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SERVICE_WORKER) }),
        )
        .route(
            "/manifest.webmanifest",
            get(|| async { ([(header::CONTENT_TYPE, "application/manifest+json")], MANIFEST) }),
        )
}

/// A staff page: its "Sign in with your council account" button shows when single sign-on is
/// configured (the page is the same text otherwise).
fn staff_page(html: &'static str, state: &AppState) -> Response {
    if state.auth.sso_configured() {
        let mut r = page(html);
        *r.body_mut() = axum::body::Body::from(html.replacen(r#"<p id="sso" hidden>"#, r#"<p id="sso">"#, 1));
        r
    } else {
        page(html)
    }
}

fn page(html: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY)),
        ],
        html,
    )
        .into_response()
}

async fn asset(ApiPath(name): ApiPath<String>) -> Result<Response, ApiError> {
    let asset = ASSETS.iter().find(|a| a.name == name).ok_or(ApiError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type))], asset.body).into_response())
}
