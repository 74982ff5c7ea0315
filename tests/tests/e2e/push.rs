//! Push notifications (docs/protocol.md, "Push notifications") against a local Web Push service
//! that checks VAPID and decrypts the payload as a browser would (`talkzone_tests::push`): a
//! worker accepting and a reply while the young person has no socket reach their device with
//! the fixed, content-free words; one notification per chat per window; a "gone" subscription
//! is removed; a push service that fails or hangs never delays or loses a message; sign-out
//! removes the session's devices; bad subscriptions are refused with a clear answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use talkzone_mobile_api::{
    CreateConversationRequest, NewPushSubscription, PushKind, PushPayload, Role, ServerFrame, WebPushKeys,
    MAX_PUSH_SUBSCRIPTIONS,
};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_tests::push::{Answer, PushService};
use talkzone_tests::{both_backends, eventually, Backend, TestServer};

const WAIT: Duration = Duration::from_secs(10);
const SECRET_WORDS: &str = "my secret about home";

async fn server(backend: Backend, clock: Option<Arc<ManualClock>>) -> TestServer {
    let mut b = TestServer::builder(backend).config(|c| {
        c.push.vapid_subject = Some("mailto:duty@example.org".into());
        c.push.allow_plain_http = true;
        c.push.timeout = Duration::from_secs(2);
    });
    if let Some(clock) = clock {
        b = b.clock(clock);
    }
    b.start().await
}

/// yp's chat with a first message that must never reach a push service.
async fn chat(s: &TestServer, yp: &talkzone_mobile_api::TokenResponse) -> talkzone_mobile_api::ConversationId {
    let req = CreateConversationRequest { topic: None, first_message: Some(SECRET_WORDS.into()) };
    s.client.open_conversation(&yp.access_token, &req).await.unwrap().1.id
}

async fn accepted_and_replies_reach_the_device_content_free(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = server(backend, Some(clock.clone())).await;
    let service = PushService::start().await;
    let yp = s.young_person().await;
    let key = s.client.web_push_key().await.unwrap().public_key;
    let made = s.client.create_push_subscription(&yp.access_token, &service.subscribe("yp-phone")).await.unwrap();
    assert_eq!(made.kind, PushKind::WebPush);
    let conv = chat(&s, &yp).await;

    let worker = s.staff(Role::DutyWorker).await;
    s.client.accept(&worker.access_token, &conv).await.unwrap();
    let got = eventually(WAIT, "the accept notification", || async { service.received().into_iter().next() }).await;
    let payload = got.payload.clone().expect("VAPID verified and the payload decrypted");
    assert_eq!(got.vapid_key, key, "signed with the key the server advertises");
    let parsed: PushPayload = serde_json::from_str(&payload).unwrap();
    assert_eq!(parsed, PushPayload::default(), "the fixed words only");
    assert!(!payload.contains("secret") && !payload.contains("Talk Zone"), "no message text, no service name");
    assert_eq!((got.ttl.as_deref(), got.urgency.as_deref()), (Some("86400"), Some("high")));

    // A reply at once is inside the window: coalesced. After the window, the next reply notifies.
    let mut w = s.client.connect(&worker.access_token).await.unwrap();
    w.send_message(&conv, "w-1", "Hello, I'm Sam, are you OK?").await.unwrap();
    clock.advance_ms(121_000);
    w.send_message(&conv, "w-2", "Still here when you're ready").await.unwrap();
    let all = eventually(WAIT, "the reply notification after the window", || async {
        let r = service.received();
        (r.len() >= 2).then_some(r)
    })
    .await;
    assert_eq!(all.len(), 2, "one per window: {all:?}");
    for r in &all {
        let p = r.payload.clone().unwrap();
        assert!(!p.contains("Sam") && !p.contains("ready"), "no message text: {p}");
    }
    let list = s.client.push_subscriptions(&yp.access_token).await.unwrap();
    assert!(list.subscriptions[0].last_success_at.is_some());
    let listed = serde_json::to_string(&list).unwrap();
    assert!(!listed.contains(&service.addr.to_string()), "never the endpoint");
    s.stop().await;
}

async fn a_gone_subscription_is_removed(backend: Backend) {
    let s = server(backend, None).await;
    let service = PushService::start().await;
    service.answer(Answer::Gone);
    let yp = s.young_person().await;
    s.client.create_push_subscription(&yp.access_token, &service.subscribe("old-phone")).await.unwrap();
    let conv = chat(&s, &yp).await;
    let worker = s.staff(Role::DutyWorker).await;
    s.client.accept(&worker.access_token, &conv).await.unwrap();
    eventually(WAIT, "the gone subscription removed", || async {
        s.client.push_subscriptions(&yp.access_token).await.unwrap().subscriptions.is_empty()
    })
    .await;
    assert_eq!(service.received().len(), 1, "tried once, not retried");
    s.stop().await;
}

async fn a_failing_or_hanging_push_service_never_delays_a_message(backend: Backend) {
    for answer in [Answer::ServerError, Answer::Hang] {
        let s = server(backend, None).await;
        let service = PushService::start().await;
        service.answer(answer);
        let yp = s.young_person().await;
        s.client.create_push_subscription(&yp.access_token, &service.subscribe("phone")).await.unwrap();
        let conv = chat(&s, &yp).await;
        let worker = s.staff(Role::DutyWorker).await;
        s.client.accept(&worker.access_token, &conv).await.unwrap();
        eventually(WAIT, "the first push attempt", || async { !service.received().is_empty() }).await;
        // While the push service fails or hangs, messages go on at once, both ways.
        let mut w = s.client.connect(&worker.access_token).await.unwrap();
        let started = Instant::now();
        for i in 0..5 {
            let ack = w.send_message(&conv, &format!("w-{i}"), "a reply").await.unwrap();
            assert!(matches!(ack, ServerFrame::Ack { .. }), "{answer:?}: {ack:?}");
        }
        assert!(started.elapsed() < Duration::from_secs(2), "{answer:?}: messages waited {:?}", started.elapsed());
        let page = s.client.messages(&yp.access_token, &conv, 0, None).await.unwrap();
        assert_eq!(page.messages.iter().filter(|m| m.body == "a reply").count(), 5, "{answer:?}: none lost");
        if answer == Answer::ServerError {
            // Retried with backoff (1 s, then 2 s).
            eventually(WAIT, "a retry after a 500", || async { service.received().len() >= 2 }).await;
        }
        assert_eq!(
            s.client.push_subscriptions(&yp.access_token).await.unwrap().subscriptions.len(),
            1,
            "a failing service is not a gone device"
        );
        s.stop().await;
    }
}

async fn sign_out_removes_the_sessions_devices(backend: Backend) {
    let s = server(backend, None).await;
    let service = PushService::start().await;
    let yp = s.young_person().await;
    s.client.create_push_subscription(&yp.access_token, &service.subscribe("phone")).await.unwrap();
    let device = s.client.create_device_credential(&yp.access_token).await.unwrap();
    s.client.logout(&yp.refresh_token).await.unwrap();
    let back = s.client.sign_in_with_device(&device.credential).await.unwrap();
    assert!(s.client.push_subscriptions(&back.access_token).await.unwrap().subscriptions.is_empty());
    s.stop().await;
}

async fn bad_subscriptions_get_a_clear_answer(backend: Backend) {
    let s = server(backend, None).await;
    let service = PushService::start().await;
    let yp = s.young_person().await;
    let good = service.subscribe("good");
    let NewPushSubscription::WebPush { keys, .. } = good.clone() else { unreachable!() };
    let web = |endpoint: &str, keys: WebPushKeys| NewPushSubscription::WebPush {
        endpoint: endpoint.into(),
        keys,
        device_label: None,
    };
    let cases = [
        (web("not a url", keys.clone()), "not a URL"),
        (web("http://push.example.org/p/1", keys.clone()), "https"),
        (web("ftp://127.0.0.1/p", keys.clone()), "https"),
        // a host that is not a browser's push service: never reached (server-side request forgery)
        (web("https://10.0.0.5/p", keys.clone()), "push service"),
        (web("https://intranet.council.local/admin", keys.clone()), "push service"),
        (web(&format!("https://push.example.org/{}", "a".repeat(2000)), keys.clone()), "longer than"),
        (web("https://push.example.org/p", WebPushKeys { p256dh: "!!".into(), auth: keys.auth.clone() }), "p256dh"),
        (
            web(
                "https://push.example.org/p",
                WebPushKeys { p256dh: format!("BA{}", "A".repeat(85)), auth: keys.auth.clone() },
            ),
            "p256dh",
        ),
        (
            web("https://push.example.org/p", WebPushKeys { p256dh: keys.p256dh.clone(), auth: "AAAA".into() }),
            "16 bytes",
        ),
        (NewPushSubscription::Fcm { token: "a".repeat(5000), device_label: None }, "FCM"),
        (NewPushSubscription::Apns { token: "not-hex".into(), device_label: None }, "APNs"),
        (NewPushSubscription::Fcm { token: "tok".into(), device_label: Some("x".repeat(65)) }, "device_label"),
    ];
    for (sub, says) in cases {
        let e = s.client.create_push_subscription(&yp.access_token, &sub).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{sub:?}");
        assert!(e.to_string().contains(says), "{sub:?}: {e}");
    }
    // The same device again: the same subscription, 200 (the client sees the same id).
    let a = s.client.create_push_subscription(&yp.access_token, &good).await.unwrap();
    let b = s.client.create_push_subscription(&yp.access_token, &good).await.unwrap();
    assert_eq!(a.id, b.id);
    // Another young person cannot remove it: 404, as for a made-up id.
    let other = s.young_person().await;
    let e = s.client.delete_push_subscription(&other.access_token, &a.id).await.unwrap_err();
    assert_eq!(e.status(), Some(404));
    let e = s.client.delete_push_subscription(&other.access_token, "01ARZ3NDEKTSV4RRFFQ69G5FAV").await.unwrap_err();
    assert_eq!(e.status(), Some(404));
    // At most ten devices.
    for i in 1..MAX_PUSH_SUBSCRIPTIONS {
        let sub = NewPushSubscription::Fcm { token: format!("token-{i}"), device_label: None };
        s.client.create_push_subscription(&yp.access_token, &sub).await.unwrap();
    }
    let sub = NewPushSubscription::Fcm { token: "one-too-many".into(), device_label: None };
    assert_eq!(s.client.create_push_subscription(&yp.access_token, &sub).await.unwrap_err().status(), Some(409));
    s.client.delete_push_subscription(&yp.access_token, &a.id).await.unwrap();
    assert_eq!(
        s.client.push_subscriptions(&yp.access_token).await.unwrap().subscriptions.len(),
        MAX_PUSH_SUBSCRIPTIONS - 1
    );
    s.stop().await;
}

async fn the_key_route_says_when_web_push_is_off(backend: Backend) {
    let s = TestServer::start(backend).await;
    assert_eq!(s.client.web_push_key().await.unwrap_err().status(), Some(503));
    s.stop().await;
}

both_backends!(
    accepted_and_replies_reach_the_device_content_free,
    a_gone_subscription_is_removed,
    a_failing_or_hanging_push_service_never_delays_a_message,
    sign_out_removes_the_sessions_devices,
    bad_subscriptions_get_a_clear_answer,
    the_key_route_says_when_web_push_is_off,
);
