//! A paused node must not stall the other node's chats (issue 22). Two real `talkzone`
//! processes on PostgreSQL and Redis; node A is frozen with SIGSTOP (as a VM pause does) while
//! it is inside a transaction that has written to a chat's row. Node B's clients, writing to
//! the same chat, must keep getting `pong`s at once, and `ack`s once PostgreSQL has ended A's
//! idle transaction (`idle_in_transaction_session_timeout`), not when A wakes up.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use talkzone_mobile_api::{ClientFrame, ConversationId, CreateConversationRequest, Role, ServerFrame};
use talkzone_tests::cluster::RedisServer;
use talkzone_tests::{create_account_in, eventually, fresh_database, Backend, ProcessServer, TempDir, TEST_PASSWORD};

/// What the nodes are told: a session idle inside a transaction is ended after this.
const IDLE_IN_TRANSACTION_MS: u64 = 2_000;
/// How long node A stays frozen: four times that.
const FROZEN: Duration = Duration::from_secs(8);

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill").args([sig, &pid.to_string()]).status().expect("run kill").success();
    assert!(ok, "kill {sig} {pid} failed");
}

/// Wakes the node however the test ends (a stopped process would outlive a failed test).
struct Wake(u32);

impl Drop for Wake {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-CONT", &self.0.to_string()]).status();
    }
}

/// Whether node `pid`'s sessions include one idle inside a transaction that has written to
/// `conversations` (the lock every write to a chat takes, held until the transaction ends).
async fn idle_in_a_writing_transaction(pg: &sqlx::PgPool, pid: u32) -> bool {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid \
         WHERE a.application_name = $1 AND a.state = 'idle in transaction' \
         AND l.relation = 'conversations'::regclass AND l.mode = 'RowExclusiveLock' AND l.granted",
    )
    .bind(format!("talkzone {pid}"))
    .fetch_one(pg)
    .await
    .expect("read pg_stat_activity");
    n > 0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_node_does_not_stall_the_other_nodes_chats() {
    let redis = RedisServer::start().await;
    let dir = TempDir::new();
    let db = fresh_database(Backend::Postgres, &dir.0).await;
    let idle = IDLE_IN_TRANSACTION_MS.to_string();
    let lock = (2 * IDLE_IN_TRANSACTION_MS).to_string();
    let env = [
        ("TALKZONE_REDIS_URL", redis.url()),
        ("TALKZONE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", idle),
        ("TALKZONE_DB_LOCK_TIMEOUT_MS", lock),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = ProcessServer::spawn_with(&db, &dir.0, &env).await;
    let b = ProcessServer::spawn_with(&db, &dir.0, &env).await;
    let pid_a = a.child.id().expect("node A runs");
    let _wake = Wake(pid_a);

    // One chat, written from both nodes: the worker on A, the young person on B.
    create_account_in(&db, "worker1", Role::DutyWorker).await;
    let worker = a.client.login("worker1", TEST_PASSWORD).await.unwrap();
    let yp = b.client.anonymous().await.unwrap();
    let req = CreateConversationRequest { topic: None, first_message: Some("hi".into()) };
    let (_, conv) = b.client.open_conversation(&yp.access_token, &req).await.unwrap();
    a.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let mut yp_ws = b.client.connect(&yp.access_token).await.unwrap();
    yp_ws.subscribe(&conv.id, 0).await.unwrap();

    // The worker writes on A without pause, so that A is often inside a message's transaction.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (client, token, id, stop) = (a.client.clone(), worker.access_token.clone(), conv.id.clone(), stop.clone());
        tokio::spawn(async move {
            let mut ws = client.connect(&token).await.unwrap();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let frame = ClientFrame::Send {
                    conversation_id: id.clone(),
                    client_msg_id: format!("w{i}"),
                    body: format!("w {i}"),
                };
                if ws.send(&frame).await.is_err() {
                    break;
                }
                i += 1;
                let _ = tokio::time::timeout(Duration::from_millis(2), ws.recv()).await;
            }
        })
    };

    // Freeze A, and look: inside a writing transaction? If not, wake it and try again.
    let pg = sqlx::PgPool::connect(&db).await.unwrap();
    let mut tries = 0;
    loop {
        tries += 1;
        assert!(tries <= 300, "node A was never caught inside a writing transaction");
        signal(pid_a, "-STOP");
        // PostgreSQL finishes the statement in hand; the session is then idle in the transaction.
        tokio::time::sleep(Duration::from_millis(30)).await;
        if idle_in_a_writing_transaction(&pg, pid_a).await {
            break;
        }
        signal(pid_a, "-CONT");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let frozen_at = Instant::now();
    println!("node A frozen inside a transaction holding the chat's row, after {tries} tries");

    // Node B's young person pings every 200 ms and sends every 400 ms, while A stays frozen.
    let (mut pings, mut sends): (HashMap<String, Instant>, HashMap<String, Instant>) = Default::default();
    let (mut pong_ms, mut ack_ms): (Vec<u128>, HashMap<String, u128>) = Default::default();
    let mut acked_while_frozen = 0;
    let mut errors = Vec::new();
    let mut tick = 0u32;
    let mut next_tick = Instant::now();
    let mut read = |f: ServerFrame, pings: &mut HashMap<String, Instant>, sends: &mut HashMap<String, Instant>| match f
    {
        ServerFrame::Pong { nonce: Some(n) } => {
            if let Some(at) = n.as_str().and_then(|n| pings.remove(n)) {
                pong_ms.push(at.elapsed().as_millis());
            }
        }
        ServerFrame::Ack { client_msg_id, .. } => {
            if let Some(at) = sends.remove(&client_msg_id) {
                ack_ms.insert(client_msg_id, at.elapsed().as_millis());
                if frozen_at.elapsed() < FROZEN {
                    acked_while_frozen += 1;
                }
            }
        }
        ServerFrame::Error { code, message, reference, .. } => errors.push(format!("{code:?} {message} {reference:?}")),
        _ => {}
    };
    while frozen_at.elapsed() < FROZEN {
        if Instant::now() >= next_tick {
            let nonce = format!("p{tick}");
            yp_ws.send(&ClientFrame::Ping { nonce: Some(json!(nonce)) }).await.unwrap();
            pings.insert(nonce, Instant::now());
            if tick.is_multiple_of(2) {
                let id = format!("y{tick}");
                let frame =
                    ClientFrame::Send { conversation_id: conv.id.clone(), client_msg_id: id.clone(), body: id.clone() };
                yp_ws.send(&frame).await.unwrap();
                sends.insert(id, Instant::now());
            }
            tick += 1;
            next_tick += Duration::from_millis(200);
        }
        if let Ok(f) = tokio::time::timeout(next_tick.saturating_duration_since(Instant::now()), yp_ws.recv()).await {
            read(f.expect("node B's connection stays up"), &mut pings, &mut sends);
        }
    }
    let late_pings: Vec<u128> = pings.values().map(|at| at.elapsed().as_millis()).filter(|ms| *ms > 1_000).collect();
    signal(pid_a, "-CONT");
    // Whatever is still waiting to be stored, after A wakes.
    let wait_until = Instant::now() + Duration::from_secs(10);
    while !sends.is_empty() && Instant::now() < wait_until {
        if let Ok(f) = tokio::time::timeout(Duration::from_millis(200), yp_ws.recv()).await {
            read(f.unwrap(), &mut pings, &mut sends);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = writer.await;

    let worst_pong = pong_ms.iter().copied().max().unwrap_or(0);
    let worst_ack = ack_ms.values().copied().max().unwrap_or(0);
    println!(
        "while A was frozen for {FROZEN:?}: {} pongs (worst {worst_pong} ms), {} of {} sends acked (worst {worst_ack} ms, \
         {acked_while_frozen} before A woke)",
        pong_ms.len(),
        ack_ms.len(),
        ack_ms.len() + sends.len()
    );
    assert!(
        late_pings.is_empty() && worst_pong < 1_000,
        "pings went unanswered: {late_pings:?}, worst {worst_pong} ms"
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert!(sends.is_empty(), "sends never acknowledged: {:?}", sends.keys());
    // The first sends waited on A's lock until PostgreSQL ended A's session; none waited for A.
    let bound = u128::from(IDLE_IN_TRANSACTION_MS) + 2_000;
    assert!(worst_ack >= 500, "node B never waited on A's lock: was A caught holding it? ({worst_ack} ms)");
    assert!(worst_ack < bound, "an ack waited {worst_ack} ms, past the idle-in-transaction bound");
    assert!(acked_while_frozen >= ack_ms.len() / 2, "acks kept coming while A was frozen");

    // Nothing acknowledged is lost, and node A, awake again, works.
    let mut history = Vec::new();
    loop {
        let after = history.last().map_or(0, |m: &talkzone_mobile_api::MessageView| m.seq);
        let page = b.client.messages(&yp.access_token, &conv.id, after, Some(500)).await.unwrap().messages;
        if page.is_empty() {
            break;
        }
        history.extend(page);
    }
    let seqs: Vec<i64> = history.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=history.len() as i64).collect::<Vec<_>>(), "no gap, no duplicate");
    for id in ack_ms.keys() {
        assert!(history.iter().any(|m| m.client_msg_id.as_deref() == Some(id.as_str())), "{id} was acked but lost");
    }
    let id = ConversationId(conv.id.0.clone());
    eventually(Duration::from_secs(15), "node A to store a message again", || async {
        let mut ws = a.client.connect(&worker.access_token).await.map_err(|e| e.to_string())?;
        match ws.send_message(&id, &format!("after-{}", ulid::Ulid::new()), "back").await {
            Ok(ServerFrame::Ack { .. }) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
}
