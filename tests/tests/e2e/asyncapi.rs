//! The AsyncAPI document of the WebSocket protocol: served at `GET /v1/asyncapi.json` as the
//! mobile-api crate generates it, and agreeing with the frames the server really sends (each
//! frame's fields are the ones its message's schema names, with every required one present),
//! and with every kind of frame a client may send.

use serde_json::{json, Value};
use talkzone_mobile_api::{ClientFrame, ConversationId, CreateConversationRequest, Role, ServerFrame};
use talkzone_tests::{both_backends, Backend, TestServer};

/// The problems of one frame (as serde writes it) against the document's message for its type.
fn problems(doc: &Value, from: &str, frame: &Value) -> Vec<String> {
    let t = frame["type"].as_str().unwrap_or_default();
    let Some(payload) = doc.pointer(&format!("/components/messages/{from}.{t}/payload")) else {
        return vec![format!("{from} frame {t:?} has no message")];
    };
    let props = payload["properties"].as_object().cloned().unwrap_or_default();
    let mut out = Vec::new();
    if !props.is_empty() {
        for key in frame.as_object().into_iter().flatten().map(|(k, _)| k) {
            if !props.contains_key(key) {
                out.push(format!("{from}.{t}: field {key} is not in its schema"));
            }
        }
    }
    for required in payload["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if frame.get(required).is_none() {
            out.push(format!("{from}.{t}: required {required} missing from {frame}"));
        }
    }
    out
}

async fn the_document_describes_the_frames_the_server_sends(backend: Backend) {
    let s = TestServer::start(backend).await;
    let doc = s.client.asyncapi().await.unwrap();
    assert_eq!(doc, talkzone_mobile_api::asyncapi(), "served as generated");
    assert_eq!(doc["asyncapi"], json!("3.0.0"));

    // A short session on both sides, keeping every frame the server sends (each step waits,
    // keeping what comes before, for the frame that ends it).
    let mut seen = Vec::new();
    let mut bad = Vec::new();
    let mut keep = |f: &ServerFrame| {
        bad.extend(problems(&doc, "server", &serde_json::to_value(f).unwrap()));
        seen.push(f.type_name());
    };
    async fn until(
        ws: &mut talkzone_mobile_api::client::WsConnection,
        keep: &mut impl FnMut(&ServerFrame),
        done: impl Fn(&ServerFrame) -> bool,
    ) {
        loop {
            let f = ws.recv_timeout(std::time::Duration::from_secs(10)).await.unwrap();
            keep(&f);
            if done(&f) {
                return;
            }
        }
    }
    let pong = |f: &ServerFrame| matches!(f, ServerFrame::Pong { .. });
    let ping = ClientFrame::Ping { nonce: None };
    let worker = s.staff(Role::DutyWorker).await;
    let mut w = s.client.connect(&worker.access_token).await.unwrap();
    w.send(&ClientFrame::QueueWatch).await.unwrap();
    until(&mut w, &mut keep, |f| matches!(f, ServerFrame::QueueSnapshot { .. })).await;
    s.client.set_duty(&worker.access_token, true).await.unwrap();
    let yp = s.young_person().await;
    let mut y = s.client.connect(&yp.access_token).await.unwrap();
    let req = CreateConversationRequest { topic: None, first_message: Some("hello".into()) };
    let conv = s.client.open_conversation(&yp.access_token, &req).await.unwrap().1;
    let id = conv.id.clone();
    y.send(&ClientFrame::Subscribe { conversation_id: id.clone(), after_seq: 0 }).await.unwrap();
    until(&mut y, &mut keep, |f| matches!(f, ServerFrame::Subscribed { .. })).await;
    w.send(&ClientFrame::Accept { conversation_id: id.clone() }).await.unwrap();
    until(&mut w, &mut keep, |f| matches!(f, ServerFrame::Conversation(_))).await;
    w.send(&ClientFrame::Subscribe { conversation_id: id.clone(), after_seq: 0 }).await.unwrap();
    until(&mut w, &mut keep, |f| matches!(f, ServerFrame::Subscribed { .. })).await;
    let send =
        |m: &str, b: &str| ClientFrame::Send { conversation_id: id.clone(), client_msg_id: m.into(), body: b.into() };
    w.send(&send("w-1", "Hi, I'm here")).await.unwrap();
    until(&mut w, &mut keep, |f| matches!(f, ServerFrame::Ack { .. })).await;
    y.send(&ClientFrame::Typing { conversation_id: id.clone() }).await.unwrap();
    y.send(&send("y-1", "thanks")).await.unwrap();
    until(&mut y, &mut keep, |f| matches!(f, ServerFrame::Ack { .. })).await;
    y.send(&ClientFrame::Read { conversation_id: id.clone(), seq: 1 }).await.unwrap();
    y.send(&ClientFrame::Subscribe { conversation_id: ConversationId("nope".into()), after_seq: 0 }).await.unwrap();
    y.send(&ping).await.unwrap();
    until(&mut y, &mut keep, pong).await;
    w.send(&ping).await.unwrap();
    until(&mut w, &mut keep, pong).await;
    assert!(bad.is_empty(), "{bad:#?}");
    for t in ["message", "ack", "subscribed", "conversation", "queue.snapshot", "typing", "error", "pong"] {
        assert!(seen.contains(&t), "the session saw a {t} frame: {seen:?}");
    }
    // Every kind of client frame, as the client writes it.
    let id = ConversationId("c".into());
    let client_frames = [
        ClientFrame::Subscribe { conversation_id: id.clone(), after_seq: 3 },
        ClientFrame::Unsubscribe { conversation_id: id.clone() },
        ClientFrame::Send { conversation_id: id.clone(), client_msg_id: "m".into(), body: "b".into() },
        ClientFrame::Typing { conversation_id: id.clone() },
        ClientFrame::Read { conversation_id: id.clone(), seq: 1 },
        ClientFrame::Accept { conversation_id: id.clone() },
        ClientFrame::Duty { on_duty: true },
        ClientFrame::QueueWatch,
        ClientFrame::ModerationWatch,
        ClientFrame::Ping { nonce: Some(json!(1)) },
        ClientFrame::Auth { access_token: "t".into() },
    ];
    assert_eq!(client_frames.len(), ClientFrame::TYPES.len());
    let bad: Vec<String> =
        client_frames.iter().flat_map(|f| problems(&doc, "client", &serde_json::to_value(f).unwrap())).collect();
    assert!(bad.is_empty(), "{bad:#?}");
    s.stop().await;
}

both_backends!(the_document_describes_the_frames_the_server_sends);
