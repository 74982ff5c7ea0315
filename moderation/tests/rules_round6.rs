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

// Step 2: from the held-out misses of all twenty-nine tuning files.

#[test]
fn a_message_telling_others_not_to_look_for_them() {
    flags(
        &["im going to the cliffs, dont look for me", "by the time u find me it'll be done"],
        Category::Suicide,
        Severity::High,
    );
    benign(&[
        "playing hide and seek with my cousins, dont look for me in the wardrobe",
        "at the concert now, dont bother looking for me in the crowd",
    ]);
}

#[test]
fn people_online_encouraging_suicide() {
    flags(
        &[
            "people in this server keep saying im brave for wanting to go",
            "someone on tiktok sent me the quickest way to do it and said i should do it",
        ],
        Category::Suicide,
        Severity::High,
    );
    benign(&[
        "someone on tiktok showed the best way to do it for winged eyeliner",
        "my coach says im brave for trying the backflip, going through with it tomorrow",
    ]);
}

#[test]
fn self_harm_kept_secret_or_felt_as_relief() {
    flags(
        &[
            "can someone buy me plasters and steri strips, dont ask why",
            "the only thing that calms me is seeing the blood",
        ],
        Category::SelfHarm,
        Severity::High,
    );
    benign(&[
        "how do i get blood out of my sheets, period came early, dont ask",
        "my nose bleeds all the time, got blood on my sleeve again dont ask",
        "the only thing that hurt at the farm was the sting from the nettles",
    ]);
}

#[test]
fn days_without_food_counted() {
    flags(
        &["havent eaten since friday, day 3 now and i feel good about it", "on day 5 of the water fast the group set"],
        Category::SelfHarm,
        Severity::High,
    );
    benign(&[
        "havent eaten since friday cos of a stomach bug, feeling better now",
        "day 4 of ramadan and the fasting is getting easier",
        "my hamster hasnt eaten since monday, taking him to the vet",
    ]);
}

#[test]
fn a_home_unsanitary_and_a_child_unwashed() {
    flags(
        &["theres maggots in the kitchen and bin bags everywhere, not had a bath in ages"],
        Category::AbuseDisclosure,
        Severity::High,
    );
    benign(&["the landlord still hasnt fixed the boiler, no hot water and mould in the bathroom"]);
}

#[test]
fn shut_outside_as_a_punishment() {
    flags(
        &["my stepdad locked me out all night in my pyjamas cos i answered back"],
        Category::AbuseDisclosure,
        Severity::High,
    );
    benign(&["mum locked me out by accident for hours, forgot my keys lol"]);
}

#[test]
fn domestic_violence_witnessed() {
    flags(
        &[
            "mums boyfriend punched my mum again last night and we all had to act normal",
            "heard ma da choking ma maw through the wall",
        ],
        Category::AbuseDisclosure,
        Severity::High,
    );
    benign(&[
        "my dad beat my mum at uno again",
        "my mum hit my dads car reversing out the drive",
        "dad kicked the ball over the fence and mum went mad",
    ]);
}

#[test]
fn an_address_got_and_a_routine_known() {
    flags(
        &[
            "found where he lives, pulling up tonight with the boys",
            "that girl better watch out, i know what bus she gets after school",
        ],
        Category::ViolenceThreat,
        Severity::High,
    );
    benign(&[
        "got her address for the birthday party invite",
        "i know what bus he gets so i can meet him to walk to school",
    ]);
}

#[test]
fn humiliation_and_hate_groups_made() {
    flags(
        &["they made her lick the floor in the changing rooms", "someone started a page called everyone hates jayden"],
        Category::BullyingHarassment,
        Severity::High,
    );
    benign(&[
        "we made the dog beg for his biscuit",
        "made a group chat called we hate mondays lol",
        "started a group called killers fans uk",
    ]);
}

#[test]
fn summoned_at_night_or_afraid_not_to_go() {
    flags(
        &[
            "they text me be at the usual spot 2am and i have to go",
            "i go because im more scared not to",
            "he wants me to keep doing runs for him and hell pay off my court fine",
            "police found me in a flat in blackpool at 3am, the olders sent me",
        ],
        Category::CriminalExploitation,
        Severity::High,
    );
    benign(&[
        "my mates snap me link at the park 9pm for football",
        "scared to go to the dentist but more scared not to lol",
        "my cat went missing at 2am and the police picked me up in the morning to help find her lol",
    ]);
}

#[test]
fn weapons_shown_off_or_made() {
    flags(
        &["they were posing with a machete for pics at the party", "boys in my year are making shanks in the toilets"],
        Category::Weapons,
        Severity::High,
    );
    benign(&[
        "we passed the cake knife round for pics at nans birthday",
        "making weapons in minecraft for the boss fight",
    ]);
}

#[test]
fn threats_to_burn_traveller_homes() {
    flags(&["someone should torch the caravans on the lane"], Category::Hate, Severity::High);
    benign(&["we had a bonfire night party at the holiday park, nobody burnt the caravan lol"]);
}
