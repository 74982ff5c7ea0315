//! The AsyncAPI 3.0 document of the WebSocket protocol (`GET /v1/ws`), generated from the same
//! types as the frames, so it cannot drift from them: one message per frame `type` of
//! [`ClientFrame`] and [`ServerFrame`], each with the JSON Schema utoipa derives for it (the
//! schemas it refers to are the same components as in `/v1/openapi.json`). The server serves it
//! at `GET /v1/asyncapi.json`; `docs/asyncapi.json` is a copy a test keeps equal to it.

use serde_json::{json, Map, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::{ClientFrame, ServerFrame};

/// The variant schemas of a frame enum, keyed by their `type` (its `oneOf`, each an object
/// whose `type` property is one constant, or an `allOf` holding one).
fn variants(schema: RefOr<Schema>) -> Vec<(String, Value)> {
    fn type_of(v: &Value) -> Option<String> {
        let t = v.pointer("/properties/type")?;
        t.pointer("/enum/0").or_else(|| t.get("const")).and_then(Value::as_str).map(str::to_owned)
    }
    let schema = serde_json::to_value(schema).unwrap_or(Value::Null);
    let list = schema.get("oneOf").and_then(Value::as_array).cloned().unwrap_or_default();
    list.into_iter()
        .filter_map(|v| {
            let name = type_of(&v).or_else(|| v.get("allOf")?.as_array()?.iter().find_map(type_of))?;
            Some((name, v))
        })
        .collect()
}

/// Adds one message per frame type to `messages` (`<from>.<type>`), and answers their names.
fn frames(from: &str, schema: RefOr<Schema>, types: &[&str], messages: &mut Map<String, Value>) -> Vec<String> {
    let found = variants(schema);
    let mut names = Vec::new();
    for t in types {
        let Some((_, payload)) = found.iter().find(|(name, _)| name == t) else { continue };
        let name = format!("{from}.{t}");
        let title = format!("{t} ({from} to {})", if from == "client" { "server" } else { "client" });
        messages.insert(name.clone(), json!({ "name": t, "title": title, "payload": payload }));
        names.push(name);
    }
    names
}

/// The document.
pub fn asyncapi() -> Value {
    let mut components = Vec::new();
    <ClientFrame as ToSchema>::schemas(&mut components);
    <ServerFrame as ToSchema>::schemas(&mut components);
    components.push((<ClientFrame as ToSchema>::name().into_owned(), ClientFrame::schema()));
    components.push((<ServerFrame as ToSchema>::name().into_owned(), ServerFrame::schema()));
    let schemas: Map<String, Value> =
        components.into_iter().map(|(name, s)| (name, serde_json::to_value(s).unwrap_or(Value::Null))).collect();
    let mut messages = Map::new();
    let sent = frames("client", ClientFrame::schema(), &ClientFrame::TYPES, &mut messages);
    let received = frames("server", ServerFrame::schema(), &ServerFrame::TYPES, &mut messages);
    let channel_messages: Map<String, Value> = messages
        .keys()
        .map(|name| (name.clone(), json!({ "$ref": format!("#/components/messages/{name}") })))
        .collect();
    let refs = |names: &[String]| -> Vec<Value> {
        names.iter().map(|n| json!({ "$ref": format!("#/channels/ws/messages/{n}") })).collect()
    };
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Talk Zone WebSocket protocol",
            "version": "1",
            "description": "The frames of `GET /v1/ws`, generated from the mobile-api crate's ClientFrame and \
                ServerFrame. How to connect (a ticket from `POST /v1/ws-ticket`, or a bearer token), delivery \
                guarantees, resuming from the last `seq` and close codes: docs/protocol.md, \"WebSocket\". \
                REST: `/v1/openapi.json`."
        },
        "defaultContentType": "application/json",
        "channels": {
            "ws": {
                "address": "/v1/ws",
                "title": "One connection per client, JSON text frames both ways",
                "messages": channel_messages
            }
        },
        "operations": {
            "clientFrames": {
                "action": "receive",
                "channel": { "$ref": "#/channels/ws" },
                "summary": "Frames a client sends (the server receives them). Unknown types, unknown fields and wrong field types are answered with `error` `bad_frame`; the connection stays open.",
                "messages": refs(&sent)
            },
            "serverFrames": {
                "action": "send",
                "channel": { "$ref": "#/channels/ws" },
                "summary": "Frames the server sends.",
                "messages": refs(&received)
            }
        },
        "components": { "messages": messages, "schemas": schemas }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_frame_type_is_a_message_with_its_schema() {
        let doc = asyncapi();
        let messages = doc.pointer("/components/messages").and_then(Value::as_object).unwrap();
        for (from, types) in [("client", &ClientFrame::TYPES[..]), ("server", &ServerFrame::TYPES[..])] {
            for t in types {
                let m = messages.get(&format!("{from}.{t}")).unwrap_or_else(|| panic!("no message for {from} {t}"));
                let text = m["payload"].to_string();
                assert!(text.contains(&format!("\"{t}\"")), "{from} {t}: the payload names its type: {text}");
            }
        }
        assert_eq!(messages.len(), ClientFrame::TYPES.len() + ServerFrame::TYPES.len());
        // Every reference points at a schema in the document.
        let text = doc.to_string();
        for part in text.split("\"#/components/schemas/").skip(1) {
            let name = &part[..part.find('"').unwrap()];
            assert!(doc.pointer(&format!("/components/schemas/{name}")).is_some(), "dangling reference {name}");
        }
    }

    /// `docs/asyncapi.json` is the generated document (regenerate it with
    /// `TALKZONE_WRITE_ASYNCAPI=1 cargo test -p talkzone-mobile-api asyncapi`).
    #[test]
    fn the_copy_in_docs_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/asyncapi.json");
        let generated = serde_json::to_string_pretty(&asyncapi()).unwrap() + "\n";
        if std::env::var_os("TALKZONE_WRITE_ASYNCAPI").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let kept = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(kept == generated, "docs/asyncapi.json is stale: regenerate it (see this test's comment)");
    }
}
