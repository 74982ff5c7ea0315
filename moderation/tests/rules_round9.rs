//! The rule families of issue 19's ninth round (`policy/default.toml`, section "ROUND 9"), each
//! with the everyday look-alikes that must stay unflagged. Rules alone (the model is not
//! attached). The examples are written here from the sources the policy cites, not copied from
//! the corpus; several are typed as young people new to English type (`he say`, `i have knife`)
//! or in Scots (`noo`, `oot`, `hoose`), which the round's spellings rewrite before matching.

use talkzone_moderation::{Category, Severity};

mod common;

use common::{benign, flags, not_label};

#[test]
fn food_withheld_or_locked_away() {
    flags(&["my stepdad dont feed us when mum is at work"], Category::AbuseDisclosure, Severity::Medium);
    flags(
        &["she locks the fridge at night so i cant eat", "foster man say no food if i talk back"],
        Category::AbuseDisclosure,
        Severity::High,
    );
    benign(&[
        "dont feed the ducks bread its bad for them",
        "we lock the fridge cos the dog opens it lol",
        "not allowed to eat in my room, house rules",
    ]);
}

#[test]
fn taken_abroad_for_cutting() {
    flags(
        &["auntie say in summer we go back home to make me a woman, the special procedure"],
        Category::AbuseDisclosure,
        Severity::High,
    );
    benign(&["going back home to see my grandma this summer, cant wait", "getting my hair cut before the holiday"]);
}

#[test]
fn debt_for_the_journey_and_documents_taken() {
    flags(
        &["the man who own the shop keep my passport, he say i cant leave till i pay"],
        Category::CriminalExploitation,
        Severity::High,
    );
    flags(
        &["i owe them for the lorry. now i work in the farm with the plants and i sleep there"],
        Category::CriminalExploitation,
        Severity::Critical,
    );
    flags(
        &["he say tonight i go to leeds with the bag for my uncle"],
        Category::CriminalExploitation,
        Severity::Critical,
    );
    benign(&[
        "need to renew my passport before the school trip",
        "still paying back my mum for the school trip",
        "going to the gym tonight with my bag",
    ]);
}

#[test]
fn a_wish_to_die_in_plain_english() {
    flags(&["i want die, no one here for me"], Category::Suicide, Severity::High);
    flags(&["i want die. tonight i finish it"], Category::Suicide, Severity::Critical);
    flags(&["i take 6 of my mum tablets, maybe more, i dont know"], Category::SelfHarm, Severity::Critical);
    benign(&["i take my vitamins every morning", "i will finish it tonight, the essay is nearly done"]);
}

#[test]
fn touched_at_night_by_someone_at_home() {
    flags(&["her son touch me at night when everyone sleep"], Category::AbuseDisclosure, Severity::High);
    benign(&["my little brother gets in my bed at night when theres a storm"]);
}

#[test]
fn danger_now_at_home() {
    flags(&["dad is drunk again, he coming back now, where do i hide"], Category::AbuseDisclosure, Severity::Critical);
    flags(
        &["mum said if i tell the teacher she will burn me like before"],
        Category::AbuseDisclosure,
        Severity::Critical,
    );
    flags(&["got hit with the belt by dad, my leg is bleeding"], Category::AbuseDisclosure, Severity::Critical);
    flags(
        &["mum and her fella are off their heads and the baby has been crying for hours, no milk"],
        Category::AbuseDisclosure,
        Severity::Critical,
    );
    benign(&["the baby next door was crying for hours, teething apparently"]);
}

#[test]
fn at_a_high_place_or_leaving_a_note() {
    flags(
        &[
            "on the roof of the car park. bye",
            "be gone by the time u read this",
            "wrote a note for my mum, shell find it after",
        ],
        Category::Suicide,
        Severity::Critical,
    );
    flags(&["my sister gets my cat and my switch. bye everyone 🖤"], Category::Suicide, Severity::Critical);
    flags(&["nobody will miss me"], Category::Suicide, Severity::High);
    benign(&[
        "on the roof of the car park taking pics of the sunset, bye for now",
        "wrote a note for mum for mothers day",
        "my nan gets my cat while im on holiday",
    ]);
}

#[test]
fn danger_at_the_door_or_in_a_car() {
    flags(&["theres a man out the front with a hammer shouting my name"], Category::Weapons, Severity::Critical);
    flags(
        &["men at the door now asking for the money my mum owes"],
        Category::CriminalExploitation,
        Severity::Critical,
    );
    flags(
        &["im in his car and hes locked the doors and wont let me out"],
        Category::SexualExploitationGrooming,
        Severity::Critical,
    );
    flags(
        &["hes outside school now, says get in the car or hell post my pics"],
        Category::SexualExploitationGrooming,
        Severity::Critical,
    );
    benign(&["dad is outside putting up the fence with a hammer, banging all morning"]);
}

#[test]
fn threats_between_young_people() {
    flags(
        &["im bottling him if he comes to the party", "the year 10s are dead on friday, meeting at the park"],
        Category::ViolenceThreat,
        Severity::High,
    );
    flags(&["i have knife now"], Category::Weapons, Severity::High);
    not_label(&["got sniped again, im gonna kill him 😭", "stabbed him in among us"], Category::ViolenceThreat);
    not_label(&["they said theyd jump me at the bus station"], Category::Suicide);
    benign(&["my phones are dead on friday cos no charger", "i have knife and fork in my lunchbox"]);
}

#[test]
fn eating_disorders_told_sideways() {
    flags(
        &["52 on the scales this morning, goal is 47 🦋", "safe foods only today, rice cakes and thats it"],
        Category::SelfHarm,
        Severity::High,
    );
    benign(&["my goal is 10k steps a day", "rice cakes are my safe snack before football lol"]);
}

#[test]
fn hate_as_a_joke_or_as_approval() {
    flags(
        &["should send u back on a dinghy mate 😂", "fair play to whoever did the mosque last night"],
        Category::Hate,
        Severity::High,
    );
    flags(&["all them poofs should stay away from us"], Category::Hate, Severity::Medium);
    benign(&["went on a boat trip to the isle of wight, back on the ferry tomorrow"]);
}

#[test]
fn an_address_sent_to_someone_in_a_game() {
    flags(
        &["a guy in the fortnite lobby said hed send me skins, i sent him my address"],
        Category::SexualExploitationGrooming,
        Severity::High,
    );
    benign(&["sent my address to the worker for the bus pass"]);
    not_label(&["he found my house off cod, i never told him my address"], Category::SexualExploitationGrooming);
}

#[test]
fn hyperbole_and_internet_talk() {
    benign(&[
        "mum will kill me 😭 i got my ears pierced",
        "i want to die this is so embarrassing, i waved at a stranger",
        "if my trainers are late ill die",
        "L + ratio",
        "am gonnae kill ma maw she ate ma last biscuit",
    ]);
}

#[test]
fn street_benzos_every_day() {
    flags(&["taking 3 or 4 vallies a day now to sleep"], Category::DrugsAlcohol, Severity::High);
    benign(&["up the blues! birmingham city 2-0", "eat 2 protein bars a day at the gym"]);
}

#[test]
fn scots_spellings_are_read() {
    flags(
        &["hes no lettin me oot the motor noo, in his car"],
        Category::SexualExploitationGrooming,
        Severity::Critical,
    );
    flags(&["nae food in the hoose since monday an ma maw's no been hame"], Category::AbuseDisclosure, Severity::High);
}

#[test]
fn control_blame_and_money_for_holding() {
    flags(&["my boyfriend keeps my bank card and gives me £10 a week"], Category::AbuseDisclosure, Severity::Medium);
    flags(
        &["trans people shouldnt be allowed near kids", "immigrants are the reason this town is a dump"],
        Category::Hate,
        Severity::High,
    );
    flags(
        &["a lad at work says he'll give me 500 quid to hold some stuff at mine"],
        Category::CriminalExploitation,
        Severity::High,
    );
    flags(
        &["he says pay by 10 or hes posting them to my mum, id rather be dead"],
        Category::SexualExploitationGrooming,
        Severity::Critical,
    );
    flags(&["top of the car park roof. dont call anyone"], Category::Suicide, Severity::Critical);
    benign(&[
        "my mum keeps my bank card for safe keeping cos i lost the last one",
        "pls tell me ur not one of them people who thinks trans people are groomers",
        "can i keep some stuff at yours for the party",
        "nans cuckoo clock is so loud",
    ]);
}

#[test]
fn a_ligature_a_gun_and_a_method() {
    flags(&["got a rope in my bag. just need somewhere quiet"], Category::Suicide, Severity::Critical);
    flags(&["does slitting your wrists hurt"], Category::SelfHarm, Severity::High);
    flags(&["can get a 9 by friday, dm me"], Category::Weapons, Severity::High);
    benign(&[
        "need a rope for the tyre swing, anyone know somewhere that sells them",
        "can i get a 9 in maths if i revise now",
        "cut my wrist on a tin, does it need stitches",
    ]);
}

#[test]
fn weapons_brought_and_threats_on_return() {
    flags(&["hes finished tonight, bring the ting to the cage"], Category::ViolenceThreat, Severity::Critical);
    flags(
        &["my stepdad said hell batter me when he gets back from the pub"],
        Category::AbuseDisclosure,
        Severity::Critical,
    );
    flags(
        &["my pe teacher keeps asking for my snap and says dont tell anyone"],
        Category::SexualExploitationGrooming,
        Severity::High,
    );
    benign(&[
        "bring the cake tonight for the party",
        "mum will kill me when she gets home and sees the mess lol",
        "tysm for tonight, nos da x",
    ]);
}
