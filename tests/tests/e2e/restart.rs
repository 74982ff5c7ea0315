//! `kill -9` of the real binary mid-conversation loses nothing that was acknowledged: after a
//! restart on the same database every acked message is there with its `seq`, the sequence
//! has no gaps, and resending what was not acked never duplicates.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use talkzone_mobile_api::{ClientFrame, CreateConversationRequest, Role, ServerFrame};
use talkzone_tests::{
    both_backends, create_account_in, fresh_database, sign_in_enrolling, Backend, ProcessServer, TempDir, TEST_PASSWORD,
};

async fn acked_messages_survive_kill_9(backend: Backend) {
    let dir = TempDir::new();
    let db = fresh_database(backend, &dir.0).await;
    let server = ProcessServer::spawn(&db, &dir.0).await;

    create_account_in(&db, "worker1", Role::DutyWorker).await;

    let yp = server.client.anonymous().await.unwrap();
    let worker = sign_in_enrolling(&server.client, "worker1", TEST_PASSWORD).await;
    let (_, conv) =
        server.client.open_conversation(&yp.access_token, &CreateConversationRequest::default()).await.unwrap();
    server.client.accept(&worker.access_token, &conv.id).await.unwrap();

    // The young person sends without waiting for each ack; the node dies mid-stream.
    let mut ws = server.client.connect(&yp.access_token).await.unwrap();
    let ids: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    for id in &ids[..120] {
        ws.send(&ClientFrame::Send {
            conversation_id: conv.id.clone(),
            client_msg_id: id.clone(),
            body: format!("body {id}"),
        })
        .await
        .unwrap();
    }
    let mut acked: HashMap<String, i64> = HashMap::new();
    while acked.len() < 15 {
        match ws.recv_timeout(Duration::from_secs(10)).await.unwrap() {
            ServerFrame::Ack { client_msg_id, seq: Some(seq), .. } => {
                acked.insert(client_msg_id, seq);
            }
            ServerFrame::Error { code, message, .. } => panic!("unexpected error {code:?}: {message}"),
            _ => {}
        }
    }
    server.kill9().await;
    // Whatever acks were already on the wire were sent after the commit: collect them too.
    while let Ok(Ok(f)) = tokio::time::timeout(Duration::from_millis(200), ws.recv()).await {
        if let ServerFrame::Ack { client_msg_id, seq: Some(seq), .. } = f {
            acked.insert(client_msg_id, seq);
        }
    }

    let server = ProcessServer::spawn(&db, &dir.0).await;
    let mut history = Vec::new();
    let mut after = 0;
    loop {
        let page = server.client.messages(&yp.access_token, &conv.id, after, Some(500)).await.unwrap();
        if page.messages.is_empty() {
            break;
        }
        after = page.next_after_seq;
        history.extend(page.messages);
    }
    eprintln!("{backend:?}: 120 sent, {} acked before kill -9, {} stored (incl. 1 system)", acked.len(), history.len());
    let seqs: Vec<i64> = history.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=history.len() as i64).collect::<Vec<_>>(), "gap-free after the crash");
    let stored: HashMap<String, i64> =
        history.iter().filter_map(|m| m.client_msg_id.clone().map(|c| (c, m.seq))).collect();
    for (id, seq) in &acked {
        assert_eq!(stored.get(id), Some(seq), "acked message {id} lost or moved");
    }

    // The client resends everything it has no ack for (and more): nothing is duplicated.
    let mut ws = server.client.connect(&yp.access_token).await.unwrap();
    for id in ids.iter().filter(|id| !acked.contains_key(*id)) {
        let f = ws.send_message(&conv.id, id, &format!("body {id}")).await.unwrap();
        assert!(matches!(f, ServerFrame::Ack { .. } | ServerFrame::Error { .. }), "{f:?}");
        if let ServerFrame::Error { code, .. } = f {
            // Rate limits may refuse some resends; that is a clear answer, never a duplicate.
            assert_eq!(code, talkzone_mobile_api::ErrorCode::RateLimited);
        }
    }
    let page = server.client.messages(&yp.access_token, &conv.id, 0, Some(500)).await.unwrap();
    let mut seen = HashSet::new();
    for m in &page.messages {
        if let Some(c) = &m.client_msg_id {
            assert!(seen.insert(c.clone()), "duplicate {c}");
        }
    }
    let seqs: Vec<i64> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=page.messages.len() as i64).collect::<Vec<_>>());
    server.kill9().await;
}

both_backends!(acked_messages_survive_kill_9);
