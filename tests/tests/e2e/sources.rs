//! One source of traffic cannot bury a real child (issue 22): an address may have only a few
//! chats waiting, the queue serves every address's first waiting chat before anyone's second,
//! anonymous sign-ups past a few cost a growing wait, and a supervisor can mark a chat as abuse
//! (closed, its address blocked for a while, audited). Clients here come through a trusted
//! proxy (`X-Forwarded-For`), each from its own address.

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue};
use talkzone_mobile_api::client::{Client, ClientError};
use talkzone_mobile_api::{
    AuditQuery, ConversationView, CreateConversationRequest, EscalationListQuery, MarkAbuseRequest, Role, TokenResponse,
};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_tests::{both_backends, Backend, TestServer};

/// A client whose requests come from `ip`, as the proxy in front of the server says.
fn from(s: &TestServer, ip: &str) -> Client {
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", HeaderValue::from_str(ip).unwrap());
    Client::with_headers(&s.base, headers).unwrap()
}

/// A server that believes 127.0.0.1 about client addresses, and keeps sources as production
/// does (the harness turns them off: every test client is otherwise one address).
async fn server(backend: Backend, clock: Arc<ManualClock>, free_signups: u32) -> TestServer {
    TestServer::builder(backend)
        .clock(clock)
        .config(move |c| {
            c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            c.limits.open_chats_per_source = 3;
            c.limits.signups_free_per_source = free_signups;
        })
        .start()
        .await
}

async fn open(client: &Client, yp: &TokenResponse, first: &str) -> Result<ConversationView, ClientError> {
    let req = CreateConversationRequest { topic: None, first_message: Some(first.into()) };
    client.open_conversation(&yp.access_token, &req).await.map(|(_, c)| c)
}

async fn position(s: &TestServer, yp: &TokenResponse, chat: &ConversationView) -> u32 {
    s.client.conversation(&yp.access_token, &chat.id).await.unwrap().queue_position.expect("waiting")
}

const CRISIS: &str = "i'm going to kill myself tonight";

/// The scenario: ten fake chats with a suicide phrase from one address pushed a real
/// young person from 6th to 16th, and raised ten escalations. Now three get in (the rest are
/// told kindly to try later, with where to get help now); of those, the first ranks by its risk
/// as any chat does (it cannot be told from a child in danger), and the others wait behind
/// every other address's first chat: the real child moves one place, not ten. Marked as abuse,
/// the address is blocked and the child is back where they were.
async fn ten_fake_chats_from_one_source_do_not_bury_a_real_child(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = server(backend, clock.clone(), 20).await;
    let admin = s.staff(Role::YotAdmin).await;
    let supervisor = s.staff(Role::Supervisor).await;
    for i in 1..=5 {
        let c = from(&s, &format!("198.51.100.{i}"));
        let yp = c.anonymous().await.unwrap();
        open(&c, &yp, "hi, is anyone there").await.unwrap();
        // Waiting time orders chats of equal risk: a second apart.
        clock.advance_ms(1_000);
    }
    let child_client = from(&s, "198.51.100.6");
    let child = child_client.anonymous().await.unwrap();
    let chat = open(&child_client, &child, "hi, is anyone there").await.unwrap();
    assert_eq!(position(&s, &child, &chat).await, 6);

    let attacker = from(&s, "203.0.113.66");
    let mut admitted = Vec::new();
    let mut refused = 0;
    clock.advance_ms(1_000);
    for _ in 0..10 {
        clock.advance_ms(1_000);
        let fake = attacker.anonymous().await.unwrap();
        match open(&attacker, &fake, CRISIS).await {
            Ok(c) => admitted.push((fake, c)),
            Err(e) => {
                assert_eq!(e.status(), Some(429), "{e}");
                assert!(e.to_string().contains("999"), "where to get help now: {e}");
                refused += 1;
            }
        }
    }
    assert_eq!((admitted.len(), refused), (3, 7));
    assert_eq!(position(&s, &child, &chat).await, 7, "one place down, for the address's first chat");
    let fake_positions: Vec<u32> = {
        let mut p = Vec::new();
        for (fake, c) in &admitted {
            p.push(position(&s, fake, c).await);
        }
        p
    };
    assert_eq!(fake_positions, vec![1, 8, 9], "its other chats wait behind every other address's first");
    let open_escalations = EscalationListQuery { state: Some("open".into()), limit: None, offset: None };
    let escalations = s.client.list_escalations(&supervisor.access_token, &open_escalations).await.unwrap();
    assert_eq!(escalations.escalations.len(), 3, "no more escalations than chats let in");

    // A supervisor marks the first as abuse: closed, its escalation resolved, the address blocked.
    let mark = MarkAbuseRequest { reason: "script: identical messages".into(), block_hours: Some(2) };
    let marked = s.client.mark_abuse(&supervisor.access_token, &admitted[0].1.id, &mark).await.unwrap();
    assert_eq!(marked.outcome.as_deref(), Some("marked_as_abuse"));
    let escalations = s.client.list_escalations(&supervisor.access_token, &open_escalations).await.unwrap();
    assert_eq!(escalations.escalations.len(), 2, "its escalation is resolved");
    assert_eq!(position(&s, &child, &chat).await, 6, "the child is back where they were");
    let log = s.client.audit_log(&admin.access_token, &AuditQuery { days: Some(1) }).await.unwrap();
    let entry =
        log.entries.iter().find(|e| e.action == "conversation_marked_abuse").expect("marking is in the audit log");
    assert_eq!(entry.actor_id.as_ref(), Some(&supervisor.user.id));
    assert_eq!(entry.target.as_deref(), Some(format!("conversation:{}", admitted[0].1.id).as_str()));

    // The address can neither sign up nor open a chat; another address can.
    let blocked = attacker.anonymous().await.unwrap_err();
    assert_eq!(blocked.status(), Some(403), "{blocked}");
    let (earlier_account, _) = &admitted[0];
    let again = open(&attacker, earlier_account, "hello").await.unwrap_err();
    assert_eq!(again.status(), Some(403), "{again}");
    assert!(again.to_string().contains("999"), "{again}");
    from(&s, "203.0.113.67").anonymous().await.unwrap();
    // Only supervisors mark; a chat already closed cannot be marked again.
    let worker = s.staff(Role::DutyWorker).await;
    let e = s.client.mark_abuse(&worker.access_token, &admitted[1].1.id, &mark).await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    let e = s.client.mark_abuse(&supervisor.access_token, &admitted[0].1.id, &mark).await.unwrap_err();
    assert_eq!(e.status(), Some(409));
    let too_long = MarkAbuseRequest { reason: "x".into(), block_hours: Some(24 * 365) };
    let e = s.client.mark_abuse(&supervisor.access_token, &admitted[1].1.id, &too_long).await.unwrap_err();
    assert_eq!(e.status(), Some(422));

    // For a while only.
    clock.advance_ms(2 * 3_600_000 + 1_000);
    attacker.anonymous().await.expect("the block has ended");
    s.stop().await;
}

/// The case: one address made 121 accounts at once. Past the free sign-ups each one
/// makes the address wait twice as long as the last before the next.
async fn sign_ups_past_the_free_ones_cost_a_growing_wait(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = server(backend, clock.clone(), 5).await;
    let one = from(&s, "203.0.113.9");
    let mut made = 0;
    let mut first_refusal = None;
    for _ in 0..121 {
        match one.anonymous().await {
            Ok(_) => made += 1,
            Err(e) => {
                first_refusal.get_or_insert(e);
            }
        }
    }
    assert_eq!(made, 6, "five free, and the first that costs a wait");
    let e = first_refusal.unwrap();
    assert_eq!(e.status(), Some(429));
    let ClientError::Api { retry_after, .. } = e else { panic!("{e}") };
    assert_eq!(retry_after, Some(1));
    from(&s, "203.0.113.10").anonymous().await.expect("another address pays nothing");

    let mut waits = Vec::new();
    for _ in 0..5 {
        let wait = match one.anonymous().await {
            Err(ClientError::Api { status: 429, retry_after: Some(w), .. }) => w,
            other => panic!("expected a wait, got {other:?}"),
        };
        clock.advance_ms(wait as i64 * 1_000);
        one.anonymous().await.expect("after the wait");
        waits.push(wait);
    }
    assert_eq!(waits, vec![1, 2, 4, 8, 16], "each wait twice the last");
    s.stop().await;
}

both_backends!(
    ten_fake_chats_from_one_source_do_not_bury_a_real_child,
    sign_ups_past_the_free_ones_cost_a_growing_wait
);
