//! `tzchat`: a tiny command-line WebSocket client for trying Talk Zone by hand (the README's
//! worked example). Each line typed is sent as a message; every frame received is printed as
//! JSON.
//!
//! ```text
//! tzchat --url http://127.0.0.1:8080 --token <access token> --conversation <id> [--after-seq N]
//! ```

use clap::Parser;
use talkzone_mobile_api::client::Client;
use talkzone_mobile_api::{ClientFrame, ConversationId};
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Parser)]
#[command(about = "Chat over the Talk Zone WebSocket from a terminal")]
struct Args {
    /// The server, e.g. http://127.0.0.1:8080
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An access token from /v1/auth/anonymous or /v1/auth/login.
    #[arg(long)]
    token: String,
    /// The conversation to join.
    #[arg(long)]
    conversation: String,
    /// Resume after this seq (0 = the whole history).
    #[arg(long, default_value_t = 0)]
    after_seq: i64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = Client::new(&args.url)?;
    let mut ws = client.connect(&args.token).await?;
    let conversation_id = ConversationId(args.conversation);
    ws.send(&ClientFrame::Subscribe { conversation_id: conversation_id.clone(), after_seq: args.after_seq }).await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut n = 0u64;
    let session = ulid::Ulid::new();
    loop {
        tokio::select! {
            line = lines.next_line() => match line? {
                Some(body) if !body.trim().is_empty() => {
                    n += 1;
                    let client_msg_id = format!("{session}-{n}");
                    ws.send(&ClientFrame::Send { conversation_id: conversation_id.clone(), client_msg_id, body }).await?;
                }
                Some(_) => {}
                None => break,
            },
            frame = ws.recv() => {
                let frame = frame?;
                println!("{}", serde_json::to_string(&frame)?);
            }
        }
    }
    ws.close().await?;
    Ok(())
}
