//! Setting up what a scenario needs, over the public REST API only: staff created by an
//! admin account, young people by anonymous sign-in, support chats opened and accepted, a
//! room joined. Requests run concurrently but at most `concurrency` at a time, so that setup
//! does not stampede the server; refusals (429) are waited out and counted.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use reqwest::Method;
use talkzone_mobile_api::client::{Client, ClientError};
use talkzone_mobile_api::{
    ConversationId, ConversationView, CreateConversationRequest, CreateRoomRequest, CreateUserRequest,
    PersonalInfoMode, Role, RoomModeration, TokenResponse,
};

/// The servers under test and how to administer them.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URLs (`http://127.0.0.1:8080`) of every node; clients are spread over them.
    pub urls: Vec<String>,
    pub admin_user: String,
    pub admin_password: String,
    /// At most this many setup requests, or connection attempts, at a time.
    pub concurrency: usize,
}

/// REST clients for a [`Target`], and what setup met on the way.
pub struct Setup {
    pub clients: Vec<Client>,
    concurrency: usize,
    admin_user: String,
    admin_password: String,
    /// Names this run's accounts so that runs against the same database never collide.
    pub run: String,
    /// 429 answers waited out during setup.
    pub rate_limited: Arc<AtomicU64>,
}

/// The password of every staff account the load generator creates (never a real account).
const STAFF_PASSWORD: &str = "load-generator-staff-password";

impl Setup {
    pub fn new(target: &Target, run: &str) -> Result<Self> {
        if target.urls.is_empty() {
            return Err(anyhow!("give at least one server URL"));
        }
        let clients = target
            .urls
            .iter()
            .map(|u| Client::new(u).with_context(|| format!("server URL {u}")))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            clients,
            concurrency: target.concurrency.max(1),
            admin_user: target.admin_user.clone(),
            admin_password: target.admin_password.clone(),
            run: run.to_owned(),
            rate_limited: Arc::default(),
        })
    }

    /// The REST client for the `i`th account: accounts are spread over the nodes.
    fn client(&self, i: usize) -> &Client {
        &self.clients[i % self.clients.len()]
    }

    /// Runs `f(i)` for `0..n`, at most `concurrency` at once, keeping the order.
    async fn each<T, F, Fut>(&self, n: usize, f: F) -> Result<Vec<T>>
    where
        F: Fn(usize) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        stream::iter((0..n).map(f)).buffered(self.concurrency).try_collect().await
    }

    /// Calls `op` until it is not refused with 429, sleeping for `Retry-After` in between.
    async fn patiently<T, F, Fut>(&self, what: &str, op: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        for _ in 0..60 {
            match op().await {
                Err(ClientError::Api { status: 429, retry_after, .. }) => {
                    self.rate_limited.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_secs(retry_after.unwrap_or(1).max(1))).await;
                }
                other => return other.with_context(|| what.to_owned()),
            }
        }
        Err(anyhow!("{what}: still rate limited after a minute; start the server with raised limits"))
    }

    pub async fn admin_token(&self) -> Result<String> {
        let t = self
            .patiently("admin sign-in (--admin-user/--admin-password)", || {
                // A fresh admin account sets up its second factor here; one that has a factor
                // already cannot be used by the load tool (it holds no authenticator).
                crate::try_sign_in_enrolling(&self.clients[0], &self.admin_user, &self.admin_password)
            })
            .await?;
        Ok(t.access_token)
    }

    /// `n` new duty workers, created by the admin and signed in.
    pub async fn workers(&self, admin: &str, n: usize) -> Result<Vec<TokenResponse>> {
        self.each(n, |i| async move {
            let username = format!("tzload-{}-w{i}", self.run);
            let req = CreateUserRequest {
                username: username.clone(),
                password: STAFF_PASSWORD.into(),
                role: Role::DutyWorker,
                display_name: Some(format!("Load worker {i}")),
            };
            self.patiently("create a worker", || self.client(i).create_user(admin, &req)).await?;
            self.patiently("worker sign-in", || crate::try_sign_in_enrolling(self.client(i), &username, STAFF_PASSWORD))
                .await
        })
        .await
    }

    /// `n` new anonymous young people.
    pub async fn young_people(&self, n: usize) -> Result<Vec<TokenResponse>> {
        self.each(n, |i| async move { self.patiently("anonymous sign-in", || self.client(i).anonymous()).await }).await
    }

    /// One support chat per young person, each accepted by `workers[i % workers.len()]`:
    /// every pair has its own conversation. Opening and accepting one chat at a time per
    /// request slot keeps the queue short (every queue change is pushed to all waiting
    /// young people and watching staff).
    pub async fn support_chats(
        &self,
        young_people: &[TokenResponse],
        workers: &[TokenResponse],
    ) -> Result<Vec<ConversationId>> {
        if workers.is_empty() {
            return Err(anyhow!("support chats need at least one worker"));
        }
        self.each(young_people.len(), |i| async move {
            let req = CreateConversationRequest { topic: None, first_message: None };
            let yp = &young_people[i].access_token;
            let (_, conv) =
                self.patiently("open a support chat", || self.client(i).open_conversation(yp, &req)).await?;
            let worker = &workers[i % workers.len()].access_token;
            self.patiently("accept the chat", || self.client(i).accept(worker, &conv.id)).await?;
            Ok(conv.id)
        })
        .await
    }

    /// A post-moderated room (only flagged messages are held) joined by every member.
    pub async fn room(&self, admin: &str, members: &[TokenResponse]) -> Result<ConversationId> {
        let req = CreateRoomRequest {
            topic: format!("Load test room {}", self.run),
            age_band: "13-17".into(),
            moderation: RoomModeration::Post,
            personal_info: PersonalInfoMode::Hold,
        };
        let (_, room): (_, ConversationView) = self
            .patiently("create a room", || self.clients[0].request(Method::POST, "/v1/rooms", Some(admin), Some(&req)))
            .await?;
        let id = &room.id;
        self.each(members.len(), |i| async move {
            let path = format!("/v1/rooms/{id}/join");
            let token = &members[i].access_token;
            let _: (_, ConversationView) = self
                .patiently("join the room", || self.client(i).request::<(), _>(Method::POST, &path, Some(token), None))
                .await?;
            Ok(())
        })
        .await?;
        Ok(room.id)
    }
}
