//! Operations: health and readiness, metrics, the OpenAPI document, security headers and
//! request ids, and the `talkzone` binary's configuration errors and admin command.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use talkzone_tests::api::{CreateConversationRequest, CreateUserRequest, Role, ServerFrame};
use talkzone_tests::{both_backends, sign_in_enrolling, talkzone_binary, Backend, ProcessServer, TempDir, TestServer};
use tokio::io::AsyncWriteExt;

const WAIT: Duration = Duration::from_secs(60);

async fn get(s: &TestServer, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    s.client.raw(Method::GET, path, None, vec![]).await.expect("request")
}

async fn health_and_readiness(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (status, _, body) = get(&s, "/healthz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = get(&s, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("readyz is JSON");
    // No on-call webhook in tests: ready, and saying so.
    assert_eq!(
        (&v["status"], &v["database"], &v["broker"], &v["on_call"]),
        (
            &serde_json::json!("ready"),
            &serde_json::json!("ok"),
            &serde_json::json!("ok"),
            &serde_json::json!("not_configured")
        ),
        "{v}"
    );
    s.stop().await;
}

/// The value of an unlabelled counter in Prometheus text, 0 when absent.
fn counter(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            (key == name || key.starts_with(&format!("{name}{{"))).then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

async fn metrics_count_stored_messages(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (status, headers, before) = get(&s, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain")),
        "{headers:?}"
    );
    let before = counter(&before, "talkzone_messages_stored_total");

    let yp = s.young_person().await;
    let (_, conv) =
        s.client.open_conversation(&yp.access_token, &CreateConversationRequest::default()).await.expect("open");
    let mut ws = s.client.connect(&yp.access_token).await.expect("connect");
    for i in 0..2 {
        let ack = ws.send_message(&conv.id, &format!("m{i}"), "counted").await.expect("send");
        assert!(matches!(ack, ServerFrame::Ack { .. }), "{ack:?}");
    }
    let (status, _, after) = get(&s, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(after.contains("talkzone_messages_stored_total"), "{after}");
    // Other tests in this process may store messages too: the counter only goes up.
    let after = counter(&after, "talkzone_messages_stored_total");
    assert!(after >= before + 2.0, "stored counter went from {before} to {after}");
    s.stop().await;
}

async fn openapi_documents_every_route(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (status, headers, body) = get(&s, "/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json")),
        "{headers:?}"
    );
    let doc: serde_json::Value = serde_json::from_str(&body).expect("the OpenAPI document is JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().expect("paths");
    let expected = [
        ("/v1/auth/anonymous", "post"),
        ("/v1/auth/login", "post"),
        ("/v1/auth/refresh", "post"),
        ("/v1/auth/logout", "post"),
        ("/v1/me", "get"),
        ("/v1/me/duty", "put"),
        ("/v1/ws-ticket", "post"),
        ("/v1/admin/users", "post"),
        ("/v1/conversations", "post"),
        ("/v1/conversations", "get"),
        ("/v1/conversations/{id}", "get"),
        ("/v1/conversations/{id}/messages", "get"),
        ("/v1/conversations/{id}/accept", "post"),
    ];
    for (path, method) in expected {
        let item = paths.get(path).unwrap_or_else(|| panic!("{path} is missing from the OpenAPI paths"));
        assert!(item.get(method).is_some(), "{method} {path} is missing");
    }
    // Error shapes are described.
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    assert!(schemas.contains_key("ErrorBody"), "ErrorBody schema");
    let forbidden = &paths["/v1/admin/users"]["post"]["responses"]["403"];
    assert!(!forbidden.is_null(), "403 is documented on /v1/admin/users");
    // The errors every route shares are listed on each route they apply to (schemathesis'
    // status-code check relies on it): 401 where a token is needed, 400 and 422 where there
    // is input, 413 where there is a body.
    let mut checked = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            let codes = op["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}: no responses"));
            let needs = |code: &str, why: &str| {
                assert!(codes.contains_key(code), "{method} {path} ({why}) does not list {code}: {:?}", codes.keys());
                assert_eq!(
                    codes[code]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                    "{method} {path}: {code} has the error shape"
                );
            };
            // A browser navigation target (the single sign-on callback) answers a person with
            // pages, not the API's error shape: its errors are documented as text/html.
            if codes.values().any(|r| !r["content"]["text/html"].is_null()) {
                assert!(codes.contains_key("400"), "{method} {path}: a page's refusals list 400");
                checked += 1;
                continue;
            }
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                needs("401", "signed in");
            }
            let has_body = !op["requestBody"].is_null();
            if has_body || op["parameters"].as_array().is_some_and(|p| !p.is_empty()) {
                needs("400", "has input");
                needs("422", "has input");
            }
            if has_body {
                needs("413", "has a body");
            }
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} operations");
    s.stop().await;
}

async fn security_headers_and_request_ids(backend: Backend) {
    let s = TestServer::start(backend).await;
    let yp = s.young_person().await;
    let mut ids = Vec::new();
    let cases: Vec<(Method, &str, Option<&str>, StatusCode)> = vec![
        (Method::GET, "/healthz", None, StatusCode::OK),
        (Method::GET, "/v1/me", Some(yp.access_token.as_str()), StatusCode::OK),
        (Method::GET, "/v1/me", None, StatusCode::UNAUTHORIZED),
        (Method::GET, "/v1/nope", None, StatusCode::NOT_FOUND),
        (Method::GET, "/v1/openapi.json", None, StatusCode::OK),
    ];
    for (method, path, token, expected) in cases {
        let (status, h, _) = s.client.raw(method.clone(), path, token, vec![]).await.expect("request");
        assert_eq!(status, expected, "{method} {path}");
        let header = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
        let csp = header("content-security-policy").unwrap_or_else(|| panic!("{path}: no CSP"));
        assert!(csp.contains("frame-ancestors"), "{path}: {csp}");
        let id = header("x-request-id").unwrap_or_else(|| panic!("{path}: no x-request-id"));
        assert!(!id.is_empty());
        ids.push(id);
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "request ids are unique: {ids:?}");
    s.stop().await;
}

both_backends!(
    health_and_readiness,
    metrics_count_stored_messages,
    openapi_documents_every_route,
    security_headers_and_request_ids,
);

// ---------------------------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------------------------

/// `talkzone` with none of the caller's `TALKZONE_*` settings.
fn talkzone(data_dir: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(talkzone_binary());
    for (k, _) in std::env::vars() {
        if k.starts_with("TALKZONE_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("TALKZONE_DATA_DIR", data_dir)
        .env("TALKZONE_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

struct Outcome {
    success: bool,
    stdout: String,
    stderr: String,
}

async fn run(mut cmd: tokio::process::Command, stdin: Option<&str>) -> Outcome {
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().expect("spawn talkzone");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).await.expect("write stdin");
        drop(pipe);
    }
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("talkzone finishes (it must not start serving)")
        .expect("wait");
    Outcome {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test]
async fn bad_settings_fail_with_a_clear_message() {
    let dir = TempDir::new();

    let mut cmd = talkzone(&dir.0);
    cmd.args(["serve", "--listen", "nonsense"]);
    let out = run(cmd, None).await;
    assert!(!out.success, "serve --listen nonsense succeeded: {}", out.stdout);
    assert!(out.stderr.contains("listen") && out.stderr.contains("nonsense"), "{}", out.stderr);

    let mut cmd = talkzone(&dir.0);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--database-url", "mysql://x"]);
    let out = run(cmd, None).await;
    assert!(!out.success);
    assert!(out.stderr.contains("database-url"), "{}", out.stderr);

    // The same settings from the environment.
    let mut cmd = talkzone(&dir.0);
    cmd.arg("serve").env("TALKZONE_LISTEN", "127.0.0.1:0").env("TALKZONE_DATABASE_URL", "mysql://x");
    let out = run(cmd, None).await;
    assert!(!out.success);
    assert!(out.stderr.contains("database-url"), "{}", out.stderr);

    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("addr").to_string();
    let mut cmd = talkzone(&dir.0);
    cmd.args(["serve", "--listen", &addr]);
    let out = run(cmd, None).await;
    assert!(!out.success, "serve on a busy port succeeded: {}", out.stdout);
    assert!(out.stderr.contains("already in use") && out.stderr.contains(&addr), "{}", out.stderr);
    assert!(!out.stdout.contains("listening"), "{}", out.stdout);
    drop(busy);

    // No stack traces or panics in any of these.
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);

    // A Redis that is not there: refuse to start rather than run a node that cannot see the
    // others' messages.
    let nobody = talkzone_tests::cluster::free_port();
    let mut cmd = talkzone(&dir.0);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--redis-url", &format!("redis://127.0.0.1:{nobody}")]);
    let out = run(cmd, None).await;
    assert!(!out.success, "serve without its Redis succeeded: {}", out.stdout);
    assert!(out.stderr.contains("broker") && out.stderr.contains(&nobody.to_string()), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

/// The Docker files describe the topology the tests run: every setting they pass is one the
/// server knows, both nodes share PostgreSQL and Redis, and the proxy passes WebSocket
/// upgrades and replaces (never appends to) X-Forwarded-For.
#[test]
fn docker_files_match_the_server() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let compose = std::fs::read_to_string(root.join("docker/compose.yaml")).expect("docker/compose.yaml");
    let dockerfile = std::fs::read_to_string(root.join("docker/Dockerfile")).expect("docker/Dockerfile");
    let nginx = std::fs::read_to_string(root.join("docker/nginx.conf")).expect("docker/nginx.conf");
    let config = std::fs::read_to_string(root.join("server/src/config/settings.rs")).expect("config/settings.rs");
    for text in [&compose, &dockerfile] {
        for (i, _) in text.match_indices("TALKZONE_") {
            let name: String = text[i..].chars().take_while(|c| c.is_ascii_uppercase() || *c == '_').collect();
            assert!(
                config.contains(&format!("env = \"{name}\"")),
                "{name} in the Docker files is not a server setting"
            );
        }
    }
    for needed in [
        "talkzone-1: *talkzone",
        "talkzone-2: *talkzone",
        "TALKZONE_REDIS_URL: redis://redis:6379",
        "TALKZONE_DATABASE_URL: postgres://",
        "TALKZONE_TRUSTED_PROXIES: 172.28.0.10",
        "ipv4_address: 172.28.0.10",
    ] {
        assert!(compose.contains(needed), "compose.yaml lacks {needed}");
    }
    for needed in [
        "server talkzone-1:8080",
        "server talkzone-2:8080",
        "proxy_set_header Upgrade $http_upgrade",
        "proxy_set_header X-Forwarded-For $remote_addr",
    ] {
        assert!(nginx.contains(needed), "nginx.conf lacks {needed}");
    }
    for needed in ["USER talkzone", "HEALTHCHECK", "STOPSIGNAL SIGTERM", "AS build"] {
        assert!(dockerfile.contains(needed), "the Dockerfile lacks {needed}");
    }
}

#[tokio::test]
async fn admin_create_user_then_sign_in_to_a_server_on_the_same_data() {
    let dir = TempDir::new();

    let mut cmd = talkzone(&dir.0);
    cmd.args(["admin", "create-user", "--username", "boss", "--role", "yot_admin"]);
    let out = run(cmd, Some("a very long admin password\n")).await;
    assert!(out.success, "create-user failed: {}", out.stderr);
    assert!(out.stdout.contains("created"), "{}", out.stdout);
    assert!(out.stdout.contains("yot_admin"), "{}", out.stdout);
    assert!(!out.stdout.contains("a very long admin password") && !out.stderr.contains("a very long admin password"));

    let mut cmd = talkzone(&dir.0);
    cmd.args(["admin", "create-user", "--username", "wiz", "--role", "wizard"]);
    let out = run(cmd, Some("a very long admin password\n")).await;
    assert!(!out.success);
    assert!(out.stderr.contains("wizard") && out.stderr.contains("yot_admin"), "{}", out.stderr);

    let mut cmd = talkzone(&dir.0);
    cmd.args(["admin", "create-user", "--username", "weak", "--role", "duty_worker"]);
    let out = run(cmd, Some("short\n")).await;
    assert!(!out.success);
    assert!(out.stderr.contains("password"), "{}", out.stderr);

    let mut cmd = talkzone(&dir.0);
    cmd.args(["admin", "create-user", "--username", "boss", "--role", "duty_worker"]);
    let out = run(cmd, Some("another long password\n")).await;
    assert!(!out.success, "a duplicate username was created: {}", out.stdout);

    let server = ProcessServer::spawn(&format!("sqlite://{}", dir.0.join("talkzone.db").display()), &dir.0).await;
    let boss = sign_in_enrolling(&server.client, "boss", "a very long admin password").await;
    assert_eq!(boss.user.role, Role::YotAdmin);
    let e = server.client.login("boss", "wrong password!!").await.expect_err("wrong password");
    assert_eq!(e.status(), Some(401));
    let e = server.client.login("wiz", "a very long admin password").await.expect_err("no wizard");
    assert_eq!(e.status(), Some(401));
    let e = server.client.login("weak", "short").await.expect_err("no weak account");
    assert_eq!(e.status(), Some(401));
    // The boss can do admin things.
    let req = CreateUserRequest {
        username: "first-worker".into(),
        password: "worker password 123".into(),
        role: Role::DutyWorker,
        display_name: None,
    };
    let created = server.client.create_user(&boss.access_token, &req).await.expect("boss creates a worker");
    assert_eq!(created.role, Role::DutyWorker);
    // Both accounts are in the audit log: the command's with no actor (it was made at the
    // console), the worker's with the admin who made it. The refused ones left nothing.
    let (status, trail) = server
        .client
        .request::<(), talkzone_tests::api::AuditTrail>(Method::GET, "/v1/admin/audit", Some(&boss.access_token), None)
        .await
        .expect("the audit log");
    assert_eq!(status, StatusCode::OK);
    let created_entries: Vec<_> = trail.entries.iter().filter(|e| e.action == "user_created").collect();
    let of = |id: &str| created_entries.iter().find(|e| e.target.as_deref() == Some(&format!("user:{id}"))).copied();
    let boss_entry = of(boss.user.id.as_str())
        .unwrap_or_else(|| panic!("no user_created for the command's account: {created_entries:?}"));
    assert_eq!(boss_entry.actor_id, None, "made at the console, by no signed-in user");
    let worker_entry =
        of(created.id.as_str()).unwrap_or_else(|| panic!("no user_created for the worker: {created_entries:?}"));
    assert_eq!(worker_entry.actor_id.as_ref(), Some(&boss.user.id));
    assert_eq!(created_entries.len(), 2, "refused accounts leave no entry: {created_entries:?}");
    server.kill9().await;
}
