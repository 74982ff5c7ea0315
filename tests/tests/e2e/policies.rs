//! One moderation policy for every node: versions kept in the database, audited, listed and
//! restorable; a new version in force on another node within a second (through Redis, and
//! from the database alone when the broker's event is lost); policies an earlier version kept
//! as files taken in at start.

use std::time::Duration;

use talkzone_moderation::{Context, Severity};
use talkzone_server::model::AuditAction;
use talkzone_tests::api::{NoticeRequest, Role};
use talkzone_tests::cluster::RedisServer;
use talkzone_tests::{both_backends, eventually, Backend, TestServer};

/// The built-in policy and one rule more, so that a node using it can be told apart.
fn policy_with(phrase: &str) -> String {
    format!(
        "{}\n[[rule]]\nid = \"test_{}\"\ncategory = \"violence_threat\"\nseverity = \"critical\"\nphrases = [\"{phrase}\"]\n",
        talkzone_moderation::DEFAULT_POLICY,
        phrase.replace(' ', "_")
    )
}

fn severity_on(s: &TestServer, text: &str) -> Severity {
    s.state().moderation.check(text, Context::Support).severity
}

async fn one_policy_for_two_nodes(backend: Backend) {
    let redis = RedisServer::start().await;
    let (u1, u2) = (redis.url(), redis.url());
    let a = TestServer::builder(backend).config(move |c| c.redis_url = Some(u1)).start().await;
    let b = a.another_node().config(move |c| c.redis_url = Some(u2)).start().await;
    let admin = a.staff(Role::YotAdmin).await;
    assert_eq!(severity_on(&b, "a purple elephant"), Severity::None);

    let stored = a.client.replace_moderation_policy(&admin.access_token, &policy_with("purple elephant")).await;
    assert_eq!(stored.unwrap().version, 1);
    assert_eq!(severity_on(&a, "a purple elephant"), Severity::Critical, "in force where it was put, at once");
    eventually(Duration::from_secs(10), "the other node to change over", || async {
        severity_on(&b, "a purple elephant") == Severity::Critical
    })
    .await;
    assert_eq!(b.client.moderation_policy(&admin.access_token).await.unwrap(), policy_with("purple elephant"));

    // A second version, through the other node; then the first put back (a third version).
    b.client.replace_moderation_policy(&admin.access_token, &policy_with("green giraffe")).await.unwrap();
    eventually(Duration::from_secs(10), "node a to change over", || async {
        severity_on(&a, "a green giraffe") == Severity::Critical
            && severity_on(&a, "a purple elephant") == Severity::None
    })
    .await;
    let restored = a.client.restore_moderation_policy(&admin.access_token, 1).await.unwrap();
    assert_eq!(restored.version, 3);
    eventually(Duration::from_secs(10), "node b to put version 1's rules back", || async {
        severity_on(&b, "a purple elephant") == Severity::Critical
    })
    .await;
    let versions = a.client.moderation_policy_versions(&admin.access_token).await.unwrap().versions;
    let summary: Vec<_> = versions.iter().map(|v| (v.version, v.in_force, v.note.clone())).collect();
    assert_eq!(
        summary,
        vec![(3, true, Some("restored from version 1".to_owned())), (2, false, None), (1, false, None)]
    );
    let audit = a.state().store.audit_for_target("policy", "moderation").await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == AuditAction::ModerationPolicyReplaced).count(), 3);
    assert!(audit.iter().all(|e| e.actor_id.as_deref() == Some(admin.user.id.as_str())));

    // A bad policy is refused with what is wrong, and no version is made; an unknown version
    // cannot be put back; nobody but the admin may do any of it.
    let e = a.client.replace_moderation_policy(&admin.access_token, "[[rule]]\nid = 3").await.unwrap_err();
    assert_eq!(e.status(), Some(422), "{e}");
    let e = a.client.restore_moderation_policy(&admin.access_token, 99).await.unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");
    let sup = a.staff(Role::Supervisor).await;
    assert_eq!(a.client.moderation_policy_versions(&sup.access_token).await.unwrap_err().status(), Some(403));
    assert_eq!(a.client.restore_moderation_policy(&sup.access_token, 1).await.unwrap_err().status(), Some(403));
    assert_eq!(a.client.moderation_policy_versions(&admin.access_token).await.unwrap().versions.len(), 3);

    // A node started later (a recreated container) starts with the version in force.
    let c = a.another_node().start().await;
    assert_eq!(severity_on(&c, "a purple elephant"), Severity::Critical);
    for s in [c, b, a] {
        s.stop().await;
    }
}

/// Without a broker (two nodes on one database, each with the in-process broker) no event
/// reaches the other node: the database alone brings it over, within a second.
async fn a_lost_event_is_made_good_from_the_database(backend: Backend) {
    let a = TestServer::start(backend).await;
    let b = a.another_node().start().await;
    let admin = a.staff(Role::YotAdmin).await;
    a.client.replace_moderation_policy(&admin.access_token, &policy_with("purple elephant")).await.unwrap();
    eventually(Duration::from_secs(10), "the other node to look in the database", || async {
        severity_on(&b, "a purple elephant") == Severity::Critical
    })
    .await;
    b.stop().await;
    a.stop().await;
}

/// Files an earlier version kept in the data directory are taken in once, as the first
/// versions; a policy file that does not compile stops the start, as it always did.
async fn old_policy_files_are_taken_in(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = s.staff(Role::YotAdmin).await;
    std::fs::write(s.dir.0.join("moderation-policy.toml"), policy_with("purple elephant")).unwrap();
    std::fs::write(s.dir.0.join("monitoring-notice.toml"), "version = 4\ntext = \"A supervisor may read this.\"\n")
        .unwrap();
    let again = s.another_node().start().await;
    assert_eq!(severity_on(&again, "a purple elephant"), Severity::Critical);
    let versions = again.client.moderation_policy_versions(&admin.access_token).await.unwrap().versions;
    assert_eq!(versions.len(), 1);
    assert!(versions[0].note.as_deref().unwrap_or("").starts_with("taken in from"), "{versions:?}");
    let notices = again.client.monitoring_notice_versions(&admin.access_token).await.unwrap().versions;
    assert_eq!(
        notices.iter().map(|v| (v.version, v.body.as_str())).collect::<Vec<_>>(),
        vec![(4, "A supervisor may read this.")]
    );
    // Once only: a changed file is not taken in again (the database is the truth now).
    std::fs::write(s.dir.0.join("moderation-policy.toml"), policy_with("green giraffe")).unwrap();
    let third = s.another_node().start().await;
    assert_eq!(severity_on(&third, "a green giraffe"), Severity::None);
    // The notice after an adopted one is numbered after it.
    let req = NoticeRequest { text: "New words.".into() };
    assert_eq!(third.client.replace_monitoring_notice(&admin.access_token, &req).await.unwrap().version, 5);
    third.stop().await;
    again.stop().await;
    s.stop().await;

    // On a fresh database, a broken policy file is refused at start, naming the file.
    let fresh = TestServer::start(backend).await;
    std::fs::write(fresh.dir.0.join("moderation-policy.toml"), "[[rule]]\nid = 3\n").unwrap();
    let config = talkzone_server::config::Config::for_tests(&fresh.dir.0, Some(fresh.database_url.clone()));
    let clock = std::sync::Arc::new(talkzone_server::clock::SystemClock);
    let Err(e) = talkzone_server::build_state(config, clock).await else {
        panic!("a broken policy file must stop the start")
    };
    assert!(e.to_string().contains("moderation-policy.toml"), "{e}");
    fresh.stop().await;
}

both_backends!(one_policy_for_two_nodes, a_lost_event_is_made_good_from_the_database, old_policy_files_are_taken_in);
