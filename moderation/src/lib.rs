//! Talk Zone moderation: pure text analysis of a chat message.
//!
//! [`check`] takes a compiled [`Policy`] and a [`Draft`] and returns a [`Verdict`]: the risk
//! categories found, an overall [`Severity`], every rule that fired with the span of the original
//! text it matched (so a worker sees why), the personal information found ([`Pii`]) and a redacted
//! copy of the text.
//!
//! The rules are data: the built-in policy is `policy/default.toml`, and admins can load their own
//! with [`Policy::from_toml`]. A policy is compiled once (Aho-Corasick automatons and regexes) and is
//! cheap to clone (it is an `Arc` inside), so the server can build a new one and swap it at runtime.
//!
//! There is no I/O and no async here. See `docs/moderation.md` for how it works.
//!
//! # Layout
//!
//! Lowest first; a module uses only those above it and the types in this file (tests aside).
//!
//! * `words.rs`: the built-in word lists, data files in `policy/words/` (one entry a line, each
//!   saying what it is for), compiled in with `include_str!` and parsed once.
//! * `normalise/`: the text normaliser the rules match against (`mod.rs`), and its property tests
//!   (`props.rs`, with `check` on disguised and spaced-out phrases).
//! * `pii/`: personal information: the cheap gates, overlap resolution and redaction (`mod.rs`),
//!   and one file per detector, each with its tests: `phone.rs`, `email.rs`, `postcode.rs`,
//!   `address.rs`, `school.rs`, `handle.rs` (social handles), `name.rs` (full names).
//! * `policy/`: [`Policy`], [`PolicyError`] and the compiled form (`mod.rs`); the TOML file format
//!   (`schema.rs`); checking it and compiling it (`compile.rs`); the phrase table and automatons
//!   (`terms.rs`).
//! * `engine.rs`: the risk rules over the normalised text: flags, severity and labels.
//! * `lib.rs`: the public types, [`check`] and [`eval_record`].
//!
//! Data: `policy/default.toml` is the built-in policy (an admin can load another); `policy/words/`
//! holds the word lists the code itself consults, which a loaded policy does not replace.

#![forbid(unsafe_code)]

mod context;
mod engine;
pub mod model;
mod normalise;
mod pii;
mod policy;
mod words;

use serde::{Deserialize, Serialize};

pub use context::{check_in_context, conversation_risk, recent_verdict, Conversation, Cues, InContext, RecentVerdict};
pub use model::{Model, ModelError};
pub use policy::{Policy, PolicyError, DEFAULT_POLICY};

/// How serious a message is. Ordered: `None < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash, Default)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Nothing of concern.
    #[default]
    None,
    /// Mild, e.g. profanity.
    Low,
    /// A concern for the worker to explore.
    Medium,
    /// A serious safeguarding concern: escalate to the duty supervisor.
    High,
    /// Immediate danger to life, or a child at risk right now: escalate at once.
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::None, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s.trim().to_ascii_lowercase())
    }

    /// The order of severity as a number (`none` 0 … `critical` 4), as the queue sorts by it.
    pub fn rank(self) -> i64 {
        self as i64
    }
}

/// A text that names no severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSeverity(pub String);

impl std::fmt::Display for UnknownSeverity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} is not a known severity", self.0)
    }
}

impl std::error::Error for UnknownSeverity {}

/// A stored severity (the server's database keeps the names).
impl TryFrom<String> for Severity {
    type Error = UnknownSeverity;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Severity::parse(&s).ok_or(UnknownSeverity(s))
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A risk category. The order is the order labels are reported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    SelfHarm,
    Suicide,
    AbuseDisclosure,
    SexualExploitationGrooming,
    CriminalExploitation,
    Weapons,
    ViolenceThreat,
    BullyingHarassment,
    Hate,
    DrugsAlcohol,
    Profanity,
    MentalHealthDistress,
}

impl Category {
    pub const ALL: [Category; 12] = [
        Category::SelfHarm,
        Category::Suicide,
        Category::AbuseDisclosure,
        Category::SexualExploitationGrooming,
        Category::CriminalExploitation,
        Category::Weapons,
        Category::ViolenceThreat,
        Category::BullyingHarassment,
        Category::Hate,
        Category::DrugsAlcohol,
        Category::Profanity,
        Category::MentalHealthDistress,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Category::SelfHarm => "self_harm",
            Category::Suicide => "suicide",
            Category::AbuseDisclosure => "abuse_disclosure",
            Category::SexualExploitationGrooming => "sexual_exploitation_grooming",
            Category::CriminalExploitation => "criminal_exploitation",
            Category::Weapons => "weapons",
            Category::ViolenceThreat => "violence_threat",
            Category::BullyingHarassment => "bullying_harassment",
            Category::Hate => "hate",
            Category::DrugsAlcohol => "drugs_alcohol",
            Category::Profanity => "profanity",
            Category::MentalHealthDistress => "mental_health_distress",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s.trim())
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind of personal information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    Phone,
    Email,
    Postcode,
    Address,
    SocialHandle,
    School,
    FullName,
}

impl PiiKind {
    /// Kinds that are identifiers rather than words (their letters are not read for risk).
    pub fn is_opaque(&self) -> bool {
        matches!(self, PiiKind::Phone | PiiKind::Email | PiiKind::Postcode | PiiKind::SocialHandle)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            PiiKind::Phone => "phone",
            PiiKind::Email => "email",
            PiiKind::Postcode => "postcode",
            PiiKind::Address => "address",
            PiiKind::SocialHandle => "social_handle",
            PiiKind::School => "school",
            PiiKind::FullName => "full_name",
        }
    }
}

/// What the service does with a message of a category (set per category in the policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Deliver as normal.
    Allow,
    /// Deliver, and show the worker the flags.
    Flag,
    /// Do not deliver to other young people until a worker has looked (rooms).
    Hold,
    /// Alert the duty supervisor now.
    Escalate,
}

impl Action {
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Flag => "flag",
            Action::Hold => "hold",
            Action::Escalate => "escalate",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        [Action::Allow, Action::Flag, Action::Hold, Action::Escalate].into_iter().find(|a| a.as_str() == s.trim())
    }
}

/// Where a message is being sent: a one-to-one support chat with a worker, or a group room with
/// other young people (where the policy can hold messages before delivery).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash, Default)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    #[default]
    Support,
    Room,
}

/// A message about to be sent.
#[derive(Debug, Clone, Copy)]
pub struct Draft<'a> {
    pub text: &'a str,
    pub context: Context,
}

impl<'a> Draft<'a> {
    /// A draft in a support chat.
    pub fn new(text: &'a str) -> Draft<'a> {
        Draft { text, context: Context::Support }
    }
}

/// Personal information found in a message. `start..end` are byte offsets into the original text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pii {
    pub kind: PiiKind,
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// One rule that fired: which rule, what it decided, and the span of the original text it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    pub category: Category,
    pub severity: Severity,
    /// The rule id from the policy (e.g. `suicide.intent`, or an adjustment such as `critical.means`).
    pub rule: String,
    pub start: usize,
    pub end: usize,
    pub matched: String,
}

/// The outcome of [`check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Verdict {
    /// The highest severity of any flag (`None` when nothing fired).
    pub severity: Severity,
    /// The categories found, in [`Category`] order, without repeats.
    pub labels: Vec<Category>,
    pub flags: Vec<Flag>,
    /// Personal information, in text order, without overlaps.
    pub pii: Vec<Pii>,
    /// The text with each personal-information span replaced by `[kind]`, e.g. `[phone]`.
    pub redacted: String,
}

impl Verdict {
    /// A message is flagged when its severity is not `None` (personal information alone does not flag).
    pub fn flagged(&self) -> bool {
        self.severity != Severity::None
    }
}

/// Check a draft against a policy.
pub fn check(policy: &Policy, draft: &Draft<'_>) -> Verdict {
    check_then(policy, draft, |_| ()).0
}

/// [`check`], then `then` on the draft's normalised text (for conversation context).
pub(crate) fn check_then<R>(
    policy: &Policy,
    draft: &Draft<'_>,
    then: impl FnOnce(&normalise::Normalised) -> R,
) -> (Verdict, R) {
    let pii = pii::detect(policy.pii_config(), draft.text);
    // A postcode, email, phone number or handle is not words: "G12 5HT" is no swearing and
    // "@killa.k" no threat. Names, schools and addresses are words and are still read.
    let opaque: Vec<(usize, usize)> = pii.iter().filter(|p| p.kind.is_opaque()).map(|p| (p.start, p.end)).collect();
    let ((flags, severity, labels), r) = engine::classify(policy, draft.text, &opaque, then);
    let redacted = pii::redact(draft.text, &pii);
    (Verdict { severity, labels, flags, pii, redacted }, r)
}

/// The evaluation record for one message, as written by `examples/moderate.rs` and the server's
/// `talkzone moderate` command:
/// `{"id","flagged","severity","labels","pii":[{"kind","text"}],"redacted"}`.
/// `labels` is `["none"]` when the message is not flagged.
pub fn eval_record(id: &str, verdict: &Verdict) -> serde_json::Value {
    let labels: Vec<&str> =
        if verdict.flagged() { verdict.labels.iter().map(|c| c.as_str()).collect() } else { vec!["none"] };
    let pii: Vec<serde_json::Value> =
        verdict.pii.iter().map(|p| serde_json::json!({"kind": p.kind.as_str(), "text": p.text})).collect();
    serde_json::json!({
        "id": id,
        "flagged": verdict.flagged(),
        "severity": verdict.severity.as_str(),
        "labels": labels,
        "pii": pii,
        "redacted": verdict.redacted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_order_and_names() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::None);
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        assert_eq!(serde_json::to_string(&Severity::High).ok().as_deref(), Some("\"high\""));
        assert_eq!(Severity::parse("bogus"), None);
    }

    #[test]
    fn category_names_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_string(&c).ok(), Some(format!("\"{}\"", c.as_str())));
        }
    }

    #[test]
    fn eval_record_shape() {
        let v = Verdict { redacted: "hi".into(), ..Verdict::default() };
        let r = eval_record("x1", &v);
        assert_eq!(r["labels"], serde_json::json!(["none"]));
        assert_eq!(r["flagged"], serde_json::json!(false));
        assert_eq!(r["severity"], serde_json::json!("none"));
    }
}

#[cfg(test)]
mod timing {
    use super::*;

    /// Throughput of `check` on the development texts plus short chat lines, in wall time and in
    /// CPU time of the thread (which does not depend on the load from other processes):
    /// `cargo test -p talkzone-moderation --release --lib timing -- --ignored --nocapture`
    /// (`TZ_REPS=n` repetitions, default 200; `TZ_PARTS=1` also times the parts).
    #[test]
    #[ignore]
    fn component_timing() {
        let p = Policy::builtin();
        let src =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/moderation/dev.jsonl"))
                .unwrap_or_default();
        let mut msgs: Vec<String> = src
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["text"].as_str().map(String::from))
            .collect();
        let chat = [
            "hiya",
            "ok see u at 4",
            "what time is my appointment tomorrow",
            "can u ring me later pls",
            "lol yeah",
            "thanks for today it really helped",
        ];
        let n = msgs.len();
        msgs.extend(chat.iter().cycle().take(n).map(|s| s.to_string()));
        eprintln!(
            "patterns: {} spaceless: {} ac: {:?} {} bytes, sl {} bytes",
            p.inner.pats.len(),
            p.inner.sl_pats.len(),
            p.inner.ac.kind(),
            p.inner.ac.memory_usage(),
            p.inner.sl_ac.memory_usage()
        );
        let _ = check(&p, &Draft::new("warm up"));
        // CPU time of this thread in clock ticks (Linux, 100 per second): unlike wall time it
        // does not grow when other processes share the cores
        let cpu_ticks = || -> Option<u64> {
            let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
            let rest = &stat[stat.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        };
        let cpu0 = cpu_ticks();
        let reps: u32 = std::env::var("TZ_REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
        let t = std::time::Instant::now();
        let mut k = 0;
        for _ in 0..reps {
            for m in &msgs {
                k += check(&p, &Draft::new(m)).flags.len();
            }
        }
        let per = t.elapsed() / (reps.max(1) * msgs.len() as u32);
        eprintln!("check {per:?}/msg (wall) over {} msgs x {reps} ({k})", msgs.len());
        if let (Some(a), Some(b)) = (cpu0, cpu_ticks()) {
            let secs = (b - a) as f64 / 100.0;
            if secs > 0.0 {
                let n = f64::from(reps) * msgs.len() as f64;
                eprintln!("check {:.0} msgs per CPU-second ({n} checks in {secs:.2} s of CPU time)", n / secs);
            }
        }
        if std::env::var("TZ_PARTS").is_ok() {
            let total = reps.max(1) * msgs.len() as u32;
            let t = std::time::Instant::now();
            for _ in 0..reps {
                for m in &msgs {
                    std::hint::black_box(normalise::normalise(m));
                }
            }
            eprintln!("  normalise {:?}/msg", t.elapsed() / total);
            let t = std::time::Instant::now();
            for _ in 0..reps {
                for m in &msgs {
                    std::hint::black_box(engine::classify(&p, m, &[], |_| ()));
                }
            }
            eprintln!("  classify {:?}/msg", t.elapsed() / total);
            let t = std::time::Instant::now();
            for _ in 0..reps {
                for m in &msgs {
                    std::hint::black_box(pii::detect(p.pii_config(), m));
                }
            }
            eprintln!("  pii {:?}/msg", t.elapsed() / total);
        }
    }
}
