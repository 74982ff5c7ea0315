//! The rule families of issue 19's fourth round (`policy/default.toml`, section "ROUND 4"): kinds
//! of construction the held-out tuning folds missed, each with the everyday look-alikes that
//! must stay unflagged. Rules alone (the model is not attached). The examples are written here
//! from the sources the policy cites, not copied from the corpus.

use talkzone_moderation::{Category, Severity};

mod common;

use common::{benign, flags, not_label};

#[test]
fn hate_as_approval_of_an_attack() {
    flags(
        &[
            "respect to the lads who torched the mosque last night",
            "about time someone sprayed something on that synagogue",
            "good on them for running the immigrants out 💪",
            "someone left a pigs head outside the mosque haha",
        ],
        Category::Hate,
        Severity::High,
    );
    benign(&[
        "fair play to the mosque for doing the food bank",
        "we had ham sandwiches for lunch",
        "my mate is muslim so we got him a halal burger instead of the bacon one",
        "fair play to my mum, about time she got a new job",
    ]);
}

#[test]
fn bullying_done_and_filmed_for_others() {
    flags(
        &[
            "started a group chat to rate the ugliest girls in year 8",
            "follow the page we expose all the snitches",
            "we held him down and someone filmed it for snap",
            "whoever trips her in PE gets a tenner",
            "dropping her address in the gc so everyone can pull up",
        ],
        Category::BullyingHarassment,
        Severity::High,
    );
    benign(&[
        "made a gc for the trip to alton towers",
        "rate my outfit for the prom",
        "i filmed the match for my dad",
        "can u drop me your address for the party invite",
    ]);
}

#[test]
fn threats_with_an_object_or_a_day() {
    flags(
        &["she said shes gonna bottle me after school", "were jumping him friday outside the chippy"],
        Category::ViolenceThreat,
        Severity::High,
    );
    benign(&["having a glass of water before bed", "were jumping on the trampoline after school"]);
}

#[test]
fn exploitation_lookouts_blame_and_lines() {
    flags(
        &[
            "the olders give me 20 quid to keep a look out by the shops",
            "if feds stop me say its all mine thats what they told me",
            "my line is dry today, nobody texting",
            "they asked me to keep a bag at my placement, staff never check",
        ],
        Category::CriminalExploitation,
        Severity::High,
    );
    benign(&[
        "keep a look out for the bus will u",
        "hold the line please said the woman at the council",
        "can u keep my coat at yours",
    ]);
}

#[test]
fn suicide_method_questions_and_arranging_for_after() {
    flags(
        &[
            "does it hurt to drown or is it quick",
            "which car park in town has no fences on the top",
            "wrote down my passwords so theres less for my mum to sort out after",
        ],
        Category::Suicide,
        Severity::High,
    );
    benign(&[
        "gave my old trainers to my cousin cos they dont fit",
        "does it hurt to get ur ears pierced",
        "the tallest building in the world is in dubai, did it for geography homework",
    ]);
}

#[test]
fn sport_food_and_schoolwork_are_not_violence_or_drugs() {
    benign(&[
        "gonna shoot some hoops at the park",
        "might shoot a video for my music",
        "baked a cake for nans birthday",
        "put too much spice in the curry",
        "gonna batter this essay tonight",
        "proper gutted we lost on penalties",
    ]);
}

#[test]
fn scots_spellings_and_weapons_held_by_the_law_to_be_prohibited() {
    flags(&["ahll chib ye efter school"], Category::ViolenceThreat, Severity::High);
    flags(
        &["my brother keeps a taser in his room", "shes got pepper spray in her bag"],
        Category::Weapons,
        Severity::High,
    );
    benign(&["ye cannae be serious, that film was class", "the wi fi is down again at ma gran's"]);
}

#[test]
fn lawful_knives_sport_games_and_school_are_not_risk() {
    benign(&[
        "got a pocket knife for whittling at scouts",
        "our keeper will get merked on the pitch tomorrow",
        "my cousin is always the dealer in monopoly and he cheats",
        "kms if i have to do one more lap of the field",
        "the teacher kicked me out of class for talking",
        "can u send the letter to my new address please",
    ]);
    // the same words where the risk is real stay flagged
    flags(&["he carries a knife in his bag to school"], Category::Weapons, Severity::High);
    flags(&["my dad kicked me out last night and i slept at the park"], Category::AbuseDisclosure, Severity::High);
}

#[test]
fn pork_is_hate_only_at_muslims() {
    flags(&["we left bacon on his prayer mat for a laugh"], Category::Hate, Severity::High);
    benign(&["got bacon and sausages from the polish shop", "my muslim mate doesnt eat ham so we got pizza"]);
}

#[test]
fn everyday_lines_near_the_round_4_constructions() {
    benign(&[
        "shout if u want a lift, my cousin said he can take us",
        "gave all my sweets to my little brother",
        "jumping the stairs at the park on my bike",
    ]);
    not_label(&["he doesnt know why im upset and i dont either"], Category::Suicide);
}
