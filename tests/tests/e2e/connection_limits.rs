//! What one client can hold open (issue 22): WebSockets per user and per address, and HTTP
//! requests whose head, body or next request does not come in time.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use talkzone_mobile_api::client::{Client, ClientError};
use talkzone_tests::{both_backends, eventually, Backend, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(10);

fn from(s: &TestServer, ip: &str) -> Client {
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", HeaderValue::from_str(ip).unwrap());
    Client::with_headers(&s.base, headers).unwrap()
}

fn refused_with_429<T>(r: Result<T, ClientError>) {
    match r {
        Err(e) => assert_eq!(e.status(), Some(429), "{e}"),
        Ok(_) => panic!("a socket past the cap was accepted"),
    }
}

/// The case: one token opened 500 sockets in half a second.
async fn websockets_are_capped_per_user_and_per_source(backend: Backend) {
    let s = TestServer::builder(backend)
        .config(|c| {
            c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            c.limits.ws_per_user = 3;
            c.limits.ws_per_source = 5;
        })
        .start()
        .await;
    let here = from(&s, "198.51.100.20");
    let yp = here.anonymous().await.unwrap();
    // Opened all at once: the count is taken before the upgrade, so none slips past it.
    let tries = futures_util::future::join_all((0..10).map(|_| here.connect(&yp.access_token))).await;
    let (opened, refused): (Vec<_>, Vec<_>) = tries.into_iter().partition(|r| r.is_ok());
    assert_eq!(opened.len(), 3, "per user");
    for r in refused {
        refused_with_429(r);
    }
    // Another user from the same address: two more, then the address is full.
    let other = here.anonymous().await.unwrap();
    let _a = here.connect(&other.access_token).await.unwrap();
    let _b = here.connect(&other.access_token).await.unwrap();
    let third = s.young_person().await;
    refused_with_429(here.connect(&third.access_token).await);
    // The same user from elsewhere is still capped per user; another address is not.
    refused_with_429(from(&s, "198.51.100.21").connect(&yp.access_token).await);
    let _elsewhere = from(&s, "198.51.100.21").connect(&third.access_token).await.unwrap();

    // A closed socket gives its place back.
    let mut opened = opened.into_iter().map(Result::unwrap);
    opened.next().unwrap().close().await.unwrap();
    eventually(T, "the closed socket's place to come back", || async {
        here.connect(&yp.access_token).await.map(|ws| ws.abort())
    })
    .await;
    s.stop().await;
}

/// Reads until the server closes the connection; returns what it sent and how long it took.
async fn until_closed(tcp: &mut TcpStream, within: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(within.saturating_sub(started.elapsed()), tcp.read(&mut buf)).await {
            Err(_) => panic!("still open after {within:?}; got {:?}", String::from_utf8_lossy(&got)),
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), started.elapsed()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// The case: idle or half-sent requests stayed open for 310 s. A request's head must
/// come within the header timeout, its body within the body timeout, and a kept-alive
/// connection that sends nothing more is closed after the header timeout.
async fn slow_and_idle_http_connections_are_closed(backend: Backend) {
    let s = TestServer::builder(backend)
        .config(|c| {
            c.limits.http_header_timeout = Duration::from_secs(1);
            c.limits.http_body_timeout = Duration::from_secs(1);
        })
        .start()
        .await;
    let addr = s.base.trim_start_matches("http://").to_owned();

    // Half a request head, then nothing.
    let mut tcp = TcpStream::connect(&addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: talkzone\r\n").await.unwrap();
    let (_, took) = until_closed(&mut tcp, Duration::from_secs(5)).await;
    assert!(took >= Duration::from_millis(900), "closed only once the timeout passed: {took:?}");

    // A connection that never sends a byte.
    let mut tcp = TcpStream::connect(&addr).await.unwrap();
    until_closed(&mut tcp, Duration::from_secs(5)).await;

    // A body promised and never finished: answered 400 and closed.
    let mut tcp = TcpStream::connect(&addr).await.unwrap();
    let head = "POST /v1/auth/anonymous HTTP/1.1\r\nHost: talkzone\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    tcp.write_all(head.as_bytes()).await.unwrap();
    let (answer, _) = until_closed(&mut tcp, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

    // A body trickled a byte at a time, each in time, the whole not: the same.
    let mut tcp = TcpStream::connect(&addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let (mut read, mut write) = tcp.split();
    let writer = async {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if write.write_all(b" ").await.is_err() {
                break;
            }
        }
    };
    let reader = async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), async { tokio::join!(writer, reader) })
        .await
        .expect("closed within the body deadline");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 400"), "{}", String::from_utf8_lossy(&answer));

    // A whole request is answered, and the kept-alive connection then closes when idle.
    let mut tcp = TcpStream::connect(&addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: talkzone\r\n\r\n").await.unwrap();
    let (answer, took) = until_closed(&mut tcp, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(took >= Duration::from_millis(900), "kept alive until idle: {took:?}");
    s.stop().await;
}

both_backends!(websockets_are_capped_per_user_and_per_source, slow_and_idle_http_connections_are_closed);
