//! Both stages together: the rules and the built-in learned model (`model/model.bin`).
#![allow(clippy::unwrap_used)]

use talkzone_moderation::{check, Category, Draft, Model, Policy, Severity, DEFAULT_POLICY};

fn both() -> Policy {
    Policy::builtin().with_model(Model::builtin().unwrap())
}

/// Everyday chat, mostly short: the model must not make it risky. Short texts have few features,
/// and a model that divides by their number amplifies them ("sorry" and "bye" alone once scored
/// like a goodbye note); `min_features` in the model file prevents that.
#[test]
fn everyday_chat_is_not_flagged() {
    let p = both();
    let lines = [
        "hiya",
        "ok",
        "k",
        "yes",
        "no",
        "nah",
        "sure",
        "maybe",
        "cool",
        "thanks",
        "thank you so much",
        "sorry",
        "sorry im late",
        "bye",
        "bye for now",
        "night x",
        "goodnight",
        "see ya",
        "love you mum",
        "what",
        "why",
        "how are you",
        "im fine",
        "im ok thanks",
        "im bored",
        "i dont know",
        "whats up",
        "what u up to",
        "on my way",
        "are you there",
        "hello?",
        "can we talk",
        "i forgot",
        "my phone died",
        "i miss my nan",
        "ok see u at 4",
        "can u ring me later pls",
        "what time is my appointment tomorrow",
        "see you thursday",
        "thanks for today",
        "sorry for the late reply",
        "i need help with my homework",
        "lol yeah",
        "😂",
        "👍",
        "a message",
        "not found",
        "every message",
        "then two",
    ];
    for l in lines {
        let v = check(&p, &Draft::new(l));
        assert!(!v.flagged(), "{l:?} flagged: {:?}", v.flags);
    }
}

/// What no rule names, the model finds, and its flag says which words weighed most.
#[test]
fn the_model_explains_what_it_adds() {
    let text = "everything feels pointless and i keep thinking everyone would cope fine if i just wasnt around anymore";
    let rules = check(&Policy::builtin(), &Draft::new(text));
    let v = check(&both(), &Draft::new(text));
    assert!(v.severity >= Severity::High, "{v:?}");
    assert!(v.severity > rules.severity);
    let f = v.flags.iter().find(|f| f.rule.starts_with("model:")).unwrap();
    assert_eq!(f.rule, format!("model:{}", f.category.as_str()));
    assert!(!f.matched.is_empty());
    for w in f.matched.split(", ") {
        assert!(text.contains(w), "{w:?}");
    }
    assert!(text[f.start..f.end].len() <= f.matched.len());
}

/// The rules keep precedence: a message they flag keeps their flags and categories.
#[test]
fn rule_flags_are_kept() {
    for text in ["i want to kill myself tonight", "he said hes gonna stab me after school", "im 14 and hes 25"] {
        let rules = check(&Policy::builtin(), &Draft::new(text));
        let v = check(&both(), &Draft::new(text));
        assert!(rules.flagged(), "{text}");
        for f in &rules.flags {
            assert!(v.flags.contains(f), "{text}: {f:?} lost");
        }
        assert!(v.severity >= rules.severity);
    }
}

#[test]
fn the_policy_says_whether_a_model_is_attached() {
    assert!(Policy::builtin().model().is_none());
    let m = Model::builtin().unwrap();
    assert_eq!(both().model().map(Model::checksum), Some(m.checksum()));
}

/// A cap's cue in the text (a joke about a sibling's things) bounds the learned stage too: the
/// model may not add for a category what the policy caps there, whether or not a rule flagged it.
/// Checked on jokes the model flags when the cap's cues are made unmatchable (there must be
/// some, or the test says to choose others).
#[test]
fn caps_bound_what_the_model_adds() {
    let cue = "\"my {sib} if";
    assert!(DEFAULT_POLICY.contains(cue));
    let without = DEFAULT_POLICY.replace(cue, "\"zzz my {sib} if");
    let model = Model::builtin().unwrap();
    let uncapped_policy = Policy::from_toml(&without).unwrap().with_model(model.clone());
    let rules_only = Policy::from_toml(&without).unwrap();
    let capped_policy = both();
    let mut model_only = 0;
    for threat in ["im gonna kill my", "im going to kill my", "im gonna batter my"] {
        for sib in ["sister", "little brother", "bro", "cousin"] {
            for then in ["if he touches my ps5", "if she touches my xbox again 😂", "if he eats my last kinder bueno"]
            {
                let text = format!("{threat} {sib} {then}");
                let by_model = check(&uncapped_policy, &Draft::new(&text)).flags.iter().any(|f| {
                    f.rule.starts_with("model:")
                        && [Category::ViolenceThreat, Category::Weapons, Category::BullyingHarassment]
                            .contains(&f.category)
                });
                if by_model && !check(&rules_only, &Draft::new(&text)).flagged() {
                    model_only += 1;
                    let v = check(&capped_policy, &Draft::new(&text));
                    assert!(!v.flagged(), "{text:?}: {v:?}");
                }
            }
        }
    }
    assert!(model_only > 0, "the model flags none of these jokes any more: choose others");
}

/// A sign-off that says the young person will be back is not read by the learned stage; a
/// sign-off with anything more is, and the rules read both.
#[test]
fn sign_offs_alone_are_not_read_by_the_model() {
    let p = both();
    for l in ["bye for now", "see u tmrw", "bye see u tmrw", "Goodnight, see you tomorrow!"] {
        let v = check(&p, &Draft::new(l));
        assert!(!v.flagged(), "{l:?} flagged: {:?}", v.flags);
    }
    for l in ["bye for now. took all my tablets", "on the bridge, bye for now"] {
        let v = check(&p, &Draft::new(l));
        assert!(v.severity >= Severity::High, "{l:?}: {:?}", v.flags);
    }
}
