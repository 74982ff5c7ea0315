//! Push to native apps (docs/protocol.md, "Push notifications") against local FCM HTTP v1 and
//! APNs services that check authentication and format as Google's and Apple's do
//! (`talkzone_tests::fcm`, `talkzone_tests::apns`): a young person's Android and iOS devices
//! get a correctly authenticated, content-free notification when a worker accepts; the
//! credentials are reused, and renewed when the service refuses them; a "gone" device is
//! removed; a failing or hanging service is retried with backoff and never delays or loses a
//! message.

use std::time::{Duration, Instant};

use serde_json::json;
use talkzone_mobile_api::{
    CreateConversationRequest, NewPushSubscription, PushKind, PushPayload, Role, ServerFrame, TokenResponse,
};
use talkzone_tests::apns::{self, ApnsService};
use talkzone_tests::fcm::{self, FcmService};
use talkzone_tests::{both_backends, eventually, Backend, TestServer};

const WAIT: Duration = Duration::from_secs(15);
const SECRET_WORDS: &str = "my secret about home";

struct Native {
    s: TestServer,
    fcm: FcmService,
    apns: ApnsService,
}

async fn start(backend: Backend) -> Native {
    let (fcm, apns) = (FcmService::start().await, ApnsService::start().await);
    let (f, a) = (fcm.clone(), apns.clone());
    let s = TestServer::builder(backend)
        .config(move |c| {
            f.configure(&mut c.push);
            a.configure(&mut c.push);
            c.push.timeout = Duration::from_secs(2);
        })
        .start()
        .await;
    Native { s, fcm, apns }
}

/// A young person with an Android and an iPhone, and their device tokens.
async fn young_person_with_devices(s: &TestServer) -> (TokenResponse, String, String) {
    let yp = s.young_person().await;
    let fcm_token = format!("fcm-{}:APA91b{}", ulid::Ulid::new(), "x".repeat(100));
    let apns_token = format!("{:064x}", rand::random::<u128>());
    let made = s
        .client
        .create_push_subscription(
            &yp.access_token,
            &NewPushSubscription::Fcm { token: fcm_token.clone(), device_label: None },
        )
        .await
        .unwrap();
    assert_eq!(made.kind, PushKind::Fcm);
    let sub = NewPushSubscription::Apns { token: apns_token.clone(), device_label: Some("iPhone".into()) };
    assert_eq!(s.client.create_push_subscription(&yp.access_token, &sub).await.unwrap().kind, PushKind::Apns);
    (yp, fcm_token, apns_token)
}

/// yp's chat (with a first message that must never reach a push service), accepted by a worker.
async fn accepted_chat(s: &TestServer, yp: &TokenResponse) -> (talkzone_mobile_api::ConversationId, TokenResponse) {
    let req = CreateConversationRequest { topic: None, first_message: Some(SECRET_WORDS.into()) };
    let conv = s.client.open_conversation(&yp.access_token, &req).await.unwrap().1.id;
    let worker = s.staff(Role::DutyWorker).await;
    s.client.accept(&worker.access_token, &conv).await.unwrap();
    (conv, worker)
}

async fn fcm_requests(n: &Native, at_least: usize) -> Vec<fcm::Received> {
    eventually(WAIT, "FCM requests", || async { Some(n.fcm.received()).filter(|r| r.len() >= at_least) }).await
}

async fn apns_requests(n: &Native, at_least: usize) -> Vec<apns::Received> {
    eventually(WAIT, "APNs requests", || async { Some(n.apns.received()).filter(|r| r.len() >= at_least) }).await
}

/// Every subscription of yp's has had a notification delivered.
async fn all_delivered(s: &TestServer, yp: &TokenResponse) {
    eventually(WAIT, "every device's notification delivered", || async {
        let subs = s.client.push_subscriptions(&yp.access_token).await.unwrap().subscriptions;
        (!subs.is_empty() && subs.iter().all(|s| s.last_success_at.is_some())).then_some(())
    })
    .await;
}

async fn android_and_iphone_get_authenticated_content_free_notifications(backend: Backend) {
    let n = start(backend).await;
    let (yp, fcm_token, apns_token) = young_person_with_devices(&n.s).await;
    accepted_chat(&n.s, &yp).await;
    let words = PushPayload::default();

    let f = fcm_requests(&n, 1).await;
    assert_eq!(n.fcm.grants(), vec![Ok(())], "one token request, a valid service-account grant");
    let body = f[0].message.clone().expect("the access token and the message format accepted");
    assert_eq!(f[0].token().as_deref(), Some(fcm_token.as_str()));
    assert_eq!(body["message"]["notification"], json!({"title": words.title, "body": words.body}), "the fixed words");
    assert_eq!(body["message"]["android"]["priority"], "HIGH");
    assert!(body["message"].get("data").is_none(), "no data: {body}");
    let text = body.to_string();
    assert!(!text.contains("secret") && !text.contains("Talk Zone"), "no message text, no service name: {text}");

    let a = apns_requests(&n, 1).await;
    let payload = a[0].payload.clone().expect("the provider token, headers and payload accepted");
    assert_eq!(a[0].device, apns_token);
    assert_eq!(payload["aps"]["alert"], json!({"title": words.title, "body": words.body}), "the fixed words");
    assert_eq!(payload.as_object().unwrap().keys().collect::<Vec<_>>(), ["aps"], "nothing beside aps: {payload}");
    assert_eq!(a[0].priority.as_deref(), Some("10"));
    let text = payload.to_string();
    assert!(!text.contains("secret") && !text.contains("Talk Zone"), "no message text, no service name: {text}");
    all_delivered(&n.s, &yp).await;

    // Another young person's devices: the FCM access token and the APNs provider token are reused
    // (Google's token endpoint is not asked again; Apple throttles renewing a provider token).
    let (other, _, _) = young_person_with_devices(&n.s).await;
    accepted_chat(&n.s, &other).await;
    let f = fcm_requests(&n, 2).await;
    let a = apns_requests(&n, 2).await;
    assert!(f[1].message.is_ok() && a[1].payload.is_ok(), "{f:?} {a:?}");
    assert_eq!(n.fcm.grants().len(), 1, "the access token was reused");
    assert_eq!(a[0].provider_token, a[1].provider_token, "the provider token was reused");
    all_delivered(&n.s, &other).await;
    n.s.stop().await;
}

async fn refused_credentials_are_renewed(backend: Backend) {
    let n = start(backend).await;
    let (yp, _, _) = young_person_with_devices(&n.s).await;
    accepted_chat(&n.s, &yp).await;
    all_delivered(&n.s, &yp).await;
    // Google revokes the access token; Apple finds the provider token expired.
    n.fcm.revoke_tokens();
    n.apns.expire_provider_tokens();
    let (other, _, _) = young_person_with_devices(&n.s).await;
    accepted_chat(&n.s, &other).await;
    all_delivered(&n.s, &other).await;
    assert_eq!(n.fcm.grants(), vec![Ok(()), Ok(())], "a new access token was asked for");
    let f = n.fcm.received();
    assert!(f[1].message.is_err() && f.last().unwrap().message.is_ok(), "{f:?}");
    let a = n.apns.received();
    let last = a.last().unwrap();
    assert!(a[1].payload.is_err() && last.payload.is_ok(), "{a:?}");
    assert_ne!(last.provider_token, a[0].provider_token, "a new provider token");
    n.s.stop().await;
}

async fn gone_devices_are_removed(backend: Backend) {
    let n = start(backend).await;
    n.fcm.answer(fcm::Answer::Unregistered);
    n.apns.answer(apns::Answer::Unregistered);
    let (yp, _, _) = young_person_with_devices(&n.s).await;
    accepted_chat(&n.s, &yp).await;
    eventually(WAIT, "both gone devices removed", || async {
        n.s.client.push_subscriptions(&yp.access_token).await.unwrap().subscriptions.is_empty().then_some(())
    })
    .await;
    let (f, a) = (n.fcm.received(), n.apns.received());
    assert_eq!((f.len(), a.len()), (1, 1), "each tried once, not retried: {f:?} {a:?}");
    assert!(f[0].message.is_ok() && a[0].payload.is_ok(), "well-formed requests: {f:?} {a:?}");
    n.s.stop().await;
}

async fn failing_or_hanging_services_are_retried_and_never_delay_a_message(backend: Backend) {
    let cases = [
        (fcm::Answer::Unavailable, apns::Answer::ServerError),
        (fcm::Answer::ServerError, apns::Answer::ServerError),
        (fcm::Answer::Hang, apns::Answer::Hang),
    ];
    for (fcm_answer, apns_answer) in cases {
        let n = start(backend).await;
        n.fcm.answer(fcm_answer);
        n.apns.answer(apns_answer);
        let (yp, _, _) = young_person_with_devices(&n.s).await;
        let (conv, worker) = accepted_chat(&n.s, &yp).await;
        fcm_requests(&n, 1).await;
        apns_requests(&n, 1).await;
        // While the services fail or hang, messages go on at once.
        let mut w = n.s.client.connect(&worker.access_token).await.unwrap();
        let started = Instant::now();
        for i in 0..5 {
            let ack = w.send_message(&conv, &format!("w-{i}"), "a reply").await.unwrap();
            assert!(matches!(ack, ServerFrame::Ack { .. }), "{fcm_answer:?}: {ack:?}");
        }
        assert!(started.elapsed() < Duration::from_secs(2), "{fcm_answer:?}: messages waited {:?}", started.elapsed());
        let page = n.s.client.messages(&yp.access_token, &conv, 0, None).await.unwrap();
        assert_eq!(page.messages.iter().filter(|m| m.body == "a reply").count(), 5, "{fcm_answer:?}: none lost");
        // The services recover: the notification is retried (after the backoff, or the timeout)
        // and delivered, and the devices are kept.
        n.fcm.answer(fcm::Answer::Ok);
        n.apns.answer(apns::Answer::Ok);
        all_delivered(&n.s, &yp).await;
        let (f, a) = (n.fcm.received(), n.apns.received());
        assert!(f.len() >= 2 && a.len() >= 2, "{fcm_answer:?}: retried: {f:?} {a:?}");
        assert!(f.iter().all(|r| r.message.is_ok()) && a.iter().all(|r| r.payload.is_ok()), "{f:?} {a:?}");
        let subs = n.s.client.push_subscriptions(&yp.access_token).await.unwrap().subscriptions;
        assert_eq!(subs.len(), 2, "{fcm_answer:?}: a failing service is not a gone device");
        n.s.stop().await;
    }
}

both_backends!(
    android_and_iphone_get_authenticated_content_free_notifications,
    refused_credentials_are_renewed,
    gone_devices_are_removed,
    failing_or_hanging_services_are_retried_and_never_delay_a_message,
);
