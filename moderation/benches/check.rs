//! Throughput of `check` with the built-in policy on typical chat messages: the texts of the
//! development set (`../shared/data/moderation/dev.jsonl`, when present) plus ordinary short chat
//! lines, so most messages take the no-hit path as in real traffic. Measured with the rules
//! alone (`check/…`) and with both stages, the rules and the built-in learned model
//! (`both_stages/…`), and with conversation context (`both_stages/in_context`).
//!
//! `cargo bench -j 2 -p talkzone-moderation --bench check`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use talkzone_moderation::{check, check_in_context, Conversation, Draft, Model, Policy, RecentVerdict};

const CHAT: &[&str] = &[
    "hiya",
    "ok see u at 4",
    "what time is my appointment tomorrow",
    "can u ring me later pls",
    "thanks for today it really helped",
    "im on the bus now, running a bit late",
    "did u get my email about the form",
    "lol yeah",
    "my mum says she can bring me",
    "is the youth club open on saturday",
    "i got a B in english!!",
    "can we move my session to thursday",
    "whats the wifi password at the centre",
    "yeah im good thanks, bit tired",
    "sorry wrong chat",
    "football was class tonight, won 4-1",
    "do i need to bring anything",
    "ok 👍",
    "can i bring my mate to the session",
    "just finished work, knackered",
];

fn messages() -> Vec<String> {
    let mut v: Vec<String> = CHAT.iter().map(|s| s.to_string()).collect();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/moderation/dev.jsonl");
    if let Ok(src) = std::fs::read_to_string(path) {
        for line in src.lines() {
            if let Ok(j) = serde_json::from_str::<serde_json::Value>(line) {
                if let Some(t) = j.get("text").and_then(|t| t.as_str()) {
                    v.push(t.to_string());
                }
            }
        }
    }
    // a typical mix: mostly everyday chat, some concerning messages
    let extra: Vec<String> = CHAT.iter().cycle().take(v.len()).map(|s| s.to_string()).collect();
    v.extend(extra);
    v
}

fn bench(c: &mut Criterion) {
    let policy = Policy::builtin();
    let msgs = messages();
    eprintln!("benchmark corpus: {} messages", msgs.len());
    let mut g = c.benchmark_group("check");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("typical_mix", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for m in &msgs {
                let v = check(&policy, &Draft::new(m));
                n += v.flags.len() + v.pii.len();
            }
            n
        })
    });
    let chat: Vec<&str> = CHAT.to_vec();
    g.throughput(Throughput::Elements(chat.len() as u64));
    g.bench_function("everyday_chat", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for m in &chat {
                let v = check(&policy, &Draft::new(m));
                n += v.flags.len() + v.pii.len();
            }
            n
        })
    });
    g.finish();

    let model = match Model::builtin() {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    let both = Policy::builtin().with_model(model);
    let mut g = c.benchmark_group("both_stages");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("typical_mix", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for m in &msgs {
                let v = check(&both, &Draft::new(m));
                n += v.flags.len() + v.pii.len();
            }
            n
        })
    });
    g.bench_function("in_context", |b| {
        let recent: Vec<RecentVerdict> = vec![RecentVerdict::default(); 10];
        b.iter(|| {
            let mut n = 0usize;
            for m in &msgs {
                let v = check_in_context(&both, &Draft::new(m), &Conversation { recent: &recent });
                n += v.verdict.flags.len();
            }
            n
        })
    });
    g.throughput(Throughput::Elements(chat.len() as u64));
    g.bench_function("everyday_chat", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for m in &chat {
                let v = check(&both, &Draft::new(m));
                n += v.flags.len() + v.pii.len();
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
