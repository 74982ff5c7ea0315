//! The services directory: YOT admins keep it, everyone signed in searches it, and a duty
//! worker shares an entry into a chat as a `service_card` message that arrives live and stays
//! in the history as it was shared.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use talkzone_mobile_api::{
    AuditTrail, CreateConversationRequest, MessageKind, Role, ServerFrame, ServiceCardSent, ServiceList, ServiceView,
};
use talkzone_tests::{both_backends, call, Backend, TestServer};

const T: Duration = Duration::from_secs(10);

fn entry(name: &str) -> Value {
    json!({"name": name, "category": "mental_health", "description": "Free counselling for 11 to 25 year olds.",
        "area": "County-wide", "phone": "0800 123 4567", "url": "https://example.org/talk", "hours": "Mon-Fri 9-5",
        "min_age": 11, "max_age": 25})
}

async fn admins_keep_the_directory_and_everyone_searches_it(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let worker = s.staff(Role::DutyWorker).await;
    let yp = s.young_person().await;
    let adm = Some(admin.access_token.as_str());

    let (status, created) =
        call(&s.client, Method::POST, "/v1/services", adm, entry("Open Door Counselling")).await.parts();
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let created: ServiceView = serde_json::from_value(created).unwrap();
    assert_eq!(created.phone.as_deref(), Some("0800 123 4567"));
    let mut other = entry("Street Sport");
    other["category"] = json!("diversion");
    other["description"] = json!("Football on Friday nights.");
    other["area"] = json!("Île Saint-Louis");
    assert_eq!(call(&s.client, Method::POST, "/v1/services", adm, other).await.status, StatusCode::CREATED);

    // Bad entries change nothing.
    for (field, value) in [
        ("url", json!("javascript:alert(1)")),
        ("phone", json!("call me")),
        ("category", json!("Mental Health")),
        ("name", json!("")),
        ("min_age", json!(40)),
    ] {
        let mut bad = entry("Bad entry");
        bad[field] = value.clone();
        let (status, body) = call(&s.client, Method::POST, "/v1/services", adm, bad).await.parts();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field} = {value}: {body}");
    }
    let (status, _) = call(&s.client, Method::POST, "/v1/services", adm, entry("Open Door Counselling")).await.parts();
    assert_eq!(status, StatusCode::CONFLICT, "a name already used");
    // Only admins change it.
    for token in [&worker.access_token, &yp.access_token] {
        assert_eq!(
            call(&s.client, Method::POST, "/v1/services", Some(token), entry("Mine")).await.status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        call(&s.client, Method::POST, "/v1/services", None, entry("Mine")).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Search: any case, any of the text fields, a category, wildcards taken literally.
    let search = |q: &'static str| {
        let token = yp.access_token.clone();
        let s = &s;
        async move {
            let (status, list) =
                call(&s.client, Method::GET, &format!("/v1/services?{q}"), Some(&token), Value::Null).await.parts();
            assert_eq!(status, StatusCode::OK, "{q}: {list}");
            serde_json::from_value::<ServiceList>(list)
                .unwrap()
                .services
                .into_iter()
                .map(|v| v.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("").await, vec!["Open Door Counselling", "Street Sport"], "by name");
    assert_eq!(search("q=COUNSEL").await, vec!["Open Door Counselling"]);
    assert_eq!(search("q=friday").await, vec!["Street Sport"], "found in the description");
    assert_eq!(search("category=diversion").await, vec!["Street Sport"]);
    assert_eq!(search("q=%C3%AEle").await, vec!["Street Sport"], "any case beyond ASCII too (île finds Île)");
    assert!(search("q=nights.%20%C3%AEle").await.is_empty(), "a search does not run from one field into the next");
    assert_eq!(
        call(&s.client, Method::GET, "/v1/services?q=nights.%0A%C3%AEle", Some(&yp.access_token), Value::Null)
            .await
            .parts()
            .0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no control characters in a search"
    );
    assert!(search("q=%25").await.is_empty(), "% is a character, not a wildcard");
    assert_eq!(
        call(&s.client, Method::GET, "/v1/services?category=Not%20A%20Tag", Some(&yp.access_token), Value::Null)
            .await
            .parts()
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Updating keeps the id; retiring hides it from everyone but admins who ask.
    let mut changed = entry("Open Door Counselling");
    changed["phone"] = json!("0800 765 4321");
    let (status, updated) =
        call(&s.client, Method::PUT, &format!("/v1/services/{}", created.id), adm, changed.clone()).await.parts();
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["phone"], "0800 765 4321");
    assert_eq!(call(&s.client, Method::PUT, "/v1/services/nothing", adm, changed).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        call(&s.client, Method::POST, &format!("/v1/services/{}/retire", created.id), adm, Value::Null).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&s.client, Method::POST, &format!("/v1/services/{}/retire", created.id), adm, Value::Null).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(search("").await, vec!["Street Sport"]);
    let path = format!("/v1/services/{}", created.id);
    assert_eq!(
        call(&s.client, Method::GET, &path, Some(&yp.access_token), Value::Null).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(call(&s.client, Method::GET, &path, adm, Value::Null).await.status, StatusCode::OK);
    let (_, all) = call(&s.client, Method::GET, "/v1/services?include_retired=true", adm, Value::Null).await.parts();
    assert_eq!(all["services"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        call(&s.client, Method::GET, "/v1/services?include_retired=true", Some(&yp.access_token), Value::Null)
            .await
            .parts()
            .0,
        StatusCode::FORBIDDEN
    );

    // Every change is in the audit log.
    let (_, trail) = call(&s.client, Method::GET, "/v1/admin/audit", adm, Value::Null).await.parts();
    let trail: AuditTrail = serde_json::from_value(trail).unwrap();
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
    let mut risky = entry("Open Door Counselling");
    risky["description"] = json!("For anyone who wants to kill myself or has taken an overdose: talk to us.");
    let (_, service) = call(&s.client, Method::POST, "/v1/services", Some(&admin.access_token), risky).await.parts();
    let service_id = service["id"].as_str().unwrap().to_owned();

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
    let share = json!({"service_id": service_id, "client_msg_id": "card-1"});
    let (status, sent) = call(&s.client, Method::POST, &path, Some(&worker.access_token), share.clone()).await.parts();
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let sent: ServiceCardSent = serde_json::from_value(sent).unwrap();
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
    let (status, again) = call(&s.client, Method::POST, &path, Some(&worker.access_token), share).await.parts();
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["seq"], json!(sent.seq), "answered with the first message");
    let mut changed = entry("Open Door Counselling");
    changed["phone"] = json!("0800 000 0000");
    call(&s.client, Method::PUT, &format!("/v1/services/{service_id}"), Some(&admin.access_token), changed)
        .await
        .parts();
    let history = s.client.messages(&yp.access_token, &conv.id, 0, None).await.unwrap();
    let cards: Vec<_> = history.messages.iter().filter(|m| m.kind == MessageKind::ServiceCard).collect();
    assert_eq!(cards.len(), 1, "stored once");
    assert!(cards[0].body.contains("0800 123 4567"), "{}", cards[0].body);

    // Who may not share, and what cannot be shared.
    let share2 = |id: &str| json!({"service_id": id, "client_msg_id": "card-2"});
    assert_eq!(
        call(&s.client, Method::POST, &path, Some(&yp.access_token), share2(&service_id)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&s.client, Method::POST, &path, Some(&other.access_token), share2(&service_id)).await.status,
        StatusCode::NOT_FOUND,
        "a worker not in the chat learns nothing of it"
    );
    assert_eq!(
        call(&s.client, Method::POST, &path, Some(&worker.access_token), share2("nothing")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        call(
            &s.client,
            Method::POST,
            "/v1/conversations/nothing/service-cards",
            Some(&worker.access_token),
            share2(&service_id)
        )
        .await
        .parts()
        .0,
        StatusCode::NOT_FOUND
    );
    call(&s.client, Method::POST, &format!("/v1/services/{service_id}/retire"), Some(&admin.access_token), Value::Null)
        .await
        .parts();
    assert_eq!(
        call(&s.client, Method::POST, &path, Some(&worker.access_token), share2(&service_id)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a retired entry is not shared"
    );
    s.stop().await;
}

both_backends!(admins_keep_the_directory_and_everyone_searches_it, a_worker_shares_a_service_card_into_a_chat);
