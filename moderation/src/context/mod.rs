//! Conversation context: risk that builds across a young person's recent messages in the same
//! chat. Earlier self-harm or suicide talk makes "did it again" high; an age under 18 said in
//! the chat plus another person arranging to meet (or asking for images or secrecy) is
//! grooming. Pure and cheap: the caller keeps a small [`RecentVerdict`] per message (it is
//! returned by [`check_in_context`]) and passes the recent ones back with the next message.
//!
//! The cue lists are data in `policy/words/context_*.txt`, matched on the normalised words.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use serde::{Deserialize, Serialize};

use crate::normalise::{normalise, Normalised};
use crate::words::{word_list, Words};
use crate::{Category, Draft, Flag, Policy, Severity, Verdict};

static RELAPSE: Words = word_list!("context_relapse.txt");
static MEETING: Words = word_list!("context_meeting.txt");
static NOW: Words = word_list!("context_now.txt");

/// Words after an age that make it not an age (`im 5 mins away`).
const NOT_AGE_AFTER: &[&str] = &[
    "min", "mins", "minute", "minutes", "hour", "hours", "hr", "hrs", "sec", "secs", "second", "seconds", "quid",
    "pound", "pounds", "p", "percent", "am", "pm", "k", "mile", "miles", "km", "day", "days", "week", "weeks", "month",
    "months", "times", "stone", "kg", "st", "lbs", "ft", "foot", "feet", "cm", "m", "of", "out", "in",
];

/// How many of the same category at medium or above, in the recent messages and this one, make
/// the conversation high.
const REPEATS_FOR_HIGH: usize = 3;

/// Cues found in one message, kept for the messages after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cues {
    /// The age the young person said in this message (`im 14`, `i am 13`, `aged 15`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<u8>,
    /// A harm happened again (`did it again`, `relapsed`): `policy/words/context_relapse.txt`.
    #[serde(default)]
    pub relapse: bool,
    /// Another person arranging to meet or collect, or asking for images or secrecy:
    /// `policy/words/context_meeting.txt`.
    #[serde(default)]
    pub meeting: bool,
    /// A cue of now (`tonight`, `rn`, `outside`): `policy/words/context_now.txt`.
    #[serde(default)]
    pub now: bool,
}

/// What to keep of each message of the young person in a chat, for the messages after it.
/// Small and serialisable: store it beside the message (or in memory per chat).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RecentVerdict {
    pub severity: Severity,
    pub labels: Vec<Category>,
    #[serde(default)]
    pub cues: Cues,
}

/// The young person's earlier messages in the same chat, oldest first (the caller chooses how
/// many: e.g. the last 20, or those of the last 24 hours).
#[derive(Debug, Clone, Copy, Default)]
pub struct Conversation<'a> {
    pub recent: &'a [RecentVerdict],
}

/// The outcome of [`check_in_context`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InContext {
    /// The message's verdict, with any context flags (rules `context.*`) added.
    pub verdict: Verdict,
    /// What to keep of this message for the next ones.
    pub recent: RecentVerdict,
    /// The conversation's risk after this message: for the queue order, the conversation's
    /// risk shown to workers and automatic escalation.
    pub conversation: Severity,
}

struct Lists {
    ac: AhoCorasick,
    /// Per pattern: 0 relapse, 1 meeting, 2 now.
    kind: Vec<u8>,
}

static LISTS: LazyLock<Lists> = LazyLock::new(|| {
    let mut pats = Vec::new();
    let mut kind = Vec::new();
    for (k, list) in [(0u8, &RELAPSE), (1, &MEETING), (2, &NOW)] {
        for p in list.iter() {
            let n = normalise(p);
            if !n.tokens.is_empty() {
                pats.push(n.text);
                kind.push(k);
            }
        }
    }
    match AhoCorasick::new(&pats) {
        Ok(ac) => Lists { ac, kind },
        // The lists are part of the crate and tested (`context::tests`): this is a build defect.
        Err(e) => panic!("built-in context word lists: {e}"),
    }
});

/// A span of words of the normalised text: first and last word.
type WordSpan = Option<(usize, usize)>;

/// The cues of a normalised text, and the word span of the first relapse and meeting cues.
fn cues_of(norm: &Normalised) -> (Cues, WordSpan, WordSpan) {
    let lists = &*LISTS;
    let mut c = Cues::default();
    let (mut relapse_at, mut meeting_at) = (None, None);
    let tok = |byte: usize| norm.tokens.partition_point(|t| (t.norm_start as usize) <= byte);
    for m in lists.ac.find_overlapping_iter(norm.text.as_str()) {
        let span = (tok(m.start()), tok(m.end().saturating_sub(1)));
        match lists.kind[m.pattern().as_usize()] {
            0 => {
                c.relapse = true;
                relapse_at = relapse_at.or(Some(span));
            }
            1 => {
                c.meeting = true;
                meeting_at = meeting_at.or(Some(span));
            }
            _ => c.now = true,
        }
    }
    c.age = stated_age(norm);
    (c, relapse_at, meeting_at)
}

/// `im 14`, `i am 13`, `im only 12`, `aged 15`: an age from 5 to 25 said by the writer.
fn stated_age(norm: &Normalised) -> Option<u8> {
    let w: Vec<&str> = crate::model::words(norm).collect();
    for i in 0..w.len() {
        let after_cue = match w[i] {
            "im" | "aged" | "age" => i + 1,
            "i" if w.get(i + 1) == Some(&"am") => i + 2,
            _ => continue,
        };
        let at = if w.get(after_cue) == Some(&"only") { after_cue + 1 } else { after_cue };
        let Some(n) = w.get(at).and_then(|x| x.parse::<u8>().ok()) else { continue };
        let unit = w.get(at + 1).is_some_and(|u| NOT_AGE_AFTER.contains(u));
        if (5..=25).contains(&n) && !unit {
            return Some(n);
        }
    }
    None
}

fn has_at_least(recent: &[RecentVerdict], cats: &[Category], min: Severity) -> bool {
    recent.iter().any(|r| r.severity >= min && r.labels.iter().any(|l| cats.contains(l)))
}

/// The conversation's risk: the highest severity of its messages, and at least high when one
/// category was found at medium or above in three or more of them.
pub fn conversation_risk(messages: &[RecentVerdict]) -> Severity {
    risk_of(messages.iter())
}

fn risk_of<'a>(messages: impl Iterator<Item = &'a RecentVerdict>) -> Severity {
    let mut sev = Severity::None;
    // per category, the messages at medium or above that carry it (a label repeated within one
    // message counts once)
    let mut count = [0usize; Category::ALL.len()];
    for m in messages {
        sev = sev.max(m.severity);
        if m.severity >= Severity::Medium {
            let mut seen = 0u32;
            for l in &m.labels {
                if seen & (1 << l.index()) == 0 {
                    seen |= 1 << l.index();
                    count[l.index()] += 1;
                }
            }
        }
    }
    let repeated = Category::ALL.iter().any(|c| *c != Category::Profanity && count[c.index()] >= REPEATS_FOR_HIGH);
    if repeated {
        sev = sev.max(Severity::High);
    }
    sev
}

/// What to keep of an earlier message whose verdict is known (stored with it): its severity
/// and labels, and the cues of its text. For a caller that keeps messages, not
/// [`RecentVerdict`]s.
pub fn recent_verdict(text: &str, verdict: &Verdict) -> RecentVerdict {
    let (cues, _, _) = cues_of(&normalise(text));
    RecentVerdict { severity: verdict.severity, labels: verdict.labels.clone(), cues }
}

/// [`check`] a draft with the conversation it belongs to.
pub fn check_in_context(policy: &Policy, draft: &Draft<'_>, conversation: &Conversation<'_>) -> InContext {
    // the cues are read on the normalised text the check made, with their word spans turned into
    // byte spans of the draft
    let (mut verdict, (cues, relapse_at, meeting_at)) = crate::check_then(policy, draft, |norm| {
        let (cues, relapse_at, meeting_at) = cues_of(norm);
        let span = |(a, b): (usize, usize)| {
            let t0 = &norm.tokens[a.min(norm.tokens.len() - 1)];
            let t1 = &norm.tokens[b.min(norm.tokens.len() - 1)];
            (t0.orig_start as usize, t1.orig_end.max(t0.orig_end) as usize)
        };
        (cues, relapse_at.map(span), meeting_at.map(span))
    });
    let recent = conversation.recent;
    let level = |cat: Category, v: &Verdict| {
        v.flags.iter().filter(|f| f.category == cat).map(|f| f.severity).max().unwrap_or_default()
    };
    let to = if cues.now { Severity::Critical } else { Severity::High };
    let mut added: Vec<Flag> = Vec::new();
    // earlier self-harm or suicide talk, and now it happened again
    if let Some(at) = relapse_at {
        let earlier = has_at_least(recent, &[Category::SelfHarm, Category::Suicide], Severity::Medium);
        if earlier && level(Category::SelfHarm, &verdict) < to && level(Category::Suicide, &verdict) < to {
            let (s, e) = at;
            added.push(Flag {
                category: Category::SelfHarm,
                severity: to,
                rule: "context.self_harm_again".into(),
                start: s,
                end: e,
                matched: draft.text[s..e].to_string(),
            });
        }
    }
    // an age under 18 said in this chat, and someone arranging to meet (either order)
    let age = cues.age.into_iter().chain(recent.iter().filter_map(|r| r.cues.age)).min();
    let meeting_before = recent.iter().any(|r| r.cues.meeting);
    if let Some(age) = age.filter(|a| *a < 18) {
        // the meeting in this message, or the age in this message after a meeting earlier
        let at = meeting_at.or(if cues.age.is_some() && meeting_before { Some((0, draft.text.len())) } else { None });
        if let Some((s, e)) = at {
            if level(Category::SexualExploitationGrooming, &verdict) < to {
                added.push(Flag {
                    category: Category::SexualExploitationGrooming,
                    severity: to,
                    rule: format!("context.age_{age}_and_meeting"),
                    start: s,
                    end: e,
                    matched: draft.text[s..e].to_string(),
                });
            }
        }
    }
    if !added.is_empty() {
        verdict.flags.extend(added);
        verdict.flags.sort_by(|a, b| (a.start, a.end, &a.rule).cmp(&(b.start, b.end, &b.rule)));
        verdict.severity = verdict.flags.iter().map(|f| f.severity).max().unwrap_or_default();
        verdict.labels = verdict.flags.iter().map(|f| f.category).collect();
        verdict.labels.sort_unstable();
        verdict.labels.dedup();
    }
    let this = RecentVerdict { severity: verdict.severity, labels: verdict.labels.clone(), cues };
    let conversation = risk_of(recent.iter().chain(std::iter::once(&this)));
    InContext { verdict, recent: this, conversation }
}

#[cfg(test)]
mod tests;
