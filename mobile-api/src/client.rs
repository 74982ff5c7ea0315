//! A typed async client for the Talk Zone API: REST on reqwest, WebSocket on
//! tokio-tungstenite. The end-to-end tests and the load generator speak to the server only
//! through this, so it is also a worked example of the protocol.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::*;

/// What can go wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error status and the protocol's error body.
    #[error("HTTP {status}: {} ({})", body.error.message, body.error.code.as_str())]
    Api { status: u16, body: ErrorBody, retry_after: Option<u64> },
    /// The server answered with an error status and a body that is not the error shape.
    #[error("HTTP {status}: {text}")]
    Status { status: u16, text: String },
    #[error("transport: {0}")]
    Transport(String),
    #[error("decode: {0}")]
    Decode(String),
    #[error("websocket: {0}")]
    WebSocket(String),
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    #[error("websocket closed: {0:?}")]
    Closed(Option<(u16, String)>),
}

impl ClientError {
    /// HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Protocol error code of an API error.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { body, .. } => Some(body.error.code),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// The REST half of the client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: url::Url,
}

impl Client {
    /// `base` is the server's root, e.g. `http://127.0.0.1:8080`.
    pub fn new(base: &str) -> Result<Self> {
        let base = url::Url::parse(base).map_err(|e| ClientError::Transport(e.to_string()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(Self { http, base })
    }

    pub fn base(&self) -> &url::Url {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        let mut s = self.base.as_str().trim_end_matches('/').to_owned();
        s.push_str(path);
        s
    }

    /// Sends a request and returns the status with the decoded body.
    pub async fn request<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<(StatusCode, T)> {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| ClientError::Transport(e.to_string()))?;
        decode(resp).await
    }

    /// Sends raw bytes as a JSON body (for bad-input tests) and returns status and raw text.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(StatusCode, reqwest::header::HeaderMap, String)> {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok((status, headers, text))
    }

    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<T> {
        self.request(method, path, token, body).await.map(|(_, t)| t)
    }

    /// `POST /v1/auth/anonymous`.
    pub async fn anonymous(&self) -> Result<TokenResponse> {
        self.call(Method::POST, "/v1/auth/anonymous", None, Some(&AnonymousRequest {})).await
    }

    /// `POST /v1/auth/login`.
    pub async fn login(&self, username: &str, password: &str) -> Result<TokenResponse> {
        let req = LoginRequest { username: username.into(), password: password.into() };
        self.call(Method::POST, "/v1/auth/login", None, Some(&req)).await
    }

    /// `POST /v1/auth/refresh`.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse> {
        let req = RefreshRequest { refresh_token: refresh_token.into() };
        self.call(Method::POST, "/v1/auth/refresh", None, Some(&req)).await
    }

    /// `POST /v1/auth/logout`: revokes the refresh token's family.
    pub async fn logout(&self, refresh_token: &str) -> Result<()> {
        let req = RefreshRequest { refresh_token: refresh_token.into() };
        let _: serde_json::Value = self.call(Method::POST, "/v1/auth/logout", None, Some(&req)).await?;
        Ok(())
    }

    /// `GET /v1/me`.
    pub async fn me(&self, token: &str) -> Result<UserView> {
        self.call::<(), _>(Method::GET, "/v1/me", Some(token), None).await
    }

    /// `POST /v1/admin/users` (yot_admin).
    pub async fn create_user(&self, token: &str, req: &CreateUserRequest) -> Result<UserView> {
        self.call(Method::POST, "/v1/admin/users", Some(token), Some(req)).await
    }

    /// `POST /v1/ws-ticket`.
    pub async fn ws_ticket(&self, token: &str) -> Result<WsTicketResponse> {
        self.call::<(), _>(Method::POST, "/v1/ws-ticket", Some(token), None).await
    }

    /// `PUT /v1/me/duty`.
    pub async fn set_duty(&self, token: &str, on_duty: bool) -> Result<DutyView> {
        self.call(Method::PUT, "/v1/me/duty", Some(token), Some(&DutyRequest { on_duty })).await
    }

    /// `POST /v1/conversations`: 201 for a new conversation, 200 for the caller's open one.
    pub async fn open_conversation(
        &self,
        token: &str,
        req: &CreateConversationRequest,
    ) -> Result<(StatusCode, ConversationView)> {
        self.request(Method::POST, "/v1/conversations", Some(token), Some(req)).await
    }

    /// `GET /v1/conversations` with optional `state` filter.
    pub async fn list_conversations(&self, token: &str, state: Option<ConversationState>) -> Result<ConversationList> {
        let path = match state {
            Some(s) => format!("/v1/conversations?state={}", s.as_str()),
            None => "/v1/conversations".to_owned(),
        };
        self.call::<(), _>(Method::GET, &path, Some(token), None).await
    }

    /// `GET /v1/conversations/{id}`.
    pub async fn conversation(&self, token: &str, id: &ConversationId) -> Result<ConversationView> {
        self.call::<(), _>(Method::GET, &format!("/v1/conversations/{id}"), Some(token), None).await
    }

    /// `GET /v1/conversations/{id}/messages`.
    pub async fn messages(
        &self,
        token: &str,
        id: &ConversationId,
        after_seq: i64,
        limit: Option<u32>,
    ) -> Result<MessagesPage> {
        let mut path = format!("/v1/conversations/{id}/messages?after_seq={after_seq}");
        if let Some(l) = limit {
            path.push_str(&format!("&limit={l}"));
        }
        self.call::<(), _>(Method::GET, &path, Some(token), None).await
    }

    /// `POST /v1/conversations/{id}/accept` (duty_worker, supervisor).
    pub async fn accept(&self, token: &str, id: &ConversationId) -> Result<ConversationView> {
        self.call::<(), _>(Method::POST, &format!("/v1/conversations/{id}/accept"), Some(token), None).await
    }

    /// The WebSocket URL of this server (`ws://…/v1/ws`).
    pub fn ws_url(&self) -> String {
        let mut u = self.base.clone();
        let scheme = if u.scheme() == "https" { "wss" } else { "ws" };
        // Only fails for cannot-be-a-base URLs, which `new` never produces for http(s).
        let _ = u.set_scheme(scheme);
        u.set_path("/v1/ws");
        u.to_string()
    }

    /// Opens a WebSocket authenticated with the access token in `Authorization`.
    pub async fn connect(&self, token: &str) -> Result<WsConnection> {
        let mut req = self.ws_url().into_client_request().map_err(|e| ClientError::WebSocket(e.to_string()))?;
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| ClientError::WebSocket("token is not a valid header value".into()))?;
        req.headers_mut().insert(http::header::AUTHORIZATION, value);
        WsConnection::open(req).await
    }

    /// Opens a WebSocket the way a browser does: with a ticket and an `Origin`.
    pub async fn connect_with_ticket(&self, ticket: &str, origin: Option<&str>) -> Result<WsConnection> {
        let mut req = format!("{}?ticket={ticket}", self.ws_url())
            .into_client_request()
            .map_err(|e| ClientError::WebSocket(e.to_string()))?;
        if let Some(o) = origin {
            let v = o.parse().map_err(|_| ClientError::WebSocket("bad origin".into()))?;
            req.headers_mut().insert(http::header::ORIGIN, v);
        }
        WsConnection::open(req).await
    }
}

async fn decode<T: DeserializeOwned>(resp: reqwest::Response) -> Result<(StatusCode, T)> {
    let status = resp.status();
    let retry_after =
        resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let bytes = resp.bytes().await.map_err(|e| ClientError::Transport(e.to_string()))?;
    if status.is_success() {
        let t = serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))?;
        return Ok((status, t));
    }
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => Err(ClientError::Api { status: status.as_u16(), body, retry_after }),
        Err(_) => {
            Err(ClientError::Status { status: status.as_u16(), text: String::from_utf8_lossy(&bytes).into_owned() })
        }
    }
}

/// One WebSocket connection speaking protocol v1.
pub struct WsConnection {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsConnection {
    async fn open(req: http::Request<()>) -> Result<Self> {
        // A client needs no more than the server's frame limit; never tungstenite's 64 MiB.
        let config = WebSocketConfig::default().max_message_size(Some(1 << 20)).max_frame_size(Some(1 << 20));
        let (stream, _) =
            tokio_tungstenite::connect_async_with_config(req, Some(config), true).await.map_err(|e| match e {
                tokio_tungstenite::tungstenite::Error::Http(resp) => ClientError::Status {
                    status: resp.status().as_u16(),
                    text: resp.body().as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default(),
                },
                other => ClientError::WebSocket(other.to_string()),
            })?;
        Ok(Self { stream })
    }

    /// Sends one frame.
    pub async fn send(&mut self, frame: &ClientFrame) -> Result<()> {
        let text = serde_json::to_string(frame).map_err(|e| ClientError::Decode(e.to_string()))?;
        self.send_raw(Message::text(text)).await
    }

    /// Sends any WebSocket message as is (for bad-input tests).
    pub async fn send_raw(&mut self, msg: Message) -> Result<()> {
        self.stream.send(msg).await.map_err(|e| ClientError::WebSocket(e.to_string()))
    }

    /// Receives the next server frame, skipping control frames. A close is an error that
    /// carries the close code.
    pub async fn recv(&mut self) -> Result<ServerFrame> {
        loop {
            let msg = match self.stream.next().await {
                Some(Ok(m)) => m,
                Some(Err(e)) => return Err(ClientError::WebSocket(e.to_string())),
                None => return Err(ClientError::Closed(None)),
            };
            match msg {
                Message::Text(t) => {
                    return serde_json::from_str(t.as_str())
                        .map_err(|e| ClientError::Decode(format!("{e}: {}", t.as_str())))
                }
                Message::Close(frame) => {
                    return Err(ClientError::Closed(frame.map(|f| (u16::from(f.code), f.reason.to_string()))))
                }
                Message::Binary(_) => return Err(ClientError::Decode("binary frame".into())),
                _ => continue,
            }
        }
    }

    /// Receives the next frame within `timeout`.
    pub async fn recv_timeout(&mut self, timeout: Duration) -> Result<ServerFrame> {
        tokio::time::timeout(timeout, self.recv()).await.map_err(|_| ClientError::Timeout("frame"))?
    }

    /// Receives frames until one matches, within `timeout`; the others are dropped.
    pub async fn recv_until<F: FnMut(&ServerFrame) -> bool>(
        &mut self,
        timeout: Duration,
        mut pred: F,
    ) -> Result<ServerFrame> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let f =
                tokio::time::timeout(left, self.recv()).await.map_err(|_| ClientError::Timeout("matching frame"))??;
            if pred(&f) {
                return Ok(f);
            }
        }
    }

    /// Subscribes and collects the backlog until `subscribed`.
    pub async fn subscribe(
        &mut self,
        conversation_id: &ConversationId,
        after_seq: i64,
    ) -> Result<(Vec<MessageView>, i64)> {
        self.send(&ClientFrame::Subscribe { conversation_id: conversation_id.clone(), after_seq }).await?;
        let mut backlog = Vec::new();
        loop {
            match self.recv_timeout(Duration::from_secs(10)).await? {
                ServerFrame::Message(m) if &m.conversation_id == conversation_id => backlog.push(m),
                ServerFrame::Subscribed { conversation_id: c, last_seq } if &c == conversation_id => {
                    return Ok((backlog, last_seq))
                }
                ServerFrame::Error { code, message, .. } => {
                    return Err(ClientError::Api {
                        status: 0,
                        body: ErrorBody { error: ErrorDetail { code, message, details: None } },
                        retry_after: None,
                    })
                }
                _ => continue,
            }
        }
    }

    /// Sends a message and waits for its `ack` (or an `error` that refers to it).
    pub async fn send_message(
        &mut self,
        conversation_id: &ConversationId,
        client_msg_id: &str,
        body: &str,
    ) -> Result<ServerFrame> {
        self.send(&ClientFrame::Send {
            conversation_id: conversation_id.clone(),
            client_msg_id: client_msg_id.into(),
            body: body.into(),
        })
        .await?;
        self.recv_until(Duration::from_secs(10), |f| match f {
            ServerFrame::Ack { client_msg_id: c, .. } => c == client_msg_id,
            ServerFrame::Error { reference: Some(r), .. } => r == client_msg_id || r == "send",
            _ => false,
        })
        .await
    }

    /// Sends a `ping` and waits for its `pong`: afterwards the server has registered this
    /// connection (and answered everything sent before it).
    pub async fn round_trip(&mut self) -> Result<()> {
        let nonce = serde_json::Value::String(format!("rt-{:?}", std::time::Instant::now()));
        self.send(&ClientFrame::Ping { nonce: Some(nonce.clone()) }).await?;
        self.recv_until(Duration::from_secs(10), |f| matches!(f, ServerFrame::Pong { nonce: Some(n) } if *n == nonce))
            .await
            .map(|_| ())
    }

    /// Closes the connection politely.
    pub async fn close(mut self) -> Result<()> {
        self.stream.close(None).await.map_err(|e| ClientError::WebSocket(e.to_string()))
    }

    /// Drops the TCP connection without a close handshake (a phone losing signal).
    pub fn abort(self) {
        drop(self.stream);
    }
}
