//! The rule families of issue 19's seventh round (`policy/default.toml`, section "ROUND 7"),
//! each with the everyday look-alikes that must stay unflagged. Rules alone (the model is not
//! attached). The examples are written here from the sources the policy cites, not copied from
//! the corpus.

use talkzone_moderation::{Category, Severity};

mod common;

use common::{benign, flags, verdict};

#[test]
fn a_gun_or_its_rounds_asked_for() {
    flags(
        &[
            "anyone got shells for the ting, need them by tonight",
            "who has a link for bullets",
            "need a stick and some ammo asap",
        ],
        Category::Weapons,
        Severity::High,
    );
    benign(&[
        "we got loads of shells at the beach today",
        "need more ammo for the nerf war at my cousins",
        "anyone got a link to the warzone ammo glitch",
        "got some taco shells for tea",
    ]);
}

#[test]
fn spraying_a_house_is_shooting_at_it() {
    flags(
        &["were gonna spray his house", "they sprayed the block last night", "shoot up the opps yard"],
        Category::ViolenceThreat,
        Severity::High,
    );
    benign(&[
        "my dad is gonna spray the house for ants",
        "we sprayed the windows with cleaner",
        "i sprayed him with the hose in the garden lol",
        "spray the car with the jet wash first",
    ]);
}

#[test]
fn an_id_or_account_asked_for_with_money() {
    flags(
        &[
            "send a pic of your id and ill sort you a job, 300 a week",
            "lend me ur account for a day and u get £200, easy money",
            "just need your bank card for one drop, ur cut is 100",
        ],
        Category::CriminalExploitation,
        Severity::High,
    );
    benign(&[
        "the bank asked for a photo of your id to open the account",
        "my new job needs a pic of my id for the right to work check",
        "my nan got a scam text asking for her bank details",
    ]);
}

#[test]
fn nobody_would_look_for_them() {
    flags(
        &["no one would even look for me", "nobody would notice im gone tbh", "no one would care if i wasnt here"],
        Category::Suicide,
        Severity::High,
    );
}

#[test]
fn dread_of_a_lesson_or_a_test_is_not_suicide() {
    benign(&[
        "were all gonna die in the chem exam",
        "im gonna die in the maths test",
        "we are so dead when miss finds out lol",
        "i nearly died of embarrassment in drama",
    ]);
    flags(&["i want to die", "im gonna die tonight, ive got the pills"], Category::Suicide, Severity::High);
}

#[test]
fn a_sibling_and_their_snack_is_a_joke_but_a_hurt_is_not() {
    benign(&[
        "im gonna shank my bro if he eats my last kinder bueno",
        "gonna kill my sister if she touches my straighteners again",
        "ill batter my cousin if he uses my fortnite account",
    ]);
    let v = verdict("im gonna stab my brother if he touches my little sister again");
    assert!(v.severity >= Severity::High, "{v:?}");
}

#[test]
fn hate_calling_for_a_boat_to_be_sunk_is_high() {
    flags(
        &[
            "these immigrants are taking over our town, send em all back on a boat and sink it",
            "the migrants should all be put on a boat and drowned",
            "hope the small boats sink tbh, let them drown",
        ],
        Category::Hate,
        Severity::High,
    );
    benign(&[
        "the rnli rescued a dinghy full of people off dover",
        "we watched titanic, the boat sinks and everyone drowns",
    ]);
}
