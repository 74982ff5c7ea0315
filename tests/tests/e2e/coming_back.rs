//! Coming back to an anonymous chat (docs/privacy.md, "Coming back"): a device credential and a
//! recovery phrase each sign the young person in again, as a new session on the same account,
//! where a message left out of hours has been answered; a forgotten or another person's
//! credential never opens this account; wrong phrases are throttled, and a replaced phrase, a
//! deleted account or a credential unused too long no longer opens anything.

use std::sync::Arc;

use talkzone_mobile_api::{CreateConversationRequest, Role, RECOVERY_PHRASE_WORDS};
use talkzone_server::clock::{Clock, ManualClock, SystemClock};
use talkzone_server::limits::{RECOVER_PER_IP_PER_HOUR, RECOVER_PER_PHRASE_PER_HOUR};
use talkzone_tests::{both_backends, Backend, TestServer};

async fn out_of_hours_message_is_answered_into_the_chat_they_come_back_to(backend: Backend) {
    let s = TestServer::start(backend).await;
    let yp = s.young_person().await;
    let req =
        CreateConversationRequest { topic: None, first_message: Some("nobody's there but I'll leave this".into()) };
    let (_, conv) = s.client.open_conversation(&yp.access_token, &req).await.unwrap();
    let device = s.client.create_device_credential(&yp.access_token).await.unwrap();
    let phrase = s.client.create_recovery_phrase(&yp.access_token).await.unwrap();
    assert_eq!(phrase.phrase.split(' ').count(), RECOVERY_PHRASE_WORDS);
    let list = s.client.device_credentials(&yp.access_token).await.unwrap();
    assert_eq!(list.credentials.len(), 1);
    assert!(list.has_recovery_phrase);
    let listed = serde_json::to_string(&list).unwrap();
    assert!(!listed.contains(&device.credential) && !listed.contains(&phrase.phrase), "never a secret in a list");
    // The data export names the ways back, never the secrets.
    let export = s.client.export_my_data(&yp.access_token).await.unwrap();
    assert_eq!(export.ways_back.credentials.len(), 1);
    assert!(export.ways_back.has_recovery_phrase);
    let exported = serde_json::to_string(&export).unwrap();
    assert!(!exported.contains(&device.credential) && !exported.contains(&phrase.phrase), "no secret exported");

    // The young person puts the phone down (signs out of this session); a worker answers later.
    s.client.logout(&yp.refresh_token).await.unwrap();
    let worker = s.staff(Role::DutyWorker).await;
    s.client.accept(&worker.access_token, &conv.id).await.unwrap();
    let mut w = s.client.connect(&worker.access_token).await.unwrap();
    w.send_message(&conv.id, "w-1", "Hi, I'm here now. Are you OK?").await.unwrap();

    // Back on the same device: a new session on the same account, with the answer in the chat.
    let back = s.client.sign_in_with_device(&device.credential).await.unwrap();
    assert_eq!(back.user.id, yp.user.id);
    let sessions = s.client.my_sessions(&back.access_token).await.unwrap();
    assert!(sessions.sessions.iter().any(|x| x.method == "device"), "{sessions:?}");
    let mine = s.client.list_conversations(&back.access_token, None).await.unwrap();
    assert_eq!(mine.conversations.len(), 1);
    assert_eq!(mine.conversations[0].id, conv.id);
    let page = s.client.messages(&back.access_token, &conv.id, 0, None).await.unwrap();
    assert!(page.messages.iter().any(|m| m.body == "Hi, I'm here now. Are you OK?"), "the answer is there");

    // On another device, with the words as written down (shouted, with hyphens).
    let written = phrase.phrase.to_uppercase().replace(' ', "-");
    let other = s.client.recover(&written).await.unwrap();
    assert_eq!(other.user.id, yp.user.id);
    let sessions = s.client.my_sessions(&other.access_token).await.unwrap();
    assert!(sessions.sessions.iter().any(|x| x.method == "recovery_phrase"), "{sessions:?}");

    // A new phrase replaces the old one.
    let newer = s.client.create_recovery_phrase(&other.access_token).await.unwrap();
    assert_eq!(s.client.recover(&phrase.phrase).await.unwrap_err().status(), Some(401));
    assert_eq!(s.client.recover(&newer.phrase).await.unwrap().user.id, yp.user.id);
    // Removed, it opens nothing, and removing it again is a 404.
    s.client.remove_recovery_phrase(&other.access_token).await.unwrap();
    assert_eq!(s.client.recover(&newer.phrase).await.unwrap_err().status(), Some(401));
    assert_eq!(s.client.remove_recovery_phrase(&other.access_token).await.unwrap_err().status(), Some(404));

    // Forgotten, the credential opens nothing.
    s.client.forget_device_credential(&other.access_token, &device.id).await.unwrap();
    assert_eq!(s.client.sign_in_with_device(&device.credential).await.unwrap_err().status(), Some(401));
    assert_eq!(
        s.client.forget_device_credential(&other.access_token, &device.id).await.unwrap_err().status(),
        Some(404)
    );
    s.stop().await;
}

async fn a_credential_opens_only_its_own_account(backend: Backend) {
    let s = TestServer::start(backend).await;
    let a = s.young_person().await;
    let b = s.young_person().await;
    let a_device = s.client.create_device_credential(&a.access_token).await.unwrap();
    let b_device = s.client.create_device_credential(&b.access_token).await.unwrap();
    assert_ne!(a_device.credential, b_device.credential);
    assert_eq!(s.client.sign_in_with_device(&b_device.credential).await.unwrap().user.id, b.user.id);
    assert_eq!(s.client.sign_in_with_device(&a_device.credential).await.unwrap().user.id, a.user.id);
    // A cannot forget B's device: the same 404 as for an id nobody has.
    let theirs = s.client.forget_device_credential(&a.access_token, &b_device.id).await.unwrap_err();
    let nobodys = s.client.forget_device_credential(&a.access_token, "no-such-id").await.unwrap_err();
    assert_eq!((theirs.status(), theirs.to_string()), (nobodys.status(), nobodys.to_string()));
    assert_eq!(s.client.sign_in_with_device(&b_device.credential).await.unwrap().user.id, b.user.id, "still B's");
    // A's list shows only A's.
    let list = s.client.device_credentials(&a.access_token).await.unwrap();
    assert_eq!(list.credentials.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), vec![a_device.id.as_str()]);
    assert!(!list.has_recovery_phrase);
    // Made-up and malformed credentials: the same 401.
    for bad in ["", "x", &"a".repeat(200), &a_device.credential[1..]] {
        assert_eq!(s.client.sign_in_with_device(bad).await.unwrap_err().status(), Some(401), "{bad:?}");
    }
    // Staff have no device credentials or phrases: their sign-in has a second factor.
    let worker = s.staff(Role::DutyWorker).await;
    assert_eq!(s.client.create_device_credential(&worker.access_token).await.unwrap_err().status(), Some(403));
    assert_eq!(s.client.create_recovery_phrase(&worker.access_token).await.unwrap_err().status(), Some(403));
    // A deleted account takes its ways back with it.
    let phrase = s.client.create_recovery_phrase(&a.access_token).await.unwrap();
    s.client.delete_me(&a.access_token).await.unwrap();
    assert_eq!(s.client.sign_in_with_device(&a_device.credential).await.unwrap_err().status(), Some(401));
    assert_eq!(s.client.recover(&phrase.phrase).await.unwrap_err().status(), Some(401));
    s.stop().await;
}

async fn wrong_phrases_are_throttled_and_unused_credentials_expire(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let s = TestServer::builder(backend).clock(clock.clone()).start().await;
    let yp = s.young_person().await;
    let phrase = s.client.create_recovery_phrase(&yp.access_token).await.unwrap().phrase;
    let words: Vec<&str> = phrase.split(' ').collect();
    // A word not on the list is answered with the word, and costs no try.
    let typo = s.client.recover(&phrase.replacen(words[0], "zzz", 1)).await.unwrap_err();
    assert_eq!(typo.status(), Some(422));
    assert!(typo.to_string().contains("zzz"), "{typo}");
    assert_eq!(s.client.recover("apple apple").await.unwrap_err().status(), Some(422), "too few words");
    // Someone who saw the first words tries the rest: refused after the phrase's tries, even
    // with the right one.
    let mut wrong = words.clone();
    for n in 0..RECOVER_PER_PHRASE_PER_HOUR {
        wrong[9] = ["acorn", "actor", "album", "alpine", "amber", "anchor"][n as usize];
        if wrong[9] == words[9] {
            wrong[9] = "toast";
        }
        assert_eq!(s.client.recover(&wrong.join(" ")).await.unwrap_err().status(), Some(401), "try {n}");
    }
    let throttled = s.client.recover(&phrase).await.unwrap_err();
    assert_eq!(throttled.status(), Some(429), "the right phrase too, once the tries are spent");
    // Other phrases from this source, until the source's tries are spent.
    let mut refused = 0;
    for n in 0..RECOVER_PER_IP_PER_HOUR {
        let guess = format!("bear bell berry boat book boot bread brick bridge {}", ["cake", "city"][n as usize % 2]);
        if s.client.recover(&guess).await.unwrap_err().status() == Some(429) {
            refused += 1;
        }
    }
    assert!(refused >= 1, "the source's tries run out");
    // An hour later the young person gets in.
    clock.advance_ms(3_600_000);
    assert_eq!(s.client.recover(&phrase).await.unwrap().user.id, yp.user.id);

    // A credential unused for longer than the setting is gone; one used keeps going.
    let days = s.state().config.returning.device_credential_days;
    let used = s.client.create_device_credential(&yp.access_token).await.unwrap();
    let idle = s.client.create_device_credential(&yp.access_token).await.unwrap();
    clock.advance_ms(i64::from(days) * 86_400_000 - 60_000);
    s.client.sign_in_with_device(&used.credential).await.unwrap();
    clock.advance_ms(120_000);
    assert_eq!(s.client.sign_in_with_device(&idle.credential).await.unwrap_err().status(), Some(401));
    s.client.sign_in_with_device(&used.credential).await.unwrap();
    // The retention job forgets idle credentials whether or not anyone signs in with one.
    let store = &s.state().store;
    let _idle_too = s.client.create_device_credential(&yp.access_token).await.unwrap();
    clock.advance_ms(i64::from(days) * 86_400_000 + 60_000);
    assert_eq!(store.device_credentials(yp.user.id.as_str()).await.unwrap().len(), 2, "kept until retention runs");
    talkzone_server::jobs::run_once(s.state()).await;
    assert!(store.device_credentials(yp.user.id.as_str()).await.unwrap().is_empty(), "forgotten by retention");
    s.stop().await;
}

both_backends!(
    out_of_hours_message_is_answered_into_the_chat_they_come_back_to,
    a_credential_opens_only_its_own_account,
    wrong_phrases_are_throttled_and_unused_credentials_expire,
);
