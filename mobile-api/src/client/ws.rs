//! The WebSocket half: `GET /v1/ws`, opened with a bearer token (native clients) or a ticket
//! (browsers), and one connection speaking protocol v1.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{Client, ClientError, Result};
use crate::{ClientFrame, ConversationId, ErrorBody, ErrorDetail, MessageView, ServerFrame};

impl Client {
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
        for (name, value) in &self.headers {
            req.headers_mut().insert(name, value.clone());
        }
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
    /// connection and answered everything sent before it, except a `send` still being stored
    /// (pings are answered while a send waits on the database: wait for its `ack`).
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
