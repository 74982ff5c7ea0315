//! The small web pages people need, served by the binary from files compiled into it: the
//! young person's web chat at `/`, the staff console at `/console`, the survey page at
//! `/survey` where parents and carers answer with their access code, and the YOT admin's page
//! at `/admin` (`server/web/`).
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

/// For the HTML pages. `connect-src 'self'` covers this origin's WebSocket too.
pub(super) const PAGE_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "common.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/common.js"),
    },
    Asset {
        name: "signin.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/signin.js"),
    },
    Asset {
        name: "stream.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/stream.js"),
    },
    Asset {
        name: "coming-back.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/coming-back.js"),
    },
    Asset { name: "chat.js", content_type: "text/javascript; charset=utf-8", body: include_str!("../../web/chat.js") },
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/console.js"),
    },
    Asset {
        name: "console-alerts.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/console-alerts.js"),
    },
    Asset {
        name: "console-chat.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/console-chat.js"),
    },
    Asset {
        name: "console-escalations.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/console-escalations.js"),
    },
    Asset {
        name: "console-moderation.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/console-moderation.js"),
    },
    Asset {
        name: "console-verdict.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/console-verdict.js"),
    },
    Asset {
        name: "console-ui.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/console-ui.js"),
    },
    Asset {
        name: "survey.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/survey.js"),
    },
    Asset {
        name: "survey-page.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/survey-page.js"),
    },
    Asset {
        name: "admin.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/admin.js"),
    },
    Asset {
        name: "admin-tools.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/admin-tools.js"),
    },
    Asset {
        name: "admin-reports.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/admin-reports.js"),
    },
    Asset {
        name: "talkzone.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../web/talkzone.css"),
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
