//! The rule families of issue 19's sixth round (`policy/default.toml`, section "ROUND 6"), each
//! with the everyday look-alikes that must stay unflagged. Rules alone (the model is not
//! attached). The examples are written here from the sources the policy cites, not copied from
//! the corpus.

use talkzone_moderation::{Category, Severity};

mod common;

use common::{benign, flags};

#[test]
fn a_family_burnt_or_put_out_of_their_home() {
    flags(
        &[
            "that family on the corner want burnt out before the bonfire",
            "they put petrol through the letterbox at my cousins last night",
            "he got a punishment beating in the entry for dealing",
            "my brother was told he has 24 hours, given 48 hours to leave or he gets kneecapped",
        ],
        Category::ViolenceThreat,
        Severity::High,
    );
    benign(&[
        "my chips got burnt and we ran out of ketchup",
        "we watched a documentary about the troubles and punishment beatings in history",
        "the chip pan went up and the fire brigade came, everyone is fine",
    ]);
}

#[test]
fn a_suicide_pact() {
    flags(
        &[
            "me and her made a pact, if they move me we both do it",
            "we agreed we would die together if our parents find out",
            "we have a suicide pact",
        ],
        Category::Suicide,
        Severity::High,
    );
    benign(&[
        "we made a pact to go to the gym together every morning",
        "me and my best mate made a pact to get into the same college",
        "we promised each other we'd do it together, revision every night this week",
    ]);
}

#[test]
fn a_quantity_to_sell_by_a_deadline_or_else() {
    flags(
        &[
            "if i dont shift the rest of the bags by friday they will come to my house",
            "till i shift the food im in debt to them and they said i get battered",
            "if i dont pay back the £300 they said i get wet",
        ],
        Category::CriminalExploitation,
        Severity::High,
    );
    benign(&[
        "if i dont sell all the raffle tickets my mum will kill me lol",
        "if i dont shift this cold im gonna miss the match",
        "if i dont sell these cakes at the bake sale im in debt to my mum for the flour",
    ]);
}

#[test]
fn an_adult_in_trust_grabbing_hard_enough_to_mark() {
    flags(
        &[
            "my football coach grabbed my arm so hard theres finger marks",
            "the staff at the home pinned me on the floor and it still hurts",
            "my stepdad grabbed me by the neck against the wall",
        ],
        Category::AbuseDisclosure,
        Severity::High,
    );
    benign(&[
        "the teacher grabbed my arm to stop me falling off the wall",
        "coach grabbed my shirt in the rugby tackle drill lol",
        "my mum grabbed my hand at the concert she was so excited",
    ]);
}

#[test]
fn sectarian_slurs_masked_or_not() {
    flags(&["dirty f*nians get out of our street", "them taigs need a kicking"], Category::Hate, Severity::High);
    benign(&["we did the fenian rising in history lesson today"]);
}

#[test]
fn dying_over_a_result_is_not_a_wish_to_die() {
    benign(&[
        "if we lose the final ill die",
        "he said im going to die if i scored again haha",
        "cup match tomorrow, ill die if we lose",
    ]);
    flags(&["i want to die, i lost everything"], Category::Suicide, Severity::High);
}

#[test]
fn kit_at_the_gym_and_money_wasted_on_games() {
    benign(&[
        "gonna batter the bag at boxing tonight",
        "smash the pads with my coach later",
        "wasted all my coins on packs again",
        "wasted my pocket money on robux",
        "2 monsters and a pro plus, my heart is going mad",
    ]);
    flags(&["gonna batter him tonight after school"], Category::ViolenceThreat, Severity::High);
    flags(&["got so wasted on vodka last night i blacked out"], Category::DrugsAlcohol, Severity::Medium);
}
