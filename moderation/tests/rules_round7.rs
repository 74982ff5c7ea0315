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

#[test]
fn sleeves_in_the_heat_hide_self_harm() {
    flags(
        &["wearing long sleeves in this heat again, u know why", "hoodie in a heatwave cos of my arms"],
        Category::SelfHarm,
        Severity::High,
    );
    benign(&["its a heatwave and im in shorts", "long sleeves for the wedding photos"]);
}

#[test]
fn asking_whether_being_made_to_do_it_counts() {
    flags(
        &[
            "does modern slavery count if theyre making me sell? asking cos",
            "if youre forced to carry for them do you not get charged if its happening to me",
        ],
        Category::CriminalExploitation,
        Severity::High,
    );
    benign(&[
        "we did modern slavery in assembly, they said if youre forced to do it its happening to someone who needs help",
        "is modern slavery still a thing in the uk?",
    ]);
}

#[test]
fn a_debt_to_the_wrong_people() {
    flags(&["i owe the wrong people 300 by sunday"], Category::CriminalExploitation, Severity::High);
    benign(&["i owe my sister a fiver", "i owe you one for yesterday"]);
}

#[test]
fn a_rumour_spread_on_purpose_or_a_grass_named() {
    flags(
        &["say she sent nudes, doesnt matter if its true", "jake is a grass share this"],
        Category::BullyingHarassment,
        Severity::High,
    );
    benign(&["lost dog in the park, share this everywhere please", "my art page, make sure everyone sees this"]);
}

#[test]
fn a_throw_down_the_stairs() {
    flags(
        &["if he grasses im pushing him down the stairs at break", "swear ill throw you down the stairs"],
        Category::ViolenceThreat,
        Severity::High,
    );
    benign(&["i fell down the stairs at school lol", "the slinky went down the stairs"]);
}

#[test]
fn masked_slurs() {
    flags(&["all j*ws are the same"], Category::Hate, Severity::High);
}
