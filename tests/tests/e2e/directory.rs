//! The services directory: YOT admins keep it, everyone signed in searches it, and a duty
//! worker shares an entry into a chat as a `service_card` message that arrives live and stays
//! in the history as it was shared.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use talkzone_mobile_api::{
    AuditQuery, ConversationId, CreateConversationRequest, MessageKind, Role, ServerFrame, ServiceCardSent,
    ServiceRequest, ServiceSearchQuery, ServiceView, ShareServiceRequest,
};
use talkzone_tests::{both_backends, call, Backend, TestServer};

const T: Duration = Duration::from_secs(10);

fn entry(name: &str) -> ServiceRequest {
    ServiceRequest {
        name: name.into(),
        category: "mental_health".into(),
        description: "Free counselling for 11 to 25 year olds.".into(),
        area: Some("County-wide".into()),
        phone: Some("0800 123 4567".into()),
        url: Some("https://example.org/talk".into()),
        hours: Some("Mon-Fri 9-5".into()),
        min_age: Some(11),
        max_age: Some(25),
    }
}

/// By hand (a typed body, the path written out): the `201 Created` is the assertion, and the
/// typed client answers with the body only.
async fn post_created<B: Serialize, T: DeserializeOwned>(s: &TestServer, path: &str, token: &str, body: &B) -> T {
    let (status, answer) = s.client.request(Method::POST, path, Some(token), Some(body)).await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{path}");
    answer
}

/// By hand: the `204 No Content` is the assertion, and the typed client answers `()` for any
/// success.
async fn retire_answers_204(s: &TestServer, token: &str, id: &str) {
    let path = format!("/v1/services/{id}/retire");
    assert_eq!(call(&s.client, Method::POST, &path, Some(token), Value::Null).await.status, StatusCode::NO_CONTENT);
}

async fn admins_keep_the_directory_and_everyone_searches_it(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let worker = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    let adm = admin.access_token.as_str();

    let created: ServiceView = post_created(&s, "/v1/services", adm, &entry("Open Door Counselling")).await;
    assert_eq!(created.phone.as_deref(), Some("0800 123 4567"));
    let other = ServiceRequest {
        category: "diversion".into(),
        description: "Football on Friday nights.".into(),
        area: Some("Île Saint-Louis".into()),
        ..entry("Street Sport")
    };
    let _: ServiceView = post_created(&s, "/v1/services", adm, &other).await;

    // Bad entries change nothing.
    for bad in [
        ServiceRequest { url: Some("javascript:alert(1)".into()), ..entry("Bad entry") },
        ServiceRequest { phone: Some("call me".into()), ..entry("Bad entry") },
        ServiceRequest { category: "Mental Health".into(), ..entry("Bad entry") },
        ServiceRequest { name: "".into(), ..entry("Bad entry") },
        ServiceRequest { min_age: Some(40), ..entry("Bad entry") },
    ] {
        let e = s.client.create_service(adm, &bad).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{bad:?}: {e}");
    }
    let e = s.client.create_service(adm, &entry("Open Door Counselling")).await.unwrap_err();
    assert_eq!(e.status(), Some(409), "a name already used");
    // Only admins change it.
    for token in [&worker.access_token, &yp.access_token] {
        assert_eq!(s.client.create_service(token, &entry("Mine")).await.unwrap_err().status(), Some(403));
    }
    // By hand: no Authorization header at all, which the typed client cannot send.
    let mine = serde_json::to_value(entry("Mine")).unwrap();
    assert_eq!(call(&s.client, Method::POST, "/v1/services", None, mine).await.status, StatusCode::UNAUTHORIZED);

    // Search: any case, any of the text fields, a category, wildcards taken literally.
    let query = |q: Option<&str>, category: Option<&str>| ServiceSearchQuery {
        q: q.map(str::to_owned),
        category: category.map(str::to_owned),
        include_retired: None,
    };
    let search = |q: Option<&'static str>, category: Option<&'static str>| {
        let (client, token, query) = (&s.client, &yp.access_token, query(q, category));
        async move {
            let list = client.search_services(token, &query).await.unwrap_or_else(|e| panic!("{query:?}: {e}"));
            list.services.into_iter().map(|v| v.name).collect::<Vec<_>>()
        }
    };
    assert_eq!(search(None, None).await, vec!["Open Door Counselling", "Street Sport"], "by name");
    assert_eq!(search(Some("COUNSEL"), None).await, vec!["Open Door Counselling"]);
    assert_eq!(search(Some("friday"), None).await, vec!["Street Sport"], "found in the description");
    assert_eq!(search(None, Some("diversion")).await, vec!["Street Sport"]);
    assert_eq!(search(Some("île"), None).await, vec!["Street Sport"], "any case beyond ASCII too (île finds Île)");
    assert!(search(Some("nights. île"), None).await.is_empty(), "a search does not run from one field into the next");
    let e = s.client.search_services(&yp.access_token, &query(Some("nights.\nîle"), None)).await.unwrap_err();
    assert_eq!(e.status(), Some(422), "no control characters in a search");
    assert!(search(Some("%"), None).await.is_empty(), "% is a character, not a wildcard");
    let e = s.client.search_services(&yp.access_token, &query(None, Some("Not A Tag"))).await.unwrap_err();
    assert_eq!(e.status(), Some(422));

    // Updating keeps the id; retiring hides it from everyone but admins who ask.
    let changed = ServiceRequest { phone: Some("0800 765 4321".into()), ..entry("Open Door Counselling") };
    let updated = s.client.update_service(adm, &created.id, &changed).await.unwrap();
    assert_eq!((updated.id.as_str(), updated.phone.as_deref()), (created.id.as_str(), Some("0800 765 4321")));
    assert_eq!(s.client.update_service(adm, "nothing", &changed).await.unwrap_err().status(), Some(404));
    retire_answers_204(&s, adm, &created.id).await;
    assert_eq!(s.client.retire_service(adm, &created.id).await.unwrap_err().status(), Some(404));
    assert_eq!(search(None, None).await, vec!["Street Sport"]);
    assert_eq!(s.client.service(&yp.access_token, &created.id).await.unwrap_err().status(), Some(404));
    s.client.service(adm, &created.id).await.expect("an admin still sees a retired entry");
    let with_retired = ServiceSearchQuery { include_retired: Some(true), ..query(None, None) };
    let all = s.client.search_services(adm, &with_retired).await.unwrap();
    assert_eq!(all.services.len(), 2);
    let e = s.client.search_services(&yp.access_token, &with_retired).await.unwrap_err();
    assert_eq!(e.status(), Some(403));

    // Every change is in the audit log.
    let trail = s.client.audit_log(adm, &AuditQuery { days: None }).await.unwrap();
    let target = format!("service:{}", created.id);
    let mut actions: Vec<&str> = trail
        .entries
        .iter()
        .filter(|e| e.target.as_deref() == Some(target.as_str()))
        .map(|e| e.action.as_str())
        .collect();
    actions.sort_unstable();
    assert_eq!(actions, vec!["service_created", "service_retired", "service_updated"]);
    let created_entries = trail.entries.iter().filter(|e| e.action == "service_created").count();
    assert_eq!(created_entries, 2, "the refused and the conflicting creates left no entry");
    s.stop().await;
}

async fn a_worker_shares_a_service_card_into_a_chat(backend: Backend) {
    let s = TestServer::start(backend).await;
    let _desk = s.staff_the_desk().await;
    let admin = s.staff(Role::YotAdmin).await;
    let worker = s.staff(Role::DutyWorker).await;
    let other = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    // Words that raise an escalation when someone says them about themselves.
    let risky = ServiceRequest {
        description: "For anyone who wants to kill myself or has taken an overdose: talk to us.".into(),
        ..entry("Open Door Counselling")
    };
    let service_id = s.client.create_service(&admin.access_token, &risky).await.unwrap().id;

    // A chat, accepted by the worker.
    let req = CreateConversationRequest { topic: None, first_message: Some("hi".into()) };
    let (_, conv) = s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let mut yp_ws = s.client.connect(&yp.access_token).await.unwrap();
    yp_ws.subscribe(&conv.id, 0).await.unwrap();
    let escalations =
        || async { s.state().store.escalations(None, Some(conv.id.as_str()), None, 0).await.unwrap().len() };
    let escalations_before = escalations().await;

    let path = format!("/v1/conversations/{}/service-cards", conv.id);
    let share = ShareServiceRequest { service_id: service_id.clone(), client_msg_id: "card-1".into() };
    let sent: ServiceCardSent = post_created(&s, &path, &worker.access_token, &share).await;
    assert_eq!(sent.card.name, "Open Door Counselling");

    // It arrives live as a service_card whose body is the entry.
    let m = match yp_ws
        .recv_until(T, |f| matches!(f, ServerFrame::Message(m) if m.kind == MessageKind::ServiceCard))
        .await
        .unwrap()
    {
        ServerFrame::Message(m) => m,
        _ => unreachable!(),
    };
    assert_eq!(m.seq, sent.seq);
    let card: ServiceView = serde_json::from_str(&m.body).expect("the body is the entry as JSON");
    assert_eq!(card, sent.card);
    assert_eq!(card.phone.as_deref(), Some("0800 123 4567"), "not redacted: it is the number being shared");
    assert_eq!(escalations().await, escalations_before, "a card is not the sender's words: it raises nothing");
    let risk = s.client.conversation(&worker.access_token, &conv.id).await.unwrap().risk;
    assert!(risk.as_deref().is_none_or(|r| r == "none"), "nor the chat's risk: {risk:?}");

    // The same client_msg_id again is the same message; a later edit leaves the card as shared.
    let again: ServiceCardSent = post_created(&s, &path, &worker.access_token, &share).await;
    assert_eq!(again.seq, sent.seq, "answered with the first message");
    let changed = ServiceRequest { phone: Some("0800 000 0000".into()), ..entry("Open Door Counselling") };
    s.client.update_service(&admin.access_token, &service_id, &changed).await.unwrap();
    let history = s.client.messages(&yp.access_token, &conv.id, 0, None).await.unwrap();
    let cards: Vec<_> = history.messages.iter().filter(|m| m.kind == MessageKind::ServiceCard).collect();
    assert_eq!(cards.len(), 1, "stored once");
    assert!(cards[0].body.contains("0800 123 4567"), "{}", cards[0].body);

    // Who may not share, and what cannot be shared.
    let share2 = |id: &str| ShareServiceRequest { service_id: id.into(), client_msg_id: "card-2".into() };
    let refused = |token: &str, conv: &ConversationId, share: ShareServiceRequest| {
        let (client, token, conv) = (&s.client, token.to_owned(), conv.clone());
        async move { client.share_service(&token, &conv, &share).await.unwrap_err().status() }
    };
    assert_eq!(refused(&yp.access_token, &conv.id, share2(&service_id)).await, Some(403));
    assert_eq!(
        refused(&other.access_token, &conv.id, share2(&service_id)).await,
        Some(404),
        "a worker not in the chat learns nothing of it"
    );
    assert_eq!(refused(&worker.access_token, &conv.id, share2("nothing")).await, Some(422));
    let nothing = ConversationId("nothing".into());
    assert_eq!(refused(&worker.access_token, &nothing, share2(&service_id)).await, Some(404));
    s.client.retire_service(&admin.access_token, &service_id).await.unwrap();
    assert_eq!(
        refused(&worker.access_token, &conv.id, share2(&service_id)).await,
        Some(422),
        "a retired entry is not shared"
    );
    s.stop().await;
}

both_backends!(admins_keep_the_directory_and_everyone_searches_it, a_worker_shares_a_service_card_into_a_chat);
