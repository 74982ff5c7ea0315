//! The storage contract: the same tests against the SQLite and the PostgreSQL store.

use std::sync::Arc;

use talkzone_server::model::{
    AuditAction, AuditTarget, ConversationState, EscalationSource, MessageKind, ModerationItemKind, PersonalInfoMode,
    Role, RoomModeration, Severity,
};
use talkzone_server::store::{
    self, AcceptOutcome, AutoHold, ConversationFilter, Erasure, InsertOutcome, NewMessage, NewSession, NewUser,
    RotateOutcome, Store, TicketGrant,
};
use talkzone_tests::{both_backends, fresh_database, Backend, TempDir};

/// An audit entry from the names the log shows, so that these tests read like the log.
fn audit_event(
    at: i64,
    actor: Option<&str>,
    action: &str,
    target: &str,
    id: &str,
    details: Option<String>,
) -> store::AuditEvent {
    talkzone_server::audit::event(
        at,
        actor,
        action.parse().expect("an audit action"),
        target.parse().expect("an audit target"),
        id,
        details,
    )
}

async fn open(backend: Backend) -> (Arc<dyn Store>, TempDir) {
    let dir = TempDir::new();
    let url = fresh_database(backend, &dir.0).await;
    let s = store::connect(&url).await.unwrap();
    s.migrate().await.unwrap();
    s.migrate().await.unwrap(); // idempotent
    (s, dir)
}

async fn user(s: &dyn Store, id: &str, role: &str) {
    s.create_user(
        NewUser {
            id: id.into(),
            role: role.parse().expect("a role"),
            username: Some(format!("user-{id}")),
            password_hash: None,
            display_name: format!("User {id}"),
            created_at: 1,
        },
        None,
    )
    .await
    .unwrap();
}

fn entry(action: &str) -> store::AuditEvent {
    audit_event(50, Some("w1"), action, "conversation", "c1", None)
}

fn msg(conv: &str, sender: &str, client_id: &str, body: &str) -> NewMessage {
    NewMessage {
        id: talkzone_server::ids::random_id(),
        conversation_id: conv.into(),
        sender_id: Some(sender.into()),
        sender_role: Some(Role::YoungPerson),
        sender_name: Some("Calm Otter 12".into()),
        client_msg_id: Some(client_id.into()),
        body: body.into(),
        kind: MessageKind::Text,
        sent_at: 10,
        severity: Severity::None,
        conversation_risk: Severity::None,
        verdict: None,
        original_body: None,
        hold: None,
        escalation: None,
        expect: None,
    }
}

async fn users_and_usernames(backend: Backend) {
    let (s, _d) = open(backend).await;
    user(s.as_ref(), "u1", "duty_worker").await;
    let dup = s
        .create_user(
            NewUser {
                id: "u2".into(),
                role: Role::DutyWorker,
                username: Some("user-u1".into()),
                password_hash: None,
                display_name: "x".into(),
                created_at: 1,
            },
            Some(audit_event(1, Some("admin"), "user_created", "user", "u2", None)),
        )
        .await;
    assert!(matches!(dup, Err(store::StoreError::Conflict(_))), "{dup:?}");
    assert!(s.audit_for_target("user", "u2").await.unwrap().is_empty(), "no entry for an account not created");
    assert_eq!(s.user_by_username("user-u1").await.unwrap().unwrap().id, "u1");
    assert!(s.user("nope").await.unwrap().is_none());
    assert!(s.on_duty_staff().await.unwrap().is_empty());
    let duty = |action: &str, at: i64| Some(audit_event(at, Some("u1"), action, "user", "u1", None));
    assert!(s.set_on_duty("u1", true, 5, duty("duty_on", 5)).await.unwrap());
    assert_eq!(s.on_duty_staff().await.unwrap(), vec!["u1".to_owned()]);
    // A change is audited in its transaction; a repeat changes nothing and leaves no entry.
    assert!(!s.set_on_duty("u1", true, 6, duty("duty_on", 6)).await.unwrap());
    assert!(s.set_on_duty("u1", false, 7, duty("duty_off", 7)).await.unwrap());
    assert!(!s.set_on_duty("u1", false, 8, None).await.unwrap());
    let entries: Vec<(String, i64)> =
        s.audit_for_target("user", "u1").await.unwrap().into_iter().map(|e| (e.action.to_string(), e.at)).collect();
    assert_eq!(entries, vec![("duty_on".to_owned(), 5), ("duty_off".to_owned(), 7)]);
}

/// Capacity changes, password changes and monitoring-notice acknowledgements are written with
/// their audit entries; one that changes nothing (no such worker, an acknowledgement repeated)
/// leaves none.
async fn account_changes_are_audited_in_their_transaction(backend: Backend) {
    let (s, _d) = open(backend).await;
    user(s.as_ref(), "w1", "duty_worker").await;
    user(s.as_ref(), "yp", "young_person").await;
    let on = |id: &str, action: &str, at: i64| audit_event(at, Some("admin"), action, "user", id, None);
    let actions = |id: &'static str| {
        let s = s.clone();
        async move {
            s.audit_for_target("user", id)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.action.to_string(), e.at))
                .collect::<Vec<_>>()
        }
    };
    assert!(s.set_capacity("w1", 3, on("w1", "capacity_set", 10)).await.unwrap());
    assert!(!s.set_capacity("yp", 3, on("yp", "capacity_set", 11)).await.unwrap(), "not a worker");
    assert!(!s.set_capacity("nobody", 3, on("nobody", "capacity_set", 12)).await.unwrap());
    s.end_sessions("w1", Some("new-hash"), 20, "password_changed", Some(on("w1", "password_changed", 20)))
        .await
        .unwrap();
    s.end_sessions("w1", None, 21, "signed_out", None).await.unwrap();
    assert_eq!(s.acknowledge_notice("yp", 1, 30, on("yp", "monitoring_notice_acknowledged", 30)).await.unwrap(), 30);
    assert_eq!(s.acknowledge_notice("yp", 1, 31, on("yp", "monitoring_notice_acknowledged", 31)).await.unwrap(), 30);
    assert_eq!(actions("w1").await, vec![("capacity_set".to_owned(), 10), ("password_changed".to_owned(), 20)]);
    assert_eq!(actions("yp").await, vec![("monitoring_notice_acknowledged".to_owned(), 30)]);
    assert!(actions("nobody").await.is_empty());
    assert_eq!(s.user("w1").await.unwrap().unwrap().password_hash.as_deref(), Some("new-hash"));
}

/// A room created and a rota shift added or removed write their audit entries in their own
/// transaction; removing a shift that is not there leaves none.
async fn rooms_and_shifts_are_audited_in_their_transaction(backend: Backend) {
    let (s, _d) = open(backend).await;
    user(s.as_ref(), "admin", "yot_admin").await;
    user(s.as_ref(), "w1", "duty_worker").await;
    let by_admin = |action: &str, target_type: &str, id: &str, at: i64| {
        audit_event(at, Some("admin"), action, target_type, id, None)
    };
    let room = store::NewRoom {
        id: "r1".into(),
        topic: "Exams".into(),
        age_band: "13-15".into(),
        moderation_mode: RoomModeration::Post,
        pii_mode: PersonalInfoMode::Redact,
        created_by: "admin".into(),
        now: 5,
    };
    assert_eq!(s.create_room(room, by_admin("room_created", "conversation", "r1", 5)).await.unwrap().id, "r1");
    let shift = store::ShiftRecord {
        id: "s1".into(),
        user_id: "w1".into(),
        starts_at: 100,
        ends_at: 200,
        created_by: Some("admin".into()),
        created_at: 6,
    };
    s.create_shift(shift, by_admin("shift_added", "user", "w1", 6)).await.unwrap();
    let removed = |worker: &str| by_admin("shift_removed", "user", worker, 7);
    assert!(s.delete_shift("s1", &removed).await.unwrap());
    assert!(!s.delete_shift("s1", &removed).await.unwrap(), "gone already");
    assert!(!s.delete_shift("nothing", &removed).await.unwrap());
    let actions = |t: &'static str, id: &'static str| {
        let s = s.clone();
        async move {
            s.audit_for_target(t, id)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.action.to_string(), e.at))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(actions("conversation", "r1").await, vec![("room_created".to_owned(), 5)]);
    assert_eq!(actions("user", "w1").await, vec![("shift_added".to_owned(), 6), ("shift_removed".to_owned(), 7)]);
    assert!(s.shifts_between(0, 1000).await.unwrap().is_empty());
}

/// Creating an account, a safeguarding hold placed or lifted, and an erasure write their audit
/// entries in their own transaction; a hold on no conversation leaves none.
async fn holds_accounts_and_erasure_are_audited_in_their_transaction(backend: Backend) {
    let (s, _d) = open(backend).await;
    let new = |id: &str| NewUser {
        id: id.into(),
        role: Role::YoungPerson,
        username: Some(format!("user-{id}")),
        password_hash: None,
        display_name: format!("User {id}"),
        created_at: 1,
    };
    let entry = |action: &str, target_type: &str, id: &str, at: i64, details: &str| {
        audit_event(at, Some("admin"), action, target_type, id, Some(details.to_owned()))
    };
    s.create_user(new("yp"), Some(entry("user_created", "user", "yp", 1, "role young_person"))).await.unwrap();
    s.create_user(new("yp2"), Some(entry("user_created", "user", "yp2", 1, "role young_person"))).await.unwrap();
    s.open_support_conversation("c1", "yp", None, 5).await.unwrap();
    s.open_support_conversation("c2", "yp2", None, 6).await.unwrap();
    assert!(s
        .set_hold(
            "c1",
            Some(("worried", "sup")),
            10,
            entry("safeguarding_hold_placed", "conversation", "c1", 10, "worried")
        )
        .await
        .unwrap());
    assert!(s
        .set_hold("c1", None, 11, entry("safeguarding_hold_lifted", "conversation", "c1", 11, "fine now"))
        .await
        .unwrap());
    assert!(s
        .set_hold(
            "c1",
            Some(("again", "sup")),
            12,
            entry("safeguarding_hold_placed", "conversation", "c1", 12, "again")
        )
        .await
        .unwrap());
    assert!(!s
        .set_hold(
            "nowhere",
            Some(("x", "sup")),
            13,
            entry("safeguarding_hold_placed", "conversation", "nowhere", 13, "x")
        )
        .await
        .unwrap());
    let erased = |e: &Erasure| {
        vec![audit_event(20, None, "account_erased", "user", "yp", Some(format!("kept {}", e.kept.join(","))))]
    };
    let auto = AutoHold { hold_reason: "automatic".into(), action: "account_deleted".into(), note: "gone".into() };
    assert_eq!(s.erase_user("yp", 20, &auto, &erased).await.unwrap().kept, vec!["c1".to_owned()]);
    let erased2 = |e: &Erasure| {
        vec![audit_event(21, None, "account_erased", "user", "yp2", Some(format!("kept {}", e.kept.len())))]
    };
    assert!(s.erase_user("yp2", 21, &auto, &erased2).await.unwrap().kept.is_empty());

    let log = |t: &'static str, id: &'static str| {
        let s = s.clone();
        async move {
            s.audit_for_target(t, id)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.action.to_string(), e.at, e.details.unwrap_or_default()))
                .collect::<Vec<_>>()
        }
    };
    let e = |a: &str, at: i64, d: &str| (a.to_owned(), at, d.to_owned());
    assert_eq!(
        log("user", "yp").await,
        vec![e("user_created", 1, "role young_person"), e("account_erased", 20, "kept c1")]
    );
    assert_eq!(
        log("user", "yp2").await,
        vec![e("user_created", 1, "role young_person"), e("account_erased", 21, "kept 0")]
    );
    assert_eq!(
        log("conversation", "c1").await,
        vec![
            e("safeguarding_hold_placed", 10, "worried"),
            e("safeguarding_hold_lifted", 11, "fine now"),
            e("safeguarding_hold_placed", 12, "again")
        ]
    );
    assert!(log("conversation", "nowhere").await.is_empty());
    assert!(s.conversation("c2").await.unwrap().is_none(), "an erased account's chat without a hold is gone");
}

/// A session for `user` starting at `at`, with its first refresh token `token` (expiring at
/// `expires`).
async fn session(s: &dyn Store, id: &str, user: &str, token: &str, at: i64, expires: i64) {
    let new = NewSession {
        id: id.into(),
        user_id: user.into(),
        created_at: at,
        user_agent: Some("Test/1.0".into()),
        source_ip: Some("192.0.2.7".into()),
        method: "password".into(),
    };
    s.start_session(&new, token, expires).await.unwrap();
}

async fn refresh_tokens_rotate_and_detect_reuse(backend: Backend) {
    let (s, _d) = open(backend).await;
    user(s.as_ref(), "u1", "young_person").await;
    session(s.as_ref(), "s1", "u1", "h1", 100, 1_000).await;
    let rotated = |session: &str| RotateOutcome::Rotated { user_id: "u1".into(), session_id: session.into() };
    assert_eq!(s.rotate_refresh_token("h1", "h2", 200, 1_000).await.unwrap(), rotated("s1"));
    assert_eq!(s.session("s1").await.unwrap().unwrap().last_seen_at, Some(200), "a refresh is a sign of life");
    // h1 is spent: presenting it again ends the session, so h2 dies too.
    assert_eq!(
        s.rotate_refresh_token("h1", "h3", 300, 1_000).await.unwrap(),
        RotateOutcome::Reused { user_id: "u1".into(), session_id: "s1".into() }
    );
    let ended = s.session("s1").await.unwrap().unwrap();
    assert_eq!((ended.revoked_at, ended.end_reason.as_deref()), (Some(300), Some("refresh_token_reused")));
    assert_eq!(s.rotate_refresh_token("h2", "h4", 300, 1_000).await.unwrap(), RotateOutcome::Invalid);
    assert_eq!(s.rotate_refresh_token("unknown", "h5", 300, 1_000).await.unwrap(), RotateOutcome::Invalid);
    // Expiry and logout.
    session(s.as_ref(), "s2", "u1", "e1", 100, 150).await;
    assert_eq!(s.rotate_refresh_token("e1", "e2", 200, 1_000).await.unwrap(), RotateOutcome::Invalid);
    session(s.as_ref(), "s3", "u1", "l1", 100, 1_000).await;
    assert_eq!(
        s.end_session_of_token("l1", 120, "signed_out").await.unwrap(),
        Some(("s3".to_owned(), "u1".to_owned()))
    );
    assert_eq!(s.rotate_refresh_token("l1", "l2", 130, 1_000).await.unwrap(), RotateOutcome::Invalid);
    assert_eq!(s.sessions_ended_since(121).await.unwrap(), vec![("s1".to_owned(), "u1".to_owned())]);
    assert_eq!(s.sessions_ended_since(301).await.unwrap(), vec![]);
}

/// Live sessions are listed newest first with what identifies them; ending one, or all but
/// one, ends exactly those, and only the owner's.
async fn sessions_are_listed_and_ended(backend: Backend) {
    let (s, _d) = open(backend).await;
    user(s.as_ref(), "u1", "duty_worker").await;
    user(s.as_ref(), "u2", "duty_worker").await;
    session(s.as_ref(), "a", "u1", "ta", 100, 10_000).await;
    session(s.as_ref(), "b", "u1", "tb", 200, 10_000).await;
    session(s.as_ref(), "c", "u1", "tc", 300, 10_000).await;
    session(s.as_ref(), "old", "u1", "told", 50, 400).await;
    session(s.as_ref(), "x", "u2", "tx", 300, 10_000).await;
    let live = |at: i64| {
        let s = s.clone();
        async move { s.live_sessions_of("u1", at).await.unwrap().into_iter().map(|r| r.id).collect::<Vec<_>>() }
    };
    assert_eq!(live(500).await, ["c", "b", "a"], "newest first; the expired one is not live");
    let a = s.session("a").await.unwrap().unwrap();
    assert_eq!((a.user_agent.as_deref(), a.source_ip.as_deref()), (Some("Test/1.0"), Some("192.0.2.7")));
    assert_eq!((a.created_at, a.last_seen_at, a.expires_at), (100, Some(100), 10_000));
    assert!(!s.end_session("u2", "a", 600, "ended_by_user", None).await.unwrap(), "not u2's");
    assert!(s.end_session("u1", "a", 600, "ended_by_user", None).await.unwrap());
    assert!(!s.end_session("u1", "a", 601, "ended_by_user", None).await.unwrap(), "already ended");
    assert_eq!(s.end_other_sessions("u1", Some("c"), 700, "ended_by_user", None).await.unwrap(), 2);
    assert_eq!(live(800).await, ["c"]);
    assert_eq!(s.live_sessions_of("u2", 800).await.unwrap().len(), 1, "another user's sessions untouched");
    s.touch_session("c", 900).await.unwrap();
    assert_eq!(s.session("c").await.unwrap().unwrap().last_seen_at, Some(900));
}

async fn tickets_are_single_use_and_expire(backend: Backend) {
    let (s, _d) = open(backend).await;
    user(s.as_ref(), "u1", "young_person").await;
    let grant = TicketGrant { user_id: "u1".into(), session_id: "s1".into(), token_expires_at: 5_000 };
    s.create_ws_ticket("t1", &grant, 1_000).await.unwrap();
    assert_eq!(s.consume_ws_ticket("t1", 500).await.unwrap(), Some(grant.clone()));
    assert_eq!(s.consume_ws_ticket("t1", 500).await.unwrap(), None);
    s.create_ws_ticket("t2", &grant, 1_000).await.unwrap();
    assert_eq!(s.consume_ws_ticket("t2", 1_000).await.unwrap(), None, "expired");
}

async fn conversations_open_accept_and_messages(backend: Backend) {
    let (s, _d) = open(backend).await;
    user(s.as_ref(), "yp", "young_person").await;
    user(s.as_ref(), "yp2", "young_person").await;
    user(s.as_ref(), "w1", "duty_worker").await;
    let (c, created) = s.open_support_conversation("c1", "yp", Some("topic"), 5).await.unwrap();
    assert!(created);
    assert_eq!((c.state.as_str(), c.last_seq, c.owner_name.as_deref()), ("queued", 0, Some("User yp")));
    let (again, created) = s.open_support_conversation("c-other", "yp", None, 6).await.unwrap();
    assert!(!created);
    assert_eq!(again.id, "c1", "one open support conversation per young person");
    s.open_support_conversation("c2", "yp2", None, 7).await.unwrap();
    assert_eq!(s.queue_position("c1").await.unwrap(), Some(1));
    assert_eq!(s.queue_position("c2").await.unwrap(), Some(2));

    let InsertOutcome::Stored(m1) = s.insert_message(msg("c1", "yp", "a", "hello")).await.unwrap() else { panic!() };
    assert_eq!(m1.seq, Some(1));
    let InsertOutcome::Duplicate(d) = s.insert_message(msg("c1", "yp", "a", "other")).await.unwrap() else { panic!() };
    assert_eq!((d.seq, d.body.as_str()), (Some(1), "hello"));

    let mut announcement = msg("c1", "w1", "x", "joined");
    announcement.sender_id = None;
    announcement.client_msg_id = None;
    announcement.kind = MessageKind::System;
    match s.accept_conversation("c1", "w1", announcement.clone(), entry("conversation_accepted"), 9).await.unwrap() {
        AcceptOutcome::Accepted(c, m) => {
            assert_eq!((c.state.as_str(), c.assigned_to.as_deref(), c.last_seq), ("assigned", Some("w1"), 2));
            assert_eq!(m.seq, Some(2));
        }
        other => panic!("{other:?}"),
    }
    announcement.id = talkzone_server::ids::random_id();
    assert!(matches!(
        s.accept_conversation("c1", "w1", announcement.clone(), entry("conversation_accepted"), 9).await.unwrap(),
        AcceptOutcome::AlreadyAssigned
    ));
    announcement.id = talkzone_server::ids::random_id();
    assert!(matches!(
        s.accept_conversation("nope", "w1", announcement, entry("conversation_accepted"), 9).await.unwrap(),
        AcceptOutcome::NotFound
    ));
    assert_eq!(s.queue_position("c1").await.unwrap(), None);
    assert_eq!(s.queue_position("c2").await.unwrap(), Some(1));

    let assigned = s
        .conversations_for_staff(&ConversationFilter {
            state: Some(ConversationState::Assigned),
            assigned_to: Some("w1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(assigned.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), vec!["c1"]);
    assert_eq!(s.conversations_of_owner("yp").await.unwrap().len(), 1);

    let page = s.messages_after("c1", 0, 10).await.unwrap();
    assert_eq!(page.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![Some(1), Some(2)]);
    assert_eq!(s.messages_after("c1", 1, 10).await.unwrap().len(), 1);

    assert_eq!(s.mark_read("c1", "w1", 2, 10).await.unwrap(), 2);
    assert_eq!(s.mark_read("c1", "w1", 1, 11).await.unwrap(), 2, "never lowered");
}

async fn concurrent_inserts_get_distinct_gap_free_seqs(backend: Backend) {
    let (s, _d) = open(backend).await;
    user(s.as_ref(), "yp", "young_person").await;
    s.open_support_conversation("c1", "yp", None, 5).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = s.clone();
        tasks
            .push(tokio::spawn(async move { s.insert_message(msg("c1", "yp", &format!("m{i}"), "x")).await.unwrap() }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            InsertOutcome::Stored(m) => seqs.push(m.seq.expect("visible messages have a seq")),
            other => panic!("{other:?}"),
        }
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
}

/// A batch is one transaction: seqs continue per conversation, a closed conversation is
/// reported without failing its neighbours, and a batch that breaks a constraint stores
/// nothing at all (the writer then stores its messages one by one).
async fn a_batch_of_messages_commits_together_or_not_at_all(backend: Backend) {
    let (s, _d) = open(backend).await;
    user(s.as_ref(), "yp", "young_person").await;
    user(s.as_ref(), "yp2", "young_person").await;
    s.open_support_conversation("c1", "yp", None, 5).await.unwrap();
    s.open_support_conversation("c2", "yp2", None, 5).await.unwrap();
    s.insert_message(msg("c1", "yp", "first", "x")).await.unwrap();
    let batch = vec![
        msg("c1", "yp", "b1", "one"),
        msg("c2", "yp2", "b2", "two"),
        msg("gone", "yp", "b3", "nowhere"),
        msg("c1", "yp", "b4", "three"),
    ];
    let out = s.insert_messages(&batch).await.unwrap();
    let seqs: Vec<Option<Option<i64>>> = out
        .iter()
        .map(|o| match o {
            InsertOutcome::Stored(m) => Some(m.seq),
            InsertOutcome::ConversationClosed => None,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(seqs, vec![Some(Some(2)), Some(Some(1)), None, Some(Some(3))]);

    // A message whose id is taken breaks the primary key: nothing of the batch is stored.
    let mut clash = msg("c1", "yp", "b6", "again");
    clash.id = s.message_by_client_id("yp", "b1").await.unwrap().unwrap().id;
    let bad = vec![msg("c1", "yp", "b5", "four"), clash];
    assert!(s.insert_messages(&bad).await.is_err());
    assert_eq!(s.messages_after("c1", 0, 10).await.unwrap().len(), 3, "the failed batch left nothing behind");
    assert_eq!(s.message_by_client_id("yp", "b5").await.unwrap().map(|m| m.id), None);
    assert!(s.message_by_client_id("yp", "b4").await.unwrap().is_some());

    // The writer is not left inside the failed transaction: the next batch commits.
    let out = s.insert_messages(&[msg("c1", "yp", "b7", "five"), msg("c2", "yp2", "b8", "six")]).await.unwrap();
    assert!(
        matches!(&out[..], [InsertOutcome::Stored(a), InsertOutcome::Stored(b)] if a.seq == Some(4) && b.seq == Some(2))
    );
    // Nor is any other write blocked behind it.
    user(s.as_ref(), "yp3", "young_person").await;
}

/// What a batch decides inside its transaction: resends (stored earlier, or earlier in the
/// same batch) are the earlier message; a message whose sender's access was decided from a
/// copy of the chat that is no longer true is stored nowhere (`Stale`) and takes no `seq`;
/// a held message takes no `seq`; every other message's `seq` follows without a gap.
async fn a_batch_answers_resends_and_stale_access_in_its_transaction(backend: Backend) {
    let (s, _d) = open(backend).await;
    user(s.as_ref(), "yp", "young_person").await;
    user(s.as_ref(), "w1", "duty_worker").await;
    user(s.as_ref(), "w2", "duty_worker").await;
    s.open_support_conversation("c1", "yp", None, 5).await.unwrap();
    let InsertOutcome::Stored(first) = s.insert_message(msg("c1", "yp", "a", "hello")).await.unwrap() else { panic!() };
    let mut announcement = msg("c1", "w1", "x", "joined");
    announcement.sender_id = None;
    announcement.client_msg_id = None;
    assert!(matches!(
        s.accept_conversation("c1", "w1", announcement, entry("conversation_accepted"), 9).await.unwrap(),
        AcceptOutcome::Accepted(..)
    ));

    let as_worker = |who: &str, client_id: &str, assigned_to: &str| {
        let mut m = msg("c1", who, client_id, "from the worker");
        m.expect = Some(store::Expected { state: ConversationState::Assigned, assigned_to: Some(assigned_to.into()) });
        m
    };
    let mut held = msg("c1", "yp", "h", "held back");
    held.hold = Some(store::NewModerationItem {
        id: talkzone_server::ids::random_id(),
        kind: ModerationItemKind::Hold,
        conversation_id: Some("c1".into()),
        message_id: Some(held.id.clone()),
        subject_user_id: Some("yp".into()),
        reporter_id: None,
        reason: "test".into(),
        severity: Severity::Medium,
        evidence: None,
        created_at: 10,
    });
    let mut queued_copy = msg("c1", "yp", "q", "decided while it was queued");
    queued_copy.expect = Some(store::Expected { state: ConversationState::Queued, assigned_to: None });
    let batch = vec![
        msg("c1", "yp", "a", "resent"), // stored before this batch
        as_worker("w1", "w-1", "w1"),   // the copy is right
        as_worker("w2", "w-2", "w2"),   // w2 thinks the chat is theirs: it is not
        queued_copy,                    // the chat was accepted since
        held,                           // no seq while held
        msg("c1", "yp", "b", "two"),
        msg("c1", "yp", "b", "two again"), // resent within the batch
    ];
    let out = s.insert_messages(&batch).await.unwrap();
    let shape: Vec<String> = out
        .iter()
        .map(|o| match o {
            InsertOutcome::Stored(m) => format!("stored {:?}", m.seq),
            InsertOutcome::Duplicate(m) => format!("duplicate {:?}", m.seq),
            InsertOutcome::Stale => "stale".into(),
            InsertOutcome::ConversationClosed => "closed".into(),
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            "duplicate Some(1)",
            "stored Some(3)",
            "stale",
            "stale",
            "stored None",
            "stored Some(4)",
            "duplicate Some(4)"
        ]
    );
    match &out[0] {
        InsertOutcome::Duplicate(m) => assert_eq!((m.id.as_str(), m.body.as_str()), (first.id.as_str(), "hello")),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.message_by_client_id("w2", "w-2").await.unwrap().map(|m| m.id), None, "a stale message is not stored");
    let seqs: Vec<Option<i64>> = s.messages_after("c1", 0, 20).await.unwrap().iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![Some(1), Some(2), Some(3), Some(4)], "no gap where the stale messages were refused");
    assert_eq!(s.conversation("c1").await.unwrap().unwrap().last_seq, 4);
    let InsertOutcome::Stored(next) = s.insert_message(msg("c1", "yp", "c", "three")).await.unwrap() else { panic!() };
    assert_eq!(next.seq, Some(5));
}

/// A duty worker's list is scoped in the query (the queue and their own chats), so a page is
/// never filled with chats they may not see; pages follow the queue order without overlap.
async fn staff_lists_are_scoped_and_paged_in_the_query(backend: Backend) {
    let (s, _d) = open(backend).await;
    user(s.as_ref(), "w1", "duty_worker").await;
    user(s.as_ref(), "w2", "duty_worker").await;
    for i in 0..6 {
        let yp = format!("yp{i}");
        user(s.as_ref(), &yp, "young_person").await;
        let id = format!("c{i}");
        s.open_support_conversation(&id, &yp, None, 10 + i).await.unwrap();
        let mut announcement = msg(&id, "w1", "x", "joined");
        announcement.sender_id = None;
        announcement.client_msg_id = None;
        announcement.kind = MessageKind::System;
        // c0–c2 go to w2, c3 to w1, c4 and c5 stay queued.
        let worker = match i {
            0..=2 => Some("w2"),
            3 => Some("w1"),
            _ => None,
        };
        if let Some(w) = worker {
            assert!(matches!(
                s.accept_conversation(&id, w, announcement, entry("conversation_accepted"), 20).await.unwrap(),
                AcceptOutcome::Accepted(..)
            ));
        }
    }
    let ids = |rows: Vec<store::ConversationRecord>| rows.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let w1_view = ConversationFilter {
        visible_to_worker: Some("w1".into()),
        support_only: true,
        limit: Some(2),
        ..Default::default()
    };
    let mut seen = ids(s.conversations_for_staff(&w1_view).await.unwrap());
    assert_eq!(seen.len(), 2, "a full page of what w1 may see, though w2's chats come first in order");
    seen.extend(ids(s.conversations_for_staff(&ConversationFilter { offset: 2, ..w1_view.clone() }).await.unwrap()));
    seen.sort();
    assert_eq!(seen, vec!["c3", "c4", "c5"]);
    let all = ids(s.conversations_for_staff(&ConversationFilter::default()).await.unwrap());
    assert_eq!(all.len(), 6);
    let mut paged = Vec::new();
    for page in 0..3 {
        let f = ConversationFilter { limit: Some(2), offset: page * 2, ..Default::default() };
        paged.extend(ids(s.conversations_for_staff(&f).await.unwrap()));
    }
    assert_eq!(paged, all, "pages in order, no overlap, nothing missed");
}

/// A worker-raised escalation of chat `c1`.
fn escalation(id: &str, created_at: i64, deadline_at: i64) -> store::NewEscalation {
    store::NewEscalation {
        id: id.into(),
        conversation_id: "c1".into(),
        message_id: None,
        severity: Severity::High,
        reason: "worried".into(),
        source: EscalationSource::Worker,
        raised_by: None,
        created_at,
        deadline_at,
        audit: audit_event(created_at, None, "escalation_raised", "escalation", id, None),
    }
}

/// Escalations come newest first in pages without overlap, and unpaged the list is whole:
/// a cap on a newest-first list would hide the oldest open escalations, the most overdue.
async fn escalations_are_paged_and_never_capped(backend: Backend) {
    let (s, _d) = open(backend).await;
    user(s.as_ref(), "yp", "young_person").await;
    s.open_support_conversation("c1", "yp", None, 1).await.unwrap();
    const N: i64 = 503;
    for i in 0..N {
        s.create_escalation(escalation(&format!("e{i:04}"), 100 + i, 1_000 + i)).await.unwrap();
    }
    let ids = |rows: Vec<store::EscalationRecord>| rows.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let all = ids(s.escalations(Some("open"), None, None, 0).await.unwrap());
    assert_eq!(all.len(), N as usize, "every open escalation, the oldest too");
    assert_eq!((all[0].as_str(), all[N as usize - 1].as_str()), ("e0502", "e0000"), "newest first");
    let mut paged = Vec::new();
    for page in 0..3 {
        paged.extend(ids(s.escalations(Some("open"), None, Some(200), page * 200).await.unwrap()));
    }
    assert_eq!(paged, all, "pages in order, no overlap, nothing missed");
    assert_eq!(ids(s.escalations(None, Some("c1"), Some(2), 0).await.unwrap()), vec!["e0502", "e0501"]);
    assert!(s.escalations(Some("resolved"), None, None, 0).await.unwrap().is_empty());
    assert!(s.escalations(None, Some("other"), None, 0).await.unwrap().is_empty());

    // The actions of many escalations come in one go (in chunks), each one's in the order
    // taken, and only theirs.
    let mut expected = Vec::new();
    for (k, i) in (0..N).step_by(50).enumerate() {
        let id = format!("e{i:04}");
        for step in [2, 1] {
            let at = 2_000 + 10 * k as i64 + step;
            let action = store::EscalationActionRecord {
                id: format!("a{i}-{step}"),
                escalation_id: id.clone(),
                at,
                actor_id: "yp".into(),
                action: format!("step_{step}"),
                note: None,
            };
            let entry = audit_event(at, None, "escalation_action", "escalation", &id, None);
            s.add_escalation_action(action, entry).await.unwrap();
        }
        expected.push((id.clone(), "step_1".to_owned()));
        expected.push((id, "step_2".to_owned()));
    }
    let every: Vec<&str> = all.iter().map(String::as_str).collect();
    let mut got: Vec<(String, String)> =
        s.escalation_actions(&every).await.unwrap().into_iter().map(|a| (a.escalation_id, a.action)).collect();
    // Escalations in any order; a stable sort keeps each one's own order as returned.
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, expected);
    let one: Vec<String> = s.escalation_actions(&["e0050"]).await.unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(one, vec!["a50-1", "a50-2"]);
    assert!(s.escalation_actions(&["e0001"]).await.unwrap().is_empty());
    assert!(s.escalation_actions(&[]).await.unwrap().is_empty());
}

/// A supervisor's steps on an escalation carry their audit entries; a step that does not
/// happen (already acknowledged, already resolved) leaves none.
async fn escalation_steps_are_audited_in_their_transaction(backend: Backend) {
    let (s, _d) = open(backend).await;
    user(s.as_ref(), "yp", "young_person").await;
    user(s.as_ref(), "sup", "supervisor").await;
    s.open_support_conversation("c1", "yp", None, 1).await.unwrap();
    s.create_escalation(escalation("e1", 2, 100)).await.unwrap();
    let at = |action: &str, when: i64| audit_event(when, Some("sup"), action, "escalation", "e1", None);
    let actions = || async {
        s.audit_for_target("escalation", "e1")
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action.to_string())
            .collect::<Vec<_>>()
    };
    assert!(s.acknowledge_escalation("e1", "sup", 3, at("escalation_acknowledged", 3)).await.unwrap().is_some());
    assert!(s.acknowledge_escalation("e1", "sup", 4, at("escalation_acknowledged", 4)).await.unwrap().is_none());
    let step = store::EscalationActionRecord {
        id: "a1".into(),
        escalation_id: "e1".into(),
        at: 5,
        actor_id: "sup".into(),
        action: "called_999".into(),
        note: None,
    };
    s.add_escalation_action(step, at("escalation_action", 5)).await.unwrap();
    assert!(s.resolve_escalation("e1", "sup", "safe", 6, at("escalation_resolved", 6)).await.unwrap().is_some());
    assert!(s.resolve_escalation("e1", "sup", "safe", 7, at("escalation_resolved", 7)).await.unwrap().is_none());
    assert_eq!(
        actions().await,
        vec!["escalation_raised", "escalation_acknowledged", "escalation_action", "escalation_resolved"]
    );

    // Past its deadline, unacknowledged: the re-escalation fires once, with one entry.
    s.create_escalation(escalation("e2", 2, 100)).await.unwrap();
    let overdue = || audit_event(150, None, "escalation_reescalated", "escalation", "e2", None);
    // Each step of the chain once: the step count seen must still be the stored one.
    assert!(s.fire_reescalation("e2", 0, 150, 250, "{}", overdue()).await.unwrap());
    assert!(!s.fire_reescalation("e2", 0, 151, 251, "{}", overdue()).await.unwrap());
    let e2: Vec<_> =
        s.audit_for_target("escalation", "e2").await.unwrap().into_iter().map(|e| e.action.to_string()).collect();
    assert_eq!(e2, vec!["escalation_raised", "escalation_reescalated"]);
    let due = |rows: Vec<talkzone_server::store::EscalationRecord>| rows.iter().any(|e| e.id == "e2");
    assert!(!due(s.due_escalations(249).await.unwrap()), "the next step is due at 250, not before");
    assert!(due(s.due_escalations(250).await.unwrap()));
    assert!(s.fire_reescalation("e2", 1, 250, 350, "{}", overdue()).await.unwrap());
    assert_eq!(s.escalation("e2").await.unwrap().unwrap().steps, 2);

    // Raised by moderation inside a message's batch: the entry comes with it. A message the
    // batch refuses (no such chat) stores neither its escalation nor the entry.
    let risky = |conv: &str, id: &str| {
        let mut m = msg(conv, "yp", id, "I am scared");
        m.severity = Severity::High;
        let mut e = escalation(id, 8, 100);
        e.conversation_id = conv.into();
        e.message_id = Some(m.id.clone());
        m.escalation = Some(e);
        m
    };
    s.insert_messages(&[risky("c1", "e3"), risky("gone", "e4")]).await.unwrap();
    let s = &s;
    let raised = |id: &'static str| async move {
        s.audit_for_target("escalation", id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(raised("e3").await, vec!["escalation_raised"]);
    assert!(s.escalation("e3").await.unwrap().is_some());
    assert_eq!(raised("e4").await, Vec::<String>::new());
    assert!(s.escalation("e4").await.unwrap().is_none());
}

/// One node at a time holds a job's lease; it can renew it; another takes it once expired.
async fn job_leases_have_one_holder(backend: Backend) {
    let (s, _d) = open(backend).await;
    assert!(s.take_lease("retention", "node-a", 1_000, 5_000).await.unwrap());
    assert!(!s.take_lease("retention", "node-b", 2_000, 6_000).await.unwrap(), "held by a");
    assert!(s.take_lease("retention", "node-a", 3_000, 7_000).await.unwrap(), "the holder renews");
    assert!(!s.take_lease("retention", "node-b", 6_999, 9_000).await.unwrap());
    assert!(s.take_lease("retention", "node-b", 7_000, 9_000).await.unwrap(), "expired: b takes it");
    assert!(s.take_lease("other-job", "node-a", 7_000, 9_000).await.unwrap(), "leases are per job");
    // Racing nodes: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move { s.take_lease("race", &format!("n{i}"), 10_000, 20_000).await.unwrap() }));
    }
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1);
}

async fn audit_is_kept_in_order(backend: Backend) {
    let (s, _d) = open(backend).await;
    for (i, action) in [AuditAction::EscalationRaised, AuditAction::EscalationAcknowledged].into_iter().enumerate() {
        talkzone_server::audit::record(
            s.as_ref(),
            100 + i as i64,
            Some("w1"),
            action,
            AuditTarget::Conversation,
            "c1",
            Some("why".into()),
        )
        .await;
    }
    let events = s.audit_for_target("conversation", "c1").await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["escalation_raised", "escalation_acknowledged"]
    );

    // Written together (staff reads in a reconnect storm): more than one statement's worth.
    let many: Vec<store::AuditEvent> = (0..100)
        .map(|i| store::AuditEvent {
            id: talkzone_server::ids::random_id(),
            at: 200 + i,
            actor_id: Some(format!("w{i}")),
            action: AuditAction::ConversationRead,
            target_type: AuditTarget::Conversation,
            target_id: "c2".into(),
            details: Some("subscribe".into()),
        })
        .collect();
    s.append_audits(&many).await.unwrap();
    let events = s.audit_for_target("conversation", "c2").await.unwrap();
    assert_eq!(events.len(), 100);
    assert_eq!(events[99].actor_id.as_deref(), Some("w99"));
    assert_eq!(events[0].details.as_deref(), Some("subscribe"));
}

/// Survey changes write their audit entries in their own transaction; a change that did not
/// happen (a duplicate, a missing target, a refused insert) leaves none.
async fn survey_changes_are_audited_in_their_transaction(backend: Backend) {
    use talkzone_server::store::surveys::{AssignmentRecord, ParticipantRecord, SurveyRecord, SurveyVersionRecord};
    let dir = TempDir::new();
    let url = fresh_database(backend, &dir.0).await;
    let s = store::connect(&url).await.unwrap();
    let surveys = s.clone();
    s.migrate().await.unwrap();
    user(s.as_ref(), "admin", "yot_admin").await;
    // Each entry a moment later than the one before, so that the log's order is the calls'.
    let clock = std::sync::atomic::AtomicI64::new(0);
    let tick = || clock.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    let ev =
        |action: &str, target_type: &str, id: &str| audit_event(tick(), Some("admin"), action, target_type, id, None);
    let actions = |t: &'static str, id: &'static str| {
        let s = s.clone();
        async move { s.audit_for_target(t, id).await.unwrap().into_iter().map(|e| e.action.to_string()).collect::<Vec<_>>() }
    };

    surveys
        .create_intervention_type("it1", "Mentoring", 1, ev("intervention_type_created", "intervention_type", "it1"))
        .await
        .unwrap();
    let twice = surveys
        .create_intervention_type("it2", "Mentoring", 1, ev("intervention_type_created", "intervention_type", "it2"))
        .await;
    assert!(matches!(twice, Err(store::StoreError::Conflict(_))), "{twice:?}");
    assert!(!surveys
        .retire_intervention_type("none", ev("intervention_type_retired", "intervention_type", "none"))
        .await
        .unwrap());
    assert!(surveys
        .retire_intervention_type("it1", ev("intervention_type_retired", "intervention_type", "it1"))
        .await
        .unwrap());
    assert_eq!(
        actions("intervention_type", "it1").await,
        vec!["intervention_type_created", "intervention_type_retired"]
    );
    assert!(actions("intervention_type", "it2").await.is_empty(), "a duplicate name leaves no entry");
    assert!(actions("intervention_type", "none").await.is_empty());

    let survey =
        SurveyRecord { id: "s1".into(), draft: "{}".into(), created_by: "admin".into(), created_at: 1, updated_at: 1 };
    surveys.create_survey(&survey, ev("survey_created", "survey", "s1")).await.unwrap();
    assert!(!surveys.update_survey_draft("none", "{}", 2, ev("survey_draft_updated", "survey", "none")).await.unwrap());
    // The store tells the entry what the version was before and what it is now.
    let published = |before: Option<i64>, v: &SurveyVersionRecord| {
        talkzone_server::audit::event(
            tick(),
            Some("admin"),
            AuditAction::SurveyPublished,
            AuditTarget::Survey,
            &v.survey_id,
            Some(format!("{before:?} -> {}", v.version)),
        )
    };
    assert_eq!(surveys.publish_survey("s1", "admin", 3, &published).await.unwrap().unwrap().version, 1);
    assert_eq!(surveys.publish_survey("s1", "admin", 3, &published).await.unwrap().unwrap().version, 1, "unchanged");
    assert!(surveys
        .update_survey_draft("s1", "{\"v\": 2}", 4, ev("survey_draft_updated", "survey", "s1"))
        .await
        .unwrap());
    let v2 = surveys.publish_survey("s1", "admin", 5, &published).await.unwrap().unwrap();
    assert_eq!(v2.version, 2);
    assert!(surveys.publish_survey("none", "admin", 5, &published).await.unwrap().is_none());
    let entries: Vec<(String, Option<String>)> = s
        .audit_for_target("survey", "s1")
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action.to_string(), e.details))
        .collect();
    let published = |details: &str| ("survey_published".to_owned(), Some(details.to_owned()));
    assert_eq!(
        entries,
        vec![
            ("survey_created".to_owned(), None),
            published("None -> 1"),
            published("Some(1) -> 1"),
            ("survey_draft_updated".to_owned(), None),
            published("Some(1) -> 2"),
        ]
    );
    assert!(actions("survey", "none").await.is_empty(), "nothing to update or publish leaves no entry");

    let participant = |id: &str| ParticipantRecord {
        id: id.into(),
        reference: "YOT-1".into(),
        intervention_type_id: "it1".into(),
        start_date: "2026-01-01".into(),
        end_date: None,
        age_band: None,
        gender: None,
        ethnicity: None,
        looked_after: None,
        created_by: "admin".into(),
        created_at: 6,
    };
    surveys
        .create_participant(&participant("p1"), ev("survey_participant_created", "survey_participant", "p1"))
        .await
        .unwrap();
    let again = surveys
        .create_participant(&participant("p2"), ev("survey_participant_created", "survey_participant", "p2"))
        .await;
    assert!(matches!(again, Err(store::StoreError::Conflict(_))), "{again:?}");
    assert_eq!(actions("survey_participant", "p1").await, vec!["survey_participant_created"]);
    assert!(actions("survey_participant", "p2").await.is_empty(), "a duplicate reference leaves no entry");

    let assignment = |id: &str, version: &str| AssignmentRecord {
        id: id.into(),
        survey_id: "s1".into(),
        survey_version_id: version.into(),
        participant_id: Some("p1".into()),
        respondent_kind: "parent_carer".into(),
        respondent_user_id: None,
        code_selector: Some("ABCD".into()),
        code_hash: Some("hash".into()),
        code_expires_at: Some(100),
        stage: "start".into(),
        due_date: "2026-02-01".into(),
        status: "pending".into(),
        created_by: "admin".into(),
        created_at: 7,
        completed_at: None,
        conversation_id: None,
    };
    let both = |id: &str| {
        vec![ev("survey_assigned", "survey_assignment", id), ev("survey_access_code_issued", "survey_assignment", id)]
    };
    surveys.create_assignment(&assignment("a1", &v2.id), &both("a1")).await.unwrap();
    assert!(
        surveys.create_assignment(&assignment("a2", "no-such-version"), &both("a2")).await.is_err(),
        "refused by its foreign key"
    );
    assert_eq!(actions("survey_assignment", "a1").await, vec!["survey_assigned", "survey_access_code_issued"]);
    assert!(actions("survey_assignment", "a2").await.is_empty(), "a refused assignment leaves no entry");

    surveys
        .set_setting(
            "chat_feedback_survey",
            Some("s1"),
            "admin",
            8,
            ev("chat_feedback_survey_set", "survey_setting", "chat_feedback_survey"),
        )
        .await
        .unwrap();
    surveys
        .set_setting(
            "chat_feedback_survey",
            None,
            "admin",
            9,
            ev("chat_feedback_survey_set", "survey_setting", "chat_feedback_survey"),
        )
        .await
        .unwrap();
    assert_eq!(
        actions("survey_setting", "chat_feedback_survey").await,
        vec!["chat_feedback_survey_set", "chat_feedback_survey_set"]
    );
    assert_eq!(surveys.setting("chat_feedback_survey").await.unwrap(), None);
}

/// Batches written at once to the same chats (as writers on several nodes do) all commit, and
/// each chat's `seq`s stay gap-free and in each writer's order.
async fn concurrent_batches_keep_each_chat_gap_free_and_in_order(backend: Backend) {
    let (s, _d) = open(backend).await;
    let chats = ["c1", "c2", "c3"];
    for (i, chat) in chats.iter().enumerate() {
        user(s.as_ref(), &format!("yp{i}"), "young_person").await;
        s.open_support_conversation(chat, &format!("yp{i}"), None, 5).await.unwrap();
    }
    let mut tasks = Vec::new();
    for t in 0..6 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut stored = Vec::new();
            for b in 0..15 {
                // Two or three messages over two of the chats, from this task's own sender ids.
                let batch: Vec<NewMessage> = (0..2 + (b % 2))
                    .map(|k| {
                        let chat = ["c1", "c2", "c3"][(t + b + k) % 3];
                        msg(chat, &format!("yp{}", (t + b + k) % 3), &format!("t{t}-b{b}-k{k}"), "x")
                    })
                    .collect();
                for (m, out) in batch.iter().zip(s.insert_messages(&batch).await.unwrap()) {
                    match out {
                        InsertOutcome::Stored(r) => stored.push((m.conversation_id.clone(), r.seq.expect("a seq"))),
                        other => panic!("{other:?}"),
                    }
                }
            }
            stored
        }));
    }
    let mut per_chat: std::collections::HashMap<String, Vec<i64>> = std::collections::HashMap::new();
    for task in tasks {
        let mut last: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
        for (chat, seq) in task.await.unwrap() {
            let before = last.insert(chat.clone(), seq).unwrap_or(0);
            assert!(seq > before, "{chat}: a writer's messages keep their order ({before} then {seq})");
            per_chat.entry(chat).or_default().push(seq);
        }
    }
    let mut total = 0;
    for chat in chats {
        let mut seqs = per_chat.remove(chat).unwrap_or_default();
        seqs.sort_unstable();
        total += seqs.len();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "{chat}: gap-free, no seq twice");
        let stored = s.messages_after(chat, 0, 500).await.unwrap();
        assert_eq!(stored.len(), seqs.len(), "{chat}: every acknowledged message is stored");
        assert_eq!(s.conversation(chat).await.unwrap().unwrap().last_seq, seqs.len() as i64, "{chat}: last_seq");
    }
    assert_eq!(total, 6 * (8 * 2 + 7 * 3));
}

both_backends!(
    users_and_usernames,
    account_changes_are_audited_in_their_transaction,
    holds_accounts_and_erasure_are_audited_in_their_transaction,
    rooms_and_shifts_are_audited_in_their_transaction,
    survey_changes_are_audited_in_their_transaction,
    refresh_tokens_rotate_and_detect_reuse,
    tickets_are_single_use_and_expire,
    sessions_are_listed_and_ended,
    conversations_open_accept_and_messages,
    concurrent_inserts_get_distinct_gap_free_seqs,
    concurrent_batches_keep_each_chat_gap_free_and_in_order,
    audit_is_kept_in_order,
    a_batch_of_messages_commits_together_or_not_at_all,
    a_batch_answers_resends_and_stale_access_in_its_transaction,
    a_large_batch_spans_several_statements,
    hand_overs_and_accepts_are_audited_in_their_transaction,
    job_leases_have_one_holder,
    staff_lists_are_scoped_and_paged_in_the_query,
    escalations_are_paged_and_never_capped,
    escalation_steps_are_audited_in_their_transaction,
);

/// A batch larger than one statement's chunk (conversations, resends and rows are split into
/// chunks of up to 128 and 64) keeps every conversation's `seq` in arrival order and answers
/// every resend.
async fn a_large_batch_spans_several_statements(backend: Backend) {
    let (s, _d) = open(backend).await;
    let chats = 131;
    for c in 0..chats {
        user(s.as_ref(), &format!("yp{c}"), "young_person").await;
        s.open_support_conversation(&format!("c{c}"), &format!("yp{c}"), None, 5).await.unwrap();
        s.insert_message(msg(&format!("c{c}"), &format!("yp{c}"), "before", "x")).await.unwrap();
    }
    let mut batch = Vec::new();
    for i in 0..300 {
        let c = (i * 7) % chats;
        batch.push(msg(&format!("c{c}"), &format!("yp{c}"), &format!("m{i}"), &format!("{i}")));
    }
    for c in 0..chats {
        batch.push(msg(&format!("c{c}"), &format!("yp{c}"), "before", "resent"));
    }
    let out = s.insert_messages(&batch).await.unwrap();
    assert_eq!(out.len(), batch.len());
    assert!(out[300..].iter().all(|o| matches!(o, InsertOutcome::Duplicate(m) if m.seq == Some(1) && m.body == "x")));
    for c in 0..chats {
        let bodies: Vec<String> =
            s.messages_after(&format!("c{c}"), 1, 100).await.unwrap().into_iter().map(|m| m.body).collect();
        let expected: Vec<String> = (0..300).filter(|i| (i * 7) % chats == c).map(|i| i.to_string()).collect();
        assert_eq!(bodies, expected, "conversation c{c} in arrival order");
        let last = s.conversation(&format!("c{c}")).await.unwrap().unwrap().last_seq;
        assert_eq!(last, 1 + expected.len() as i64);
    }
}

/// A hand-over's audit entry is written in the hand-over's own transaction: there when it
/// happened, absent when it was refused (a crash between the two can no longer lose it).
async fn hand_overs_and_accepts_are_audited_in_their_transaction(backend: Backend) {
    let (s, _d) = open(backend).await;
    user(s.as_ref(), "yp", "young_person").await;
    user(s.as_ref(), "w1", "duty_worker").await;
    user(s.as_ref(), "w2", "duty_worker").await;
    s.open_support_conversation("c1", "yp", None, 5).await.unwrap();
    let note = |body: &str| {
        let mut m = msg("c1", "w1", "x", body);
        m.sender_id = None;
        m.client_msg_id = None;
        m.kind = MessageKind::System;
        m
    };
    let at = |action: &str, when: i64| audit_event(when, Some("w1"), action, "conversation", "c1", None);
    let actions = || async {
        s.audit_for_target("conversation", "c1")
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action.to_string())
            .collect::<Vec<_>>()
    };
    assert!(matches!(
        s.accept_conversation("c1", "w1", note("joined"), at("conversation_accepted", 9), 9).await.unwrap(),
        AcceptOutcome::Accepted(..)
    ));
    assert!(matches!(
        s.accept_conversation("c1", "w2", note("joined too"), at("conversation_accepted", 9), 9).await.unwrap(),
        AcceptOutcome::AlreadyAssigned
    ));
    assert_eq!(actions().await, vec!["conversation_accepted"], "the lost race left no entry");
    let moved = s
        .hand_over(
            "c1",
            Some("w1"),
            store::Handover::Transfer { to: "w2".into() },
            note("passed on"),
            at("conversation_transferred", 10),
            10,
        )
        .await
        .unwrap();
    assert!(moved.is_some());
    let refused = s
        .hand_over("c1", Some("w1"), store::Handover::Requeue, note("back"), at("conversation_requeued", 11), 11)
        .await
        .unwrap();
    assert!(refused.is_none(), "w1 no longer has the chat");
    assert_eq!(actions().await, vec!["conversation_accepted", "conversation_transferred"]);
    let closed = s
        .hand_over(
            "c1",
            None,
            store::Handover::Close {
                outcome: "resolved".into(),
                tags: None,
                reason: talkzone_mobile_api::ClosedReason::Staff,
            },
            note("ended"),
            at("conversation_closed", 12),
            12,
        )
        .await
        .unwrap();
    assert!(closed.is_some());
    assert_eq!(actions().await, vec!["conversation_accepted", "conversation_transferred", "conversation_closed"]);

    // A supervisor's join carries its record; a join that fails leaves none.
    user(s.as_ref(), "sup", "supervisor").await;
    s.join("c1", "sup", "supervisor", 13, Some(at("supervisor_joined", 13))).await.unwrap();
    assert_eq!(s.membership("c1", "sup").await.unwrap().as_deref(), Some("supervisor"));
    assert_eq!(actions().await.last().map(String::as_str), Some("supervisor_joined"));
    let nowhere = audit_event(14, Some("sup"), "supervisor_joined", "conversation", "nowhere", None);
    assert!(s.join("nowhere", "sup", "supervisor", 14, Some(nowhere)).await.is_err(), "no such conversation");
    assert!(s.audit_for_target("conversation", "nowhere").await.unwrap().is_empty());
}

/// SQLite's WAL stays small under a steady stream of commits: checkpoints run in the
/// background, and the writer's own (small) checkpoint lets the WAL start again from its
/// beginning. Without the latter the WAL grew by about 4 pages a commit, without end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_wal_stays_bounded_under_steady_writes() {
    let (s, dir) = open(Backend::Sqlite).await;
    user(s.as_ref(), "yp", "young_person").await;
    s.open_support_conversation("c1", "yp", None, 5).await.unwrap();
    let wal = dir.0.join("talkzone.db-wal");
    let mut largest = 0;
    // Each commit adds about 4 pages: unbounded, this many would pass 200 MB.
    let pages = talkzone_server::store::WAL_AUTOCHECKPOINT_PAGES as usize;
    let commits = pages * 14 / 10;
    for i in 0..commits {
        s.insert_message(msg("c1", "yp", &format!("m{i}"), "a steady stream")).await.unwrap();
        largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) as usize);
    }
    assert_eq!(s.conversation("c1").await.unwrap().unwrap().last_seq, commits as i64);
    // The pages before the writer's checkpoint, of 4 KiB, plus what one commit adds.
    assert!(largest < (pages + 500) * 4096, "the WAL reached {largest} bytes");
}
