//! The rule families of issue 19's fifth round (`policy/default.toml`, section "ROUND 5"), each
//! with the everyday look-alikes that must stay unflagged, and the rule that identifiers found as
//! personal information are not read as words. Rules alone (the model is not attached). The
//! examples are written here from the sources the policy cites, not copied from the corpus.

use talkzone_moderation::{Category, Severity};

mod common;

use common::{benign, flags, not_label, verdict};

#[test]
fn a_passport_taken_before_a_marriage() {
    flags(
        &[
            "my dad has my passport and says the wedding is in august",
            "they hid my passport, my aunt keeps talking about who im gonna marry",
            "my family are getting me married back home next year and im 15",
        ],
        Category::AbuseDisclosure,
        Severity::High,
    );
    benign(&[
        "i need my passport for the school trip to paris",
        "my sister is getting married in the summer, im a bridesmaid",
        "mum has my passport cos we're going to spain",
    ]);
}

#[test]
fn bruises_hidden_or_waited_out() {
    flags(
        &[
            "how long till bruises fade before school",
            "the bruises are from my stepdad, i said i fell",
            "need the marks on my arm gone before my social comes",
        ],
        Category::AbuseDisclosure,
        Severity::High,
    );
    benign(&[
        "got a massive bruise from football training",
        "bruised my knee at netball lol",
        "my banana has bruises on it gross",
    ]);
}

#[test]
fn cuts_hidden_before_others_see() {
    flags(
        &["what makes cuts heal quicker, swimming next week", "how do i hide my cuts in pe"],
        Category::SelfHarm,
        Severity::High,
    );
    benign(&["how do i get rid of acne scars", "got a paper cut from my homework 😭"]);
}

#[test]
fn traffic_and_a_tested_ligature() {
    flags(&["i keep thinking about stepping into traffic"], Category::Suicide, Severity::High);
    flags(
        &["checked the rail in my room will hold my weight", "the belt is strong enough i tested it"],
        Category::Suicide,
        Severity::Critical,
    );
    benign(&[
        "stuck in traffic on the way to my nans",
        "the curtain pole is strong enough for the fairy lights",
        "is the shelf strong enough for my books",
    ]);
}

#[test]
fn guns_hidden_or_fired_in_road_slang() {
    flags(&["he stashed the shotty under his bed", "his strap went off in the car"], Category::Weapons, Severity::High);
    benign(&["meet you at half nine", "my alarm went off at nine", "the fire alarm went off in science"]);
}

#[test]
fn a_group_that_knows_where_the_family_is() {
    flags(
        &["they said they know where my little brother goes to school", "the olders know where my mum works"],
        Category::ViolenceThreat,
        Severity::High,
    );
    benign(&["my social worker knows where my sister lives"]);
}

#[test]
fn grooming_by_flattery_and_underwear_questions() {
    flags(
        &["my coach keeps texting me saying im mature for my age", "he asked what colour my bra was"],
        Category::SexualExploitationGrooming,
        Severity::High,
    );
}

#[test]
fn everyday_words_that_sounded_like_risk() {
    benign(&[
        "got 6 stitches from rugby",
        "hit my shin on the table",
        "i have a spot on my chin",
        "we went country with my family to a caravan",
        "cant sleep cos my dad snores",
        "im so gassed for my birthday, the whole family is gassed",
        "got a skunk plushie at the fair",
        "the coffee grinder is so loud",
        "we jumped off the pier into the sea at summer camp, swimming is the best",
        "ur chat is dead bruv",
        "i cant eat ham its not halal",
    ]);
    not_label(&["my mum says if she kicks me out ill go to my nans"], Category::AbuseDisclosure);
    not_label(&["ppl who think asians are all terrorists are so thick"], Category::Hate);
}

#[test]
fn identifiers_are_not_read_as_words() {
    for text in ["my postcode is G12 5HT", "add me its @killa.k", "email deadboy99@example.com"] {
        let v = verdict(text);
        assert!(!v.flagged(), "{text:?}: {:?}", v.flags);
        assert!(!v.pii.is_empty(), "{text:?} should still carry personal information");
    }
    // risk words beside an identifier are still read
    let v = verdict("my postcode is G12 5HT and i want to kill myself");
    assert!(v.labels.contains(&Category::Suicide) && v.severity >= Severity::High, "{:?}", v.flags);
}

#[test]
fn slurs_masked_by_any_run_of_letters() {
    flags(
        &["they called him a n****r at the bus stop", "shut up you f*g", "all the ni**as round here"],
        Category::Hate,
        Severity::High,
    );
    benign(&["what a n*ce day"]);
    not_label(&["f***ing printer jammed again"], Category::Hate);
}

#[test]
fn round_5_step_2_constructions() {
    flags(&["sat in the garage with the engine running"], Category::Suicide, Severity::Critical);
    flags(
        &[
            "gonna shoot up the school tomorrow lol",
            "keep talking and u'll get ur jaw broke",
            "ill make sure he never walks again",
        ],
        Category::ViolenceThreat,
        Severity::High,
    );
    flags(
        &[
            "a man was filming me in the changing room at the pool",
            "my cousin ran away from her foster home and shes with some older men",
        ],
        Category::SexualExploitationGrooming,
        Severity::High,
    );
    flags(&["we hid the diabetic kids insulin bag in the bin"], Category::BullyingHarassment, Severity::High);
    flags(
        &["had nothing but water for 4 days to lose weight", "on 400 cals a day"],
        Category::MentalHealthDistress,
        Severity::High,
    );
    flags(&["took my brothers adderall to stay up"], Category::DrugsAlcohol, Severity::High);
    flags(&["my mams on the brown again and theres no food in"], Category::AbuseDisclosure, Severity::High);
    flags(&["carried a bag for a man to liverpool and got 200 quid"], Category::CriminalExploitation, Severity::High);
    benign(&[
        "waiting in the car with the engine running for mum",
        "the doctor said i might never walk again properly after the accident",
        "my mum filmed me singing in the shower lol",
        "carried a bag for my nan to the post office",
        "doing 3000 calories a day to bulk for rugby",
        "the blues won 2-0",
    ]);
}

#[test]
fn round_5_step_3_everyday_lines() {
    benign(&[
        "the zombie film last night had blood everywhere, so good",
        "got 3 stars on gta for nicking a car",
        "bought trainers off a guy on vinted and he never sent them",
        "ate a carolina reaper and thought i was gonna die",
        "my charger has gone missing again",
        "the bunsen burner in chemistry went out",
        "the gc went mad over the new teacher",
        "taking a knife to gut the fish on the trip with grandad",
        "stab your chips in the sauce",
        "england are gonna smash them in the final",
        "got my jabs tomorrow, proper bricking it",
        "cant sleep, lambing season and the sheep are so loud",
    ]);
    // the same words where the risk is real stay flagged
    flags(&["if he comes near me again im gonna batter him"], Category::ViolenceThreat, Severity::Medium);
    flags(
        &["my little brother has gone missing, the lads took him to a trap house"],
        Category::CriminalExploitation,
        Severity::High,
    );
}

#[test]
fn round_5_step_4_after_q() {
    flags(
        &[
            "what's the most painless way to go",
            "how high does a bridge have to be",
            "ive been writing my will tonight",
        ],
        Category::Suicide,
        Severity::High,
    );
    flags(
        &["my cousin got cheffed up outside the shop", "he said hell stab anyone who grasses"],
        Category::Weapons,
        Severity::High,
    );
    flags(&["send ur location and we'll slide with the mandem"], Category::ViolenceThreat, Severity::High);
    flags(&["a man on snap asked what colour my bra is"], Category::SexualExploitationGrooming, Severity::High);
    flags(&["hes a dirty p*lack", "heil to the lads in the gc"], Category::Hate, Severity::High);
    benign(&[
        "im gonna die of boredom in geography",
        "use a sharp knife for onions, a blunt one slips",
        "we watched a knife crime video in PSHE about a lad who got stabbed",
        "chelsea got battered 5-1 lmao",
        "had a dream i stabbed a zombie with a ruler",
        "gonna merk this exam tomorrow",
        "drop the location for the party and we'll pull up with snacks",
    ]);
}

#[test]
fn round_5_rules_stay_narrow() {
    benign(&[
        "i know where my mum keeps the biscuits",
        "i carried a bag for him cos his arm was broken",
        "i havent eaten since breakfast im starving",
        "i lean towards pizza tbh",
        "we took a pic in front of a bus in london",
    ]);
    // a lesson named in the message does not cancel a threat
    flags(&["gonna stab him after the lesson"], Category::Weapons, Severity::High);
}

#[test]
fn round_5_step_5_after_the_look_alike_batch() {
    benign(&[
        "the party last night was gassed",
        "my grandad keeps a shotgun for the rabbits, hes got a licence",
        "we did a lesson on sharing nudes in pshe, so cringe",
        "my essay is on county lines for criminology, any leaflets?",
        "ill batter you at darts",
        "in of mice and men lennie gets shot and in romeo and juliet they kill themselves",
        "dad said bring ur tools to fix the fence",
    ]);
    flags(&["they should all be gassed"], Category::Hate, Severity::High);
    flags(&["meet at the station after the match, bring ur tools"], Category::Weapons, Severity::High);
}

#[test]
fn round_5_step_6_after_r() {
    flags(&["we know where jake lives now, see how hard he is"], Category::ViolenceThreat, Severity::High);
    flags(
        &["posting body checks on my ed account again", "still hiding the cuts under long sleeves in summer"],
        Category::SelfHarm,
        Severity::High,
    );
    flags(&["ive got nothing left to live for"], Category::Suicide, Severity::High);
    flags(&["can do u a nine bar cheap"], Category::DrugsAlcohol, Severity::High);
    flags(&["i wish you were dead", "go join ur brother in the ground"], Category::BullyingHarassment, Severity::High);
    flags(
        &["some men in the live stream dare the kids to do challenges in their bedrooms"],
        Category::SexualExploitationGrooming,
        Severity::High,
    );
    flags(
        &["he gives me a list of stuff to nick from boots and pays per item"],
        Category::CriminalExploitation,
        Severity::High,
    );
    flags(&["they battered a homeless man in town for a laugh"], Category::ViolenceThreat, Severity::High);
    flags(&["polish boys are all thieves", "the master race will win"], Category::Hate, Severity::High);
    benign(&[
        "i know where the party is, see you there",
        "the bus still runs to the college on sundays",
        "dad got weed killer for the drive",
        "on my period and my stomach is killing",
    ]);
}

#[test]
fn round_5_everyday_words_do_not_cancel_real_risk() {
    // each line holds a word that one of round 5's narrowings names (a bus, a youth club, chips,
    // a day, a platform, a car, a film, a farm): the risk beside it is still flagged
    flags(
        &[
            "they put me on the bus to norfolk to go country",
            "they recruit kids at the youth club to do runs",
            "they make me work on the farm for no money till i pay off the debt",
        ],
        Category::CriminalExploitation,
        Severity::High,
    );
    flags(&["im gonna batter him on saturday"], Category::ViolenceThreat, Severity::High);
    flags(&["he carries a knife in the car"], Category::Weapons, Severity::High);
    flags(&["a man i met on ebay wants to meet me at a hotel"], Category::SexualExploitationGrooming, Severity::High);
    flags(&["i cut myself after the film"], Category::SelfHarm, Severity::High);
}
