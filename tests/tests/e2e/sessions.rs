//! Ending sessions: a logout or a password change revokes refresh tokens, refuses the access
//! tokens already issued, and closes the user's open sockets within a second or two.

use std::time::Duration;

use talkzone_mobile_api::client::ClientError;
use talkzone_mobile_api::{PasswordChange, Role};
use talkzone_tests::{both_backends, Backend, TestServer};

async fn closed_soon(ws: &mut talkzone_mobile_api::client::WsConnection) {
    match ws.recv_timeout(Duration::from_secs(2)).await {
        Err(ClientError::Closed(_)) | Err(ClientError::WebSocket(_)) => {}
        other => panic!("expected the socket to close, got {other:?}"),
    }
}

async fn logout_and_password_change_end_every_session(backend: Backend) {
    let s = TestServer::start(backend).await;
    // Logout: everywhere.
    let staff = s.staff(Role::DutyWorker).await;
    let second_device = s.client.refresh(&staff.refresh_token).await.unwrap();
    let mut ws = s.client.connect(&second_device.access_token).await.unwrap();
    ws.round_trip().await.unwrap();
    s.client.logout(&second_device.refresh_token).await.unwrap();
    closed_soon(&mut ws).await;
    assert_eq!(s.client.me(&second_device.access_token).await.unwrap_err().status(), Some(401), "access token refused");
    assert_eq!(s.client.refresh(&second_device.refresh_token).await.unwrap_err().status(), Some(401));

    // Password change.
    let worker = s.staff(Role::Supervisor).await;
    let mut ws = s.client.connect(&worker.access_token).await.unwrap();
    ws.round_trip().await.unwrap();
    let change =
        |current: &str, new: &str| PasswordChange { current_password: current.into(), new_password: new.into() };
    let wrong =
        s.client.change_password(&worker.access_token, &change("not it at all!", "a brand new long password")).await;
    assert_eq!(wrong.unwrap_err().status(), Some(401));
    let weak = s.client.change_password(&worker.access_token, &change("correct horse battery staple", "short")).await;
    assert_eq!(weak.unwrap_err().status(), Some(422));
    s.client
        .change_password(&worker.access_token, &change("correct horse battery staple", "a brand new long password"))
        .await
        .unwrap();
    closed_soon(&mut ws).await;
    assert_eq!(s.client.me(&worker.access_token).await.unwrap_err().status(), Some(401));
    assert_eq!(s.client.refresh(&worker.refresh_token).await.unwrap_err().status(), Some(401));
    let record = s.state().store.user(worker.user.id.as_str()).await.unwrap().unwrap();
    let name = record.username.unwrap();
    assert_eq!(s.client.login(&name, "correct horse battery staple").await.unwrap_err().status(), Some(401));
    let fresh = s.client.login(&name, "a brand new long password").await.unwrap();
    s.client.me(&fresh.access_token).await.expect("a new sign-in works at once");
    s.stop().await;
}

both_backends!(logout_and_password_change_end_every_session);
