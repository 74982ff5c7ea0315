//! Table tests for each rule family of the built-in policy: typical messages, the ways young people
//! disguise them, and hard negatives (hyperbole, negation, everyday words) that must not flag.

use talkzone_moderation::{check, eval_record, Action, Category, Context, Draft, Policy, Severity, Verdict};

mod common;

use common::{benign, flags, not_label, verdict};

#[test]
fn suicide_and_evasions() {
    flags(
        &[
            "i want to kill myself",
            "i wanna kms",
            "i dont want to live anymore",
            "im tired of being alive",
            "k i l l  m y s 3 l f",
            "k.i.l.l.i.n.g myself tonight",
            "i want to d1e",
            "I WANT TO DIEEEEE",
            "wanna unalive fr",
            "su1c1dal again",
            "thinking about ending it all",
            "no point carrying on",
            "everyone would be better off without me",
            "wudnt it be easier for every1 if i just wasnt here",
            "im gonna jump off the bridge",
            "thinkin bout endin it all tbh",
            "im so done wiv life",
            "ive been researching ways to do it",
            "i just want to stop existing",
            "im not ok i want to die",
            "\u{1d5f8}\u{1d5f6}\u{1d5f9}\u{1d5f9} myself", // mathematical sans-serif "kill"
        ],
        Category::Suicide,
        Severity::High,
    );
}

#[test]
fn suicide_critical_when_imminent() {
    flags(
        &[
            "been saving my tablets, tonight i take them all",
            "just took a whole packet of paracetamol",
            "sat on the edge of the roof, feel calm",
            "got a plan and im doing it tomorrow before school",
            "tied a belt round my neck earlier, going to try again",
            "i have the rope ready and everyones asleep",
            "ive left a note on my bed for my mum",
            "im sat on the railway line, next train in 10 mins",
            "this is my last message, tell my mum im sorry",
        ],
        Category::Suicide,
        Severity::Critical,
    );
}

/// Short words spelt out letter by letter (three or four letters: `t o o k`, `k m s`) are
/// caught as whole spaced-out words, as serious as written plainly.
#[test]
fn spaced_out_short_words() {
    flags(
        &["t o o k all the pills", "i t o o k all the pills", "just t o o k a whole packet of paracetamol"],
        Category::Suicide,
        Severity::Critical,
    );
    flags(&["k m s", "i wanna k m s", "gonna k.m.s tonight"], Category::Suicide, Severity::High);
    // Three or four letters found just anywhere in a run of spelt-out letters are not a word.
    benign(&[
        "the u s a is big",
        "grade a b c in my exams",
        "a b c d i e t",
        "my initials are j k r",
        "y r u sad",
        "p s i love you",
        "x x x",
    ]);
}

#[test]
fn third_person_reports_take_the_risk_of_that_person() {
    flags(
        &[
            "my mate said hes going to kill himself",
            "my girlfriend says shes gonna hang herself",
            "my friend keeps talking about ending her life",
        ],
        Category::Suicide,
        Severity::High,
    );
    flags(&["my sister is 11 and i keep finding bloody tissues in her bin"], Category::SelfHarm, Severity::High);
}

#[test]
fn negation_cancels_but_not_dont_want_to_live() {
    benign(&[
        "i would never hurt myself",
        "im not going to kill myself, just had a bad day",
        "not gonna do anything stupid i promise",
        "i wont ever self harm again",
    ]);
    flags(&["i don't want to live anymore", "i dont know why i want to die"], Category::Suicide, Severity::High);
}

#[test]
fn hyperbole_is_not_risk() {
    benign(&[
        "this homework is killing me",
        "im dead lol",
        "i could kill for a pizza",
        "my mum is gonna kill me when she sees my report",
        "i nearly died laughing",
        "the bleep test actually ended me 😵",
        "we smashed it at football",
        "i keep dying on the last boss",
        "starving, could eat my own arm",
        "i overdosed on haribo at the cinema lol",
        "gonna hang the washing out",
        "im hanging out with my cousins",
        "running up that hill is stuck in my head",
        "killing time before my session",
    ]);
}

#[test]
fn self_harm() {
    flags(
        &[
            "started cutting my thighs so no one sees",
            "self h@rm is the only thing that helps",
            "i burn myself with a lighter when it gets bad",
            "3 new ones on my arm tonight 🩹",
            "did it again. hate myself",
            "i bite my arms till they bruise",
        ],
        Category::SelfHarm,
        Severity::High,
    );
    flags(&["the cut on my arm is gaping open and wont stop bleeding"], Category::SelfHarm, Severity::Critical);
    // recovered: still a label, but low
    let v = verdict("i used to cut in year 7 but ive been clean over a year now");
    assert_eq!(v.severity, Severity::Low, "{:?}", v.flags);
    benign(&["i cut my hair", "cut the grass for my nan", "fell off my bike and cut my knee"]);
}

#[test]
fn abuse_disclosure() {
    flags(
        &[
            "my step dad beats me when hes drunk",
            "mums partner pins me against the wall by my neck",
            "my uncle touches me when no one is around",
            "my mum slaps me round the face if i talk back",
            "scared to go home, dad said hed break my legs",
        ],
        Category::AbuseDisclosure,
        Severity::High,
    );
    flags(
        &[
            "dad just threw a chair at me, im locked in the bathroom",
            "mums boyfriend said hes coming in my room tonight",
            "mums been gone since friday and theres no food, just me and my little brother",
        ],
        Category::AbuseDisclosure,
        Severity::Critical,
    );
    flags(
        &[
            "my dad gives me black eyes and tells me to say i fell",
            "my mum leaves me and my sister on our own all weekend",
        ],
        Category::AbuseDisclosure,
        Severity::High,
    );
    benign(&[
        "my sister pushed me in the pool on holiday 😂",
        "my brother and me had a play fight",
        "my mum dragged me to ikea all day",
        "shes always hitting me up about going out",
        "my brother battered me at pool",
        "my dad drinks every weekend at the pub with his mates",
    ]);
}

#[test]
fn grooming_and_sexual_exploitation() {
    flags(
        &[
            "this older guy keeps sending me vouchers and wants to video call in my pjs",
            "he asked me to send pics and said its what mature girls do",
            "hes 22 and im 14 but he says age is just a number",
            "my ex is threatening to post the videos i sent him",
            "he told me not to tell my mum about us",
        ],
        Category::SexualExploitationGrooming,
        Severity::High,
    );
    flags(
        &[
            "a man i met on fortnite is picking me up tonight, hes taking me to a hotel",
            "someone has my pics and says hell post them unless i send £200 in the next hour",
        ],
        Category::SexualExploitationGrooming,
        Severity::Critical,
    );
}

#[test]
fn criminal_exploitation_county_lines_slang() {
    flags(
        &[
            "my olders want me to go country next week",
            "theres a trap line in my name",
            "been running a line for them",
            "they use my mums flat to bag up",
            "i got taxed and now they say i owe them 2 grand",
            "my elder says im snitching if i go to yot",
            "they make me do drops after school",
            "going OT this weekend",
            "they said i have to pay them back 800 or work it off",
            "ive got weed in my bag for the lads, theyll sort me out after",
            "theyve had me in a flat in blackpool for 4 days",
        ],
        Category::CriminalExploitation,
        Severity::High,
    );
    flags(
        &["theyve locked me in at the trap till i pay, please help"],
        Category::CriminalExploitation,
        Severity::Critical,
    );
    benign(&[
        "my line manager at the placement is sound",
        "the plug in my room is broken",
        "we did a workshop about county lines",
    ]);
}

#[test]
fn weapons_and_uk_slang() {
    flags(
        &[
            "my mate carries a kitchen knife down his trackies",
            "i stash my ting in the drain so i dont get caught",
            "they want me to hold a strap for a week",
            "everyone on my estate carries, its normal",
            "got a shank in my bag",
            "ordered a zombie knife online",
            "got my 🔪 on me",
        ],
        Category::Weapons,
        Severity::High,
    );
    flags(&["theres a man waving a machete outside the shop rn"], Category::Weapons, Severity::Critical);
    benign(&[
        "chef showed me how to sharpen the knives",
        "stabbed the straw into my capri sun 😂",
        "got shot in the neck at paintballing 😂",
        "shes my ting, been together 3 months",
        "the knife crime assembly was good",
        "got a new knife set for my catering course",
    ]);
}

#[test]
fn violence_threats() {
    flags(
        &[
            "ur gonna get ur head kicked in tomorrow",
            "we know where ur nan lives",
            "whoever grassed is getting wet up",
            "gonna stab him when i see him",
            "me and the boys are going to their ends tonight to sort it",
        ],
        Category::ViolenceThreat,
        Severity::High,
    );
    flags(&["im gonna set fire to the school when everyones in it"], Category::ViolenceThreat, Severity::Critical);
    flags(
        &["im gonna wait for him after school and batter him", "ima beat ur ass after school"],
        Category::ViolenceThreat,
        Severity::High,
    );
    benign(&[
        "my brother is so annoying i swear ill kill him lol",
        "we're gonna kill it at the match saturday",
        "my mate said hes going to smash his driving test",
    ]);
}

#[test]
fn bullying_is_aimed_at_someone() {
    flags(
        &[
            "nobody likes u, thats why ur on here",
            "keep ur fat mouth shut piggy 🐷",
            "thick as mince u are",
            "ur mums a crackhead",
            "fuck off you prick",
        ],
        Category::BullyingHarassment,
        Severity::Medium,
    );
    flags(
        &["go slit ur wrists emo", "kys", "ky$ lol", "hope u get run over tbh"],
        Category::BullyingHarassment,
        Severity::High,
    );
    benign(&["ur so funny honestly", "ur mum is so nice", "you're not stupid for asking", "are you mad at me?"]);
    // swearing at someone is bullying, not profanity
    not_label(&["fuck off you prick"], Category::Profanity);
    // being bullied is distress, not bullying
    let v = verdict("everyone at school is picking on me and calling me names");
    assert!(
        v.labels.contains(&Category::MentalHealthDistress) && !v.labels.contains(&Category::BullyingHarassment),
        "{v:?}"
    );
}

#[test]
fn hate() {
    flags(
        &["they should gas all the gypsies", "14 words. the white race", "shut up ya fckin bender"],
        Category::Hate,
        Severity::High,
    );
    flags(&["lesbians are just confused", "too many foreigners round here now"], Category::Hate, Severity::Medium);
    // masked slurs
    flags(&["he called me a p*ki in front of everyone", "die you f*ggot"], Category::Hate, Severity::High);
    benign(&["i hate mondays sm"]);
    // UK slang: a fag is a cigarette
    not_label(&["i had a fag behind the shed"], Category::Hate);
}

#[test]
fn drugs_and_alcohol() {
    flags(
        &[
            "smoking weed every day",
            "got caught with a bit of bud",
            "mandy at the festival was amazing",
            "had a zoot before school",
            "doing k3t at the weekend",
            "bought some 💊 off a lad",
        ],
        Category::DrugsAlcohol,
        Severity::Medium,
    );
    flags(&["my mates fitting on the floor after taking a pill"], Category::DrugsAlcohol, Severity::Critical);
    flags(&["had a few vodkas at my cousins 18th"], Category::DrugsAlcohol, Severity::Low);
    benign(&[
        "coke or pepsi? coke every time",
        "smoked salmon for tea",
        "weeded the flower beds today",
        "the grass on the pitch was wet",
        "the plug socket sparks",
        "that party was bare good",
        "ive been clean off weed for 3 months now",
        "my mate is a dealer at the casino in blackpool",
        "keep tripping over my laces lol",
        "its snowing ❄️❄️",
    ]);
    flags(&["got a ❄️ line for the weekend, hmu"], Category::DrugsAlcohol, Severity::Medium);
}

#[test]
fn profanity_is_low() {
    for t in [
        "fuck sake the printer ate my coursework",
        "sh!t sorry wrong chat",
        "f*ck this week",
        "fkn love this song",
        "lmfao that goal",
    ] {
        let v = verdict(t);
        assert_eq!(v.labels, vec![Category::Profanity], "{t:?}: {:?}", v.flags);
        assert_eq!(v.severity, Severity::Low);
    }
    // "he'll" is not "hell"
    benign(&["he'll be there at 4", "she'll ring you later", "shell suit"]);
}

#[test]
fn mental_health_distress() {
    flags(
        &[
            "feel like a failure, everyone else is doing better than me",
            "my mind wont shut up, i overthink everything",
            "i cry in the shower so no one can hear",
            "scared to leave the house",
            "dont sleep more than 2 hours a night",
        ],
        Category::MentalHealthDistress,
        Severity::Medium,
    );
    flags(
        &["i h8 myself", "everyone in my class blanks me and i eat lunch on my own"],
        Category::MentalHealthDistress,
        Severity::Medium,
    );
    benign(&[
        "i told my worker i was feeling low last month and it helped loads, im good now",
        "the film made me cry",
        "i stayed in bed all day sunday, it was lush",
    ]);
}

#[test]
fn everyday_benign_chat() {
    benign(&[
        "i finished my referral order today!! thanks for everything",
        "is there football at the sports hall this week",
        "bro that fit is fire 🔥",
        "that tune is sick",
        "shes peng",
        "that was bare funny",
        "the party was lit",
        "thought about bunking school but i went in",
        "my cousins getting married and im best man, nervous for the speech",
        "can u call my nan instead",
        "what time does the centre shut on fridays",
        "i want to be a nurse when im older",
        "my payslip came through, first ever wage 🥳",
    ]);
}

#[test]
fn flags_explain_with_spans_into_the_original() {
    let text = "Honestly I want to K1LL MYSELF tonight";
    let v = verdict(text);
    assert_eq!(v.severity, Severity::Critical);
    assert!(!v.flags.is_empty());
    for f in &v.flags {
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        assert_eq!(&text[f.start..f.end], f.matched);
        assert!(!f.rule.is_empty());
    }
    assert!(v.flags.iter().any(|f| f.matched == "K1LL MYSELF" && f.category == Category::Suicide), "{:?}", v.flags);
}

#[test]
fn eval_record_matches_the_contract() {
    let v = verdict("my number is 07700 900 778 and i want to die");
    let r = eval_record("x9", &v);
    assert_eq!(r["id"], "x9");
    assert_eq!(r["flagged"], true);
    assert_eq!(r["severity"], "high");
    assert_eq!(r["labels"], serde_json::json!(["suicide"]));
    assert_eq!(r["pii"], serde_json::json!([{"kind": "phone", "text": "07700 900 778"}]));
    assert_eq!(r["redacted"], "my number is [phone] and i want to die");
    let v = verdict("see you at 4");
    assert_eq!(eval_record("x10", &v)["labels"], serde_json::json!(["none"]));
}

#[test]
fn verdict_serialises_round_trip() {
    let v = verdict("ur dead when i see u, 07700 900123");
    let s = serde_json::to_string(&v).unwrap_or_default();
    let back: Verdict = serde_json::from_str(&s).unwrap_or_default();
    assert_eq!(back, v);
}

#[test]
fn actions_by_context() {
    let p = Policy::builtin();
    let v = check(&p, &Draft { text: "ur a dickhead", context: Context::Room });
    assert_eq!(p.action_for(&v, Context::Room), Action::Hold);
    let v = check(&p, &Draft::new("i want to kill myself tonight"));
    assert_eq!(p.action_for(&v, Context::Support), Action::Escalate);
    let v = check(&p, &Draft::new("hiya"));
    assert_eq!(p.action_for(&v, Context::Support), Action::Allow);
    assert_eq!(p.action(Category::Profanity), Action::Allow);
}

// `check` on arbitrary Unicode (no panic, spans on char boundaries, deterministic) is a
// property test now: `src/normalise/props.rs`.
