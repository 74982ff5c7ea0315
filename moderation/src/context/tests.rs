use super::*;
use crate::check;

fn rv(severity: Severity, labels: &[Category]) -> RecentVerdict {
    RecentVerdict { severity, labels: labels.to_vec(), cues: Cues::default() }
}

fn said_age(age: u8) -> RecentVerdict {
    RecentVerdict { cues: Cues { age: Some(age), ..Cues::default() }, ..RecentVerdict::default() }
}

fn said_meeting() -> RecentVerdict {
    RecentVerdict { cues: Cues { meeting: true, ..Cues::default() }, ..RecentVerdict::default() }
}

/// One case: the earlier messages, the new message, and the severity, category and rule
/// expected for it (`None`: no context flag).
struct Case {
    name: &'static str,
    recent: Vec<RecentVerdict>,
    text: &'static str,
    want: Option<(Severity, Category, &'static str)>,
}

#[test]
fn context_table() {
    let sh = [Category::SelfHarm];
    let cases = vec![
        Case {
            name: "self-harm earlier, slipped up now",
            recent: vec![rv(Severity::High, &sh)],
            text: "i slipped up last night",
            want: Some((Severity::High, Category::SelfHarm, "context.self_harm_again")),
        },
        Case {
            name: "suicide talk earlier, gave in tonight",
            recent: vec![rv(Severity::Medium, &[Category::Suicide]), rv(Severity::None, &[])],
            text: "gave in to it tonight",
            want: Some((Severity::Critical, Category::SelfHarm, "context.self_harm_again")),
        },
        Case { name: "no earlier risk", recent: vec![], text: "i slipped up last night", want: None },
        Case {
            name: "the rules already found it",
            recent: vec![rv(Severity::High, &sh)],
            text: "i did it again",
            want: None,
        },
        Case {
            name: "earlier risk only low",
            recent: vec![rv(Severity::Low, &sh)],
            text: "i slipped up last night",
            want: None,
        },
        Case {
            name: "earlier other category",
            recent: vec![rv(Severity::High, &[Category::Weapons])],
            text: "i slipped up last night",
            want: None,
        },
        Case {
            name: "self-harm earlier, unrelated message",
            recent: vec![rv(Severity::High, &sh)],
            text: "thanks for listening",
            want: None,
        },
        Case {
            name: "age earlier, meeting now",
            recent: vec![said_age(14)],
            text: "he wants to meet me at his flat",
            want: Some((Severity::High, Category::SexualExploitationGrooming, "context.age_14_and_meeting")),
        },
        Case {
            name: "age earlier, picked up tonight",
            recent: vec![said_age(13), rv(Severity::None, &[])],
            text: "hes picking me up tonight",
            want: Some((Severity::Critical, Category::SexualExploitationGrooming, "context.age_13_and_meeting")),
        },
        Case {
            name: "meeting earlier, age now",
            recent: vec![said_meeting()],
            text: "btw im 12",
            want: Some((Severity::High, Category::SexualExploitationGrooming, "context.age_12_and_meeting")),
        },
        Case {
            name: "age and meeting in one message",
            recent: vec![],
            text: "im 15 and hes sending a taxi for me",
            want: Some((Severity::High, Category::SexualExploitationGrooming, "context.age_15_and_meeting")),
        },
        Case { name: "adult age", recent: vec![said_age(19)], text: "he wants to meet me", want: None },
        Case { name: "no age", recent: vec![], text: "he wants to meet me", want: None },
        Case {
            name: "age earlier, meeting the worker",
            recent: vec![said_age(14)],
            text: "can we move our session to thursday",
            want: None,
        },
        Case { name: "minutes are not an age", recent: vec![said_meeting()], text: "im 5 mins away", want: None },
    ];
    let p = Policy::builtin();
    for c in cases {
        let out = check_in_context(&p, &Draft::new(c.text), &Conversation { recent: &c.recent });
        let ctx: Vec<&Flag> = out.verdict.flags.iter().filter(|f| f.rule.starts_with("context.")).collect();
        match c.want {
            None => assert!(ctx.is_empty(), "{}: unexpected {ctx:?}", c.name),
            Some((sev, cat, rule)) => {
                assert_eq!(ctx.len(), 1, "{}: {:?}", c.name, out.verdict.flags);
                assert_eq!((ctx[0].severity, ctx[0].category, ctx[0].rule.as_str()), (sev, cat, rule), "{}", c.name);
                assert!(out.verdict.severity >= sev && out.verdict.labels.contains(&cat), "{}", c.name);
                assert_eq!(&c.text[ctx[0].start..ctx[0].end], ctx[0].matched, "{}", c.name);
            }
        }
        assert_eq!(out.recent.severity, out.verdict.severity, "{}", c.name);
        assert!(out.conversation >= out.verdict.severity, "{}", c.name);
    }
}

#[test]
fn cues_and_ages() {
    let cues = |t: &str| cues_of(&normalise(t)).0;
    assert_eq!(cues("im 14 lol").age, Some(14));
    assert_eq!(cues("I AM ONLY 13").age, Some(13));
    assert_eq!(cues("aged 15").age, Some(15));
    assert_eq!(cues("im 5 mins away").age, None);
    assert_eq!(cues("im 40").age, None);
    assert_eq!(cues("got 14 on the test").age, None);
    assert!(cues("i d1d it aga1n").relapse);
    assert!(cues("hes p1cking me up").meeting && !cues("hes p1cking me up").now);
    assert!(cues("meet him rn").now);
    assert_eq!(cues(""), Cues::default());
}

#[test]
fn a_stored_message_gives_the_same_recent_verdict_as_when_it_was_checked() {
    let policy = Policy::builtin();
    for text in ["im 14 and he wants to meet me tonight", "i did it again", "hiya", "i cut myself last week"] {
        let checked = check_in_context(&policy, &Draft::new(text), &Conversation::default());
        assert_eq!(recent_verdict(text, &checked.verdict), checked.recent, "{text}");
    }
}

#[test]
fn conversation_risk_table() {
    let m = |s, c: Category| rv(s, &[c]);
    assert_eq!(conversation_risk(&[]), Severity::None);
    assert_eq!(conversation_risk(&[m(Severity::Low, Category::Profanity)]), Severity::Low);
    assert_eq!(
        conversation_risk(&[m(Severity::Critical, Category::Suicide), m(Severity::None, Category::Suicide)]),
        Severity::Critical
    );
    // three medium messages of one category make the conversation high
    let mh = m(Severity::Medium, Category::MentalHealthDistress);
    assert_eq!(conversation_risk(&[mh.clone(), mh.clone()]), Severity::Medium);
    assert_eq!(conversation_risk(&[mh.clone(), mh.clone(), mh]), Severity::High);
    // not for profanity
    let p = m(Severity::Medium, Category::Profanity);
    assert_eq!(conversation_risk(&[p.clone(), p.clone(), p]), Severity::Medium);
    // a label repeated within one message counts once; low messages do not count
    let twice = rv(Severity::Medium, &[Category::SelfHarm, Category::SelfHarm]);
    assert_eq!(conversation_risk(&[twice.clone(), twice.clone()]), Severity::Medium);
    let low = m(Severity::Low, Category::SelfHarm);
    assert_eq!(conversation_risk(&[twice.clone(), twice.clone(), low]), Severity::Medium);
    // three of one category among others
    let other = m(Severity::Medium, Category::DrugsAlcohol);
    assert_eq!(conversation_risk(&[twice.clone(), other, twice.clone(), twice]), Severity::High);
}

#[test]
fn recent_verdicts_round_trip_as_json() {
    let r = RecentVerdict {
        severity: Severity::High,
        labels: vec![Category::SelfHarm],
        cues: Cues { age: Some(14), relapse: true, meeting: false, now: false },
    };
    let j = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<RecentVerdict>(&j).unwrap(), r);
    // older rows without cues still load
    let old: RecentVerdict = serde_json::from_str(r#"{"severity":"medium","labels":["suicide"]}"#).unwrap();
    assert_eq!(old.cues, Cues::default());
}

#[test]
fn empty_and_plain_messages() {
    let p = Policy::builtin();
    let out = check_in_context(&p, &Draft::new(""), &Conversation::default());
    assert_eq!(out.verdict.severity, Severity::None);
    assert_eq!(out.conversation, Severity::None);
    let out = check_in_context(
        &p,
        &Draft::new("hiya"),
        &Conversation { recent: &[rv(Severity::High, &[Category::Weapons])] },
    );
    assert_eq!(out.verdict, check(&p, &Draft::new("hiya")));
    assert_eq!(out.conversation, Severity::High);
}
