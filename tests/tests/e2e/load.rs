//! Small, quick runs of the load generator's scenarios (`tzload`), for correctness only: no
//! timing is asserted. Every acknowledged message reaches every member that should see it,
//! once and in order, including across a reconnect storm.

use talkzone_mobile_api::{CreateUserRequest, Role};
use talkzone_tests::load::scenarios::{self, Fanout, Idle, Pairs};
use talkzone_tests::load::{Observe, Report, Target};
use talkzone_tests::{both_backends, eventually, Backend, TestServer};

const ADMIN_PASSWORD: &str = "load-test-admin-password";

/// A server whose per-user and per-connection rates do not refuse the generator's traffic
/// (refusals are counted, and would fail these tests), with an admin account.
async fn server(backend: Backend) -> (TestServer, Target) {
    let s = TestServer::builder(backend).without_message_limits().start().await;
    let admin = CreateUserRequest {
        username: "load-admin".into(),
        password: ADMIN_PASSWORD.into(),
        role: Role::YotAdmin,
        display_name: None,
    };
    talkzone_server::accounts::create_account(s.state().store.as_ref(), 0, admin, None)
        .await
        .expect("create the admin");
    let target = Target {
        urls: vec![s.base.clone()],
        admin_user: "load-admin".into(),
        admin_password: ADMIN_PASSWORD.into(),
        concurrency: 16,
    };
    (s, target)
}

/// Nothing lost, duplicated, reordered, refused or left unanswered.
fn assert_exactly_once(r: &Report) {
    assert!(r.sent > 0, "{}", r.human());
    assert_eq!(r.acked, r.sent, "every send acknowledged: {}", r.human());
    assert_eq!((r.held, r.unacked), (0, 0), "{}", r.human());
    assert!(r.refused.is_empty(), "refusals: {:?}", r.refused);
    assert!(r.expected > 0, "{}", r.human());
    assert_eq!(r.delivered, r.expected, "{}", r.human());
    assert_eq!((r.lost, r.duplicated, r.out_of_order), (0, 0, 0), "{}", r.human());
    assert_eq!(r.clients_gave_up, 0, "{}", r.human());
    assert!(r.latency_ms.count as u64 == r.delivered && r.latency_ms.max >= r.latency_ms.p50);
}

fn pairs_of(pairs: usize, workers: usize) -> Pairs {
    Pairs { pairs, workers, rate: 5.0, both_ways: true, seconds: 1.5, drain_s: 10.0 }
}

async fn pairs_deliver_everything_once_in_order(backend: Backend) {
    let (s, target) = server(backend).await;
    let r = scenarios::pairs(&target, &Observe::default(), &pairs_of(5, 0)).await.expect("pairs runs");
    assert_exactly_once(&r);
    assert_eq!(r.clients, 10);
    // Both directions: each message goes to the one other member of its chat.
    assert_eq!(r.expected, r.acked);
    s.stop().await;
}

async fn pairs_sharing_worker_accounts_still_get_their_own_chats(backend: Backend) {
    let (s, target) = server(backend).await;
    let o = Pairs { both_ways: false, ..pairs_of(6, 2) };
    let r = scenarios::pairs(&target, &Observe::default(), &o).await.expect("pairs runs");
    assert_exactly_once(&r);
    s.stop().await;
}

async fn idle_connections_are_held(backend: Backend) {
    let (s, target) = server(backend).await;
    let r =
        scenarios::idle(&target, &Observe::default(), &Idle { connections: 50, hold_s: 0.5 }).await.expect("idle runs");
    assert_eq!(r.clients, 50);
    assert_eq!((r.clients_gave_up, r.reconnects), (0, 0), "{}", r.human());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    // The clients close politely at the end; the server notices within moments.
    eventually(std::time::Duration::from_secs(10), "the server to see every client close", || async {
        match s.state().hub.connection_count() {
            0 => Ok(()),
            open => Err(open),
        }
    })
    .await;
    assert_eq!(s.state().hub.connection_count(), 0, "closed at the end");
    s.stop().await;
}

async fn fanout_reaches_every_member(backend: Backend) {
    let (s, target) = server(backend).await;
    let o = Fanout { members: 10, senders: 2, rate: 5.0, seconds: 1.5, drain_s: 10.0 };
    let r = scenarios::fanout(&target, &Observe::default(), &o).await.expect("fanout runs");
    assert_exactly_once(&r);
    assert_eq!(r.expected, r.acked * 9, "each message to the nine other members");
    s.stop().await;
}

async fn reconnect_storm_resumes_without_loss(backend: Backend) {
    let (s, target) = server(backend).await;
    let o = Pairs { seconds: 3.0, ..pairs_of(10, 0) };
    let r = scenarios::storm(&target, &Observe::default(), &o, 1.0).await.expect("storm runs");
    assert_exactly_once(&r);
    assert_eq!(r.reconnects, 20, "every client dropped its socket and resumed: {}", r.human());
    s.stop().await;
}

both_backends!(
    pairs_deliver_everything_once_in_order,
    pairs_sharing_worker_accounts_still_get_their_own_chats,
    idle_connections_are_held,
    fanout_reaches_every_member,
    reconnect_storm_resumes_without_loss,
);

/// The `failover` scenario on the topology it is for: two `talkzone` processes on PostgreSQL
/// and Redis; one is killed (`kill -9`) mid-run; clients on it resume on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_loses_nothing_acknowledged() {
    use talkzone_tests::cluster::RedisServer;
    use talkzone_tests::{create_account_in, fresh_database, ProcessServer, TempDir, TEST_PASSWORD};
    let redis = RedisServer::start().await;
    let dir = TempDir::new();
    let db = fresh_database(Backend::Postgres, &dir.0).await;
    let url = redis.url();
    let env = [("TALKZONE_REDIS_URL", url.as_str())];
    let a = ProcessServer::spawn_with(&db, &dir.0, &env).await;
    let b = ProcessServer::spawn_with(&db, &dir.0, &env).await;
    create_account_in(&db, "load-admin", Role::YotAdmin).await;
    let target = Target {
        urls: vec![a.base.clone(), b.base.clone()],
        admin_user: "load-admin".into(),
        admin_password: TEST_PASSWORD.into(),
        concurrency: 16,
    };
    let kill = format!("kill -9 {}", b.child.id().expect("node b runs"));
    let o = Pairs { seconds: 3.0, drain_s: 15.0, ..pairs_of(10, 0) };
    let r = scenarios::failover(&target, &Observe::default(), &o, 1.0, &kill).await.expect("failover runs");
    assert_exactly_once(&r);
    assert!(r.reconnects > 0, "clients of the killed node reconnected: {}", r.human());
    drop(b);
    drop(a);
}
