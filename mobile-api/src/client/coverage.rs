//! The route table at the top of `client/mod.rs` against the server's routers and this
//! client's methods, so a route without a method (or a row naming a method that is gone) fails
//! here. It reads the server's source, not a running server: `server/src/http/` beside this
//! crate, every `#[utoipa::path(method, path = "…")]` and `.route("…", method(…))`. Without
//! that directory (this crate built on its own) only the client half is checked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const CRATE: &str = env!("CARGO_MANIFEST_DIR");

/// `METHOD /path` → the methods its row names.
fn table() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(Path::new(CRATE).join("src/client/mod.rs")).unwrap();
    let mut rows = Vec::new();
    for line in text.lines() {
        let Some(row) = line.strip_prefix("//! | `") else { continue };
        let route = row.split('`').next().unwrap().to_owned();
        let methods = row.split("[`Client::").skip(1).map(|m| m.split('`').next().unwrap().to_owned()).collect();
        rows.push((route, methods));
    }
    rows
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The `pub fn`/`pub async fn` names in a file.
fn pub_fns(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines().filter_map(|l| {
        let l = l.trim_start();
        let rest = l.strip_prefix("pub async fn ").or_else(|| l.strip_prefix("pub fn "))?;
        Some(rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next()?.to_owned())
    })
}

/// Every `METHOD /path` the server routes, from its source.
fn server_routes(dir: &Path) -> BTreeSet<String> {
    let mut routes = BTreeSet::new();
    for file in rust_files(dir) {
        // The web pages (`/`, `/console`, `/web/{name}` …) are documents, not API routes.
        if file.file_name().is_some_and(|n| n == "web.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for attr in text.split("#[utoipa::path(").skip(1) {
            let method = attr.split(',').next().unwrap().trim().to_uppercase();
            let path = attr.split("path = \"").nth(1).and_then(|p| p.split('"').next()).unwrap();
            routes.insert(format!("{method} {path}"));
        }
        for call in text.split(".route(").skip(1) {
            let mut parts = call.trim_start().splitn(3, '"');
            let (Some(""), Some(path), Some(rest)) = (parts.next(), parts.next(), parts.next()) else { continue };
            let method = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace()).split('(').next().unwrap();
            if ["get", "post", "put", "delete", "patch"].contains(&method) {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    routes
}

#[test]
fn every_row_names_methods_that_exist_and_every_method_has_a_row() {
    let rows = table();
    assert!(rows.len() > 50, "the table was not found: {} rows", rows.len());
    let mut seen = BTreeSet::new();
    for (route, methods) in &rows {
        assert!(seen.insert(route.clone()), "{route} is in the table twice");
        assert!(!methods.is_empty(), "{route} names no method");
    }
    let mut defined = BTreeSet::new();
    let mut routed = BTreeSet::new();
    for file in rust_files(&Path::new(CRATE).join("src/client")) {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        for f in pub_fns(&text) {
            // mod.rs holds the generic calls (`request`, `raw`), ws.rs the socket: no row each.
            if !["mod.rs", "ws.rs", "coverage.rs"].contains(&name.as_str()) {
                routed.insert(f.clone());
            }
            defined.insert(f);
        }
    }
    let named: BTreeSet<String> = rows.iter().flat_map(|(_, m)| m.iter().cloned()).collect();
    let missing: Vec<_> = named.difference(&defined).collect();
    assert!(missing.is_empty(), "the table names methods the client does not have: {missing:?}");
    let unlisted: Vec<_> = routed.difference(&named).collect();
    assert!(unlisted.is_empty(), "client methods missing from the route table: {unlisted:?}");
}

#[test]
fn every_server_route_has_a_client_method() {
    let dir = Path::new(CRATE).join("../server/src/http");
    assert!(dir.is_dir(), "{} not found: the server's routes cannot be checked", dir.display());
    let server = server_routes(&dir);
    assert!(server.len() > 50, "the server's routes were not found: {server:?}");
    let table: BTreeSet<String> = table().into_iter().map(|(r, _)| r).collect();
    let uncovered: Vec<_> = server.difference(&table).collect();
    assert!(uncovered.is_empty(), "routes with no client method (add one and a row in client/mod.rs): {uncovered:?}");
    let stale: Vec<_> = table.difference(&server).collect();
    assert!(stale.is_empty(), "rows for routes the server does not have: {stale:?}");
}
