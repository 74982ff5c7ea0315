//! A staff account's lifecycle (issue 21): suspend and reactivate, offboard, another role, a
//! password reset by one-time code; over the API and the command line, audited, every session
//! and socket of the account ended at once.

use std::sync::Arc;
use std::time::Duration;

use talkzone_mobile_api::client::{ClientError, WsConnection};
use talkzone_mobile_api::{AccountActionRequest, Role, RoleChangeRequest, StaffAccount, TokenResponse, UserId};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_tests::{both_backends, eventually, Backend, TestServer, TEST_PASSWORD};

const T: Duration = Duration::from_secs(5);

async fn close_code(ws: &mut WsConnection) -> u16 {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, ws.recv()).await {
            Err(_) => panic!("the socket did not close within {T:?}"),
            Ok(Err(ClientError::Closed(Some((code, _))))) => return code,
            Ok(Err(other)) => panic!("the socket ended without a close code: {other:?}"),
            Ok(Ok(_)) => continue,
        }
    }
}

async fn connected(s: &TestServer, token: &str) -> WsConnection {
    let mut ws = s.client.connect(token).await.expect("connect");
    ws.round_trip().await.expect("registered");
    ws
}

fn because(reason: &str) -> AccountActionRequest {
    AccountActionRequest { reason: Some(reason.into()) }
}

fn status(e: ClientError) -> u16 {
    e.status().unwrap_or_else(|| panic!("not an HTTP error: {e}"))
}

/// Every session of `who` is over: its token refused, its refresh refused.
async fn signed_out(s: &TestServer, who: &TokenResponse) {
    assert_eq!(status(s.client.me(&who.access_token).await.unwrap_err()), 401);
    assert_eq!(status(s.client.refresh(&who.refresh_token).await.unwrap_err()), 401);
}

async fn account(s: &TestServer, admin: &str, id: &UserId) -> StaffAccount {
    let list = s.client.list_staff(admin).await.unwrap().accounts;
    list.into_iter().find(|a| &a.id == id).expect("listed")
}

async fn audited(s: &TestServer, id: &UserId) -> Vec<(String, Option<String>)> {
    let events = s.state().store.audit_for_target("user", id.as_str()).await.unwrap();
    events.into_iter().map(|e| (e.action.as_str().to_owned(), e.details)).collect()
}

/// The issue's finding: a leaver kept access. Offboarded, they cannot sign in any more, every
/// session and socket ends at once, they go off duty, and their name stays on what they wrote.
async fn a_leaver_is_offboarded_and_their_name_stays(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let leaver = s.staff_named(Role::DutyWorker, "leaver").await;
    s.client.set_duty(&leaver.access_token, true).await.unwrap();
    let yp = s.young_person().await;
    let req = talkzone_mobile_api::CreateConversationRequest { topic: None, first_message: Some("hello?".into()) };
    let (_, chat) = s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    s.client.accept(&leaver.access_token, &chat.id).await.unwrap();
    let mut ws = connected(&s, &leaver.access_token).await;
    ws.send_message(&chat.id, "m1", "I'm here to help").await.unwrap();

    let done =
        s.client.offboard_user(&admin.access_token, &leaver.user.id, &because("left the council")).await.unwrap();
    assert!(done.offboarded && !done.on_duty, "{done:?}");
    assert_eq!(close_code(&mut ws).await, 4001);
    signed_out(&s, &leaver).await;
    assert_eq!(status(s.client.login("leaver", TEST_PASSWORD).await.unwrap_err()), 401, "the right password too");
    let history = s.client.messages(&yp.access_token, &chat.id, 0, None).await.unwrap().messages;
    let theirs = history.iter().find(|m| m.body == "I'm here to help").expect("their message stays");
    assert_eq!(theirs.sender.as_ref().map(|u| u.display_name.as_str()), Some("Test duty_worker"));
    assert_eq!(account(&s, &admin.access_token, &leaver.user.id).await.display_name, "Test duty_worker");

    // For good: nothing brings the account back or changes it.
    for e in [
        s.client.reactivate_user(&admin.access_token, &leaver.user.id, &because("oops")).await.unwrap_err(),
        s.client.suspend_user(&admin.access_token, &leaver.user.id, &because("x")).await.unwrap_err(),
        s.client
            .change_role(&admin.access_token, &leaver.user.id, &RoleChangeRequest { role: Role::Supervisor })
            .await
            .unwrap_err(),
        s.client.issue_password_reset(&admin.access_token, &leaver.user.id).await.unwrap_err(),
    ] {
        assert_eq!(status(e), 409);
    }
    let record = s.state().store.user(leaver.user.id.as_str()).await.unwrap().unwrap();
    assert!(record.password_hash.is_none() && record.totp_secret.is_none(), "no way in is kept");
    let log = audited(&s, &leaver.user.id).await;
    assert!(log.contains(&("user_offboarded".into(), Some("left the council".into()))), "{log:?}");
    s.stop().await;
}

async fn suspension_ends_everything_and_reactivation_revives_nothing(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let worker = s.staff_named(Role::Supervisor, "on-leave").await;
    let mut ws = connected(&s, &worker.access_token).await;
    let suspended =
        s.client.suspend_user(&admin.access_token, &worker.user.id, &because("investigation")).await.unwrap();
    assert!(suspended.suspended);
    assert_eq!(close_code(&mut ws).await, 4001);
    signed_out(&s, &worker).await;
    assert_eq!(status(s.client.login("on-leave", TEST_PASSWORD).await.unwrap_err()), 401);

    let back =
        s.client.reactivate_user(&admin.access_token, &worker.user.id, &AccountActionRequest::default()).await.unwrap();
    assert!(!back.suspended);
    signed_out(&s, &worker).await;
    let fresh = s.client.login("on-leave", TEST_PASSWORD).await.expect("signs in again");
    s.client.me(&fresh.access_token).await.unwrap();
    let actions: Vec<String> = audited(&s, &worker.user.id).await.into_iter().map(|(a, _)| a).collect();
    assert!(actions.contains(&"user_suspended".into()) && actions.contains(&"user_reactivated".into()), "{actions:?}");
    s.stop().await;
}

/// A new role ends every session at once (the old role's token is refused, its socket closed),
/// takes the account off duty, and the next sign-in has the new role.
async fn a_new_role_ends_every_session(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let worker = s.staff_named(Role::DutyWorker, "promoted").await;
    s.client.set_duty(&worker.access_token, true).await.unwrap();
    let mut ws = connected(&s, &worker.access_token).await;
    let to = RoleChangeRequest { role: Role::Supervisor };
    let changed = s.client.change_role(&admin.access_token, &worker.user.id, &to).await.unwrap();
    assert_eq!((changed.role, changed.on_duty), (Role::Supervisor, false));
    assert_eq!(close_code(&mut ws).await, 4001);
    signed_out(&s, &worker).await;
    let fresh = s.client.login("promoted", TEST_PASSWORD).await.unwrap();
    assert_eq!(fresh.user.role, Role::Supervisor);
    let log = audited(&s, &worker.user.id).await;
    assert!(log.contains(&("role_changed".into(), Some("duty_worker -> supervisor".into()))), "{log:?}");
    s.stop().await;
}

/// Nobody locks the service out of its own administration, and only staff are managed here.
async fn the_lifecycle_has_guard_rails(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    let me = admin.user.id.clone();
    let tok = admin.access_token.as_str();
    assert_eq!(status(s.client.suspend_user(tok, &me, &because("x")).await.unwrap_err()), 409, "not one's own");
    let other = s.staff(Role::YotAdmin).await;
    // With two admins, one may demote the other; the one left may not be suspended by... anyone.
    s.client.change_role(tok, &other.user.id, &RoleChangeRequest { role: Role::Moderator }).await.unwrap();
    let e = s.client.offboard_user(&other.access_token, &me, &because("x")).await.unwrap_err();
    assert_eq!(status(e), 401, "the demoted admin's sessions ended");
    let e = talkzone_server::accounts::change_account(
        s.state().store.as_ref(),
        SystemClock.now_ms(),
        None,
        me.as_str(),
        talkzone_server::store::AccountChange::Suspend,
        None,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("last active YOT admin"), "{e}");
    let yp = s.young_person().await;
    assert_eq!(status(s.client.suspend_user(tok, &yp.user.id, &because("x")).await.unwrap_err()), 404, "not staff");
    let worker = s.staff(Role::DutyWorker).await;
    let e = s.client.change_role(tok, &worker.user.id, &RoleChangeRequest { role: Role::YoungPerson }).await;
    assert_eq!(status(e.unwrap_err()), 422);
    let long = "x".repeat(501);
    assert_eq!(status(s.client.suspend_user(tok, &worker.user.id, &because(&long)).await.unwrap_err()), 422);
    let e = s.client.suspend_user(&worker.access_token, &worker.user.id, &because("x")).await.unwrap_err();
    assert_eq!(status(e), 403);
    s.client.me(&worker.access_token).await.expect("nothing changed");
    s.stop().await;
}

/// A password reset is a one-time code shown once to the admin, never a password: the person
/// sets their own with it, every session ends, and the code works once, before it expires.
async fn a_password_reset_is_a_one_time_code(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend).clock(clock.clone()).start().await;
    let admin = s.staff(Role::YotAdmin).await;
    let worker = s.staff_named(Role::DutyWorker, "forgetful").await;
    let mut ws = connected(&s, &worker.access_token).await;
    let first = s.client.issue_password_reset(&admin.access_token, &worker.user.id).await.unwrap();
    let issued = s.client.issue_password_reset(&admin.access_token, &worker.user.id).await.unwrap();
    assert!(issued.path.starts_with("/console#reset=") && issued.path.ends_with(&issued.code));
    assert_eq!(
        status(s.client.reset_password(&first.code, "a fresh long passphrase").await.unwrap_err()),
        401,
        "replaced"
    );
    assert_eq!(status(s.client.reset_password(&issued.code, "short").await.unwrap_err()), 422);
    s.client.me(&worker.access_token).await.expect("nothing happens until the code is used");

    s.client.reset_password(&issued.code, "a fresh long passphrase").await.unwrap();
    assert_eq!(close_code(&mut ws).await, 4001);
    signed_out(&s, &worker).await;
    assert_eq!(status(s.client.login("forgetful", TEST_PASSWORD).await.unwrap_err()), 401);
    s.client.login("forgetful", "a fresh long passphrase").await.expect("the new password");
    assert_eq!(
        status(s.client.reset_password(&issued.code, "another long passphrase").await.unwrap_err()),
        401,
        "once"
    );

    let late = s.client.issue_password_reset(&admin.access_token, &worker.user.id).await.unwrap();
    clock.advance_ms(talkzone_server::accounts::PASSWORD_RESET_TTL_MS + 1);
    assert_eq!(
        status(s.client.reset_password(&late.code, "another long passphrase").await.unwrap_err()),
        401,
        "expired"
    );
    let actions: Vec<String> = audited(&s, &worker.user.id).await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions.iter().filter(|a| *a == "password_reset_issued").count(), 3, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| *a == "password_reset").count(), 1, "{actions:?}");
    s.stop().await;
}

/// `talkzone admin suspend` on the server: the same change, audited with no actor, and the
/// running node closes the account's sockets within a second or two (it finds the ended
/// sessions itself: no event reaches it from the command line).
async fn the_command_line_suspends_and_offboards(backend: Backend) {
    let s = TestServer::start(backend).await;
    let worker = s.staff_named(Role::DutyWorker, "cli-worker").await;
    let mut ws = connected(&s, &worker.access_token).await;
    let run = |args: &[&str]| {
        let out = std::process::Command::new(talkzone_tests::talkzone_binary())
            .args(["admin"])
            .args(args)
            .env("TALKZONE_DATABASE_URL", &s.database_url)
            .env("TALKZONE_DATA_DIR", &s.dir.0)
            .env("TALKZONE_JWT_SECRET", "cli-test-secret-cli-test-secret-cli-test-0123")
            .output()
            .expect("run talkzone");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    };
    let (ok, text) = run(&["suspend", "--username", "cli-worker", "--reason", "on the phone to HR"]);
    assert!(ok && text.contains("suspended"), "{text}");
    assert_eq!(close_code(&mut ws).await, 4001);
    signed_out(&s, &worker).await;
    let (ok, text) = run(&["reset-password", "--username", "cli-worker"]);
    assert!(!ok && text.contains("only an active account"), "{text}");
    let (ok, text) = run(&["reactivate", "--username", "cli-worker"]);
    assert!(ok && text.contains("active"), "{text}");
    let (ok, text) = run(&["reset-password", "--username", "cli-worker"]);
    assert!(ok, "{text}");
    let code = text.split("): ").nth(1).and_then(|r| r.split_whitespace().next()).expect("the code").to_owned();
    s.client.reset_password(&code, "set from the console").await.unwrap();
    let again = s.client.login("cli-worker", "set from the console").await.unwrap();
    let mut ws = connected(&s, &again.access_token).await;
    let (ok, text) = run(&["offboard", "--username", "cli-worker"]);
    assert!(ok && text.contains("offboarded"), "{text}");
    assert_eq!(close_code(&mut ws).await, 4001);
    let (ok, text) = run(&["suspend", "--username", "nobody-here"]);
    assert!(!ok && text.contains("no staff account"), "{text}");
    let log = audited(&s, &worker.user.id).await;
    assert!(log.contains(&("user_suspended".into(), Some("on the phone to HR".into()))), "{log:?}");
    let events = s.state().store.audit_for_target("user", worker.user.id.as_str()).await.unwrap();
    let by_command_line = ["user_suspended", "user_reactivated", "password_reset_issued", "user_offboarded"];
    let lifecycle: Vec<_> = events.iter().filter(|e| by_command_line.contains(&e.action.as_str())).collect();
    assert_eq!(lifecycle.len(), 4, "{lifecycle:?}");
    assert!(lifecycle.iter().all(|e| e.actor_id.is_none()), "the command line acts as nobody in particular");
    eventually(T, "the offboarded account refused", || async { s.client.me(&again.access_token).await.is_err() }).await;
    s.stop().await;
}

both_backends!(
    a_leaver_is_offboarded_and_their_name_stays,
    suspension_ends_everything_and_reactivation_revives_nothing,
    a_new_role_ends_every_session,
    the_lifecycle_has_guard_rails,
    a_password_reset_is_a_one_time_code,
    the_command_line_suspends_and_offboards,
);
