//! The rule families of issue 19's eighth round (`policy/default.toml`, section "ROUND 8"), each
//! with the everyday look-alikes that must stay unflagged. Rules alone (the model is not
//! attached). The examples are written here from the sources the policy cites, not copied from
//! the corpus; several are typed as younger children type (`sed`, `agen`, `nite`), which the
//! round's spellings rewrite before matching.

use talkzone_moderation::{Category, Severity};

mod common;

use common::{benign, flags};

#[test]
fn told_what_to_say_about_an_injury() {
    flags(
        &[
            "my dad sed if anyone asks i fell down the stairs",
            "i told my teacher i walked into a door like my mum said to",
            "she says i have to say i tripped over the dog",
        ],
        Category::AbuseDisclosure,
        Severity::High,
    );
    benign(&[
        "if anyone asks i fell off my bike, dont tell mum i was at the party lol",
        "if anyone asks i was at yours, i snuck out",
        "i fell off my bike and my knee is bleeding",
    ]);
}

#[test]
fn an_adult_showing_a_child_sex() {
    flags(
        &[
            "my uncle shows me videos of grown ups doing it and says its normal",
            "mums boyfriend makes me watch porn with him",
            "he showed me naked pictures on his phone and said its our secret",
        ],
        Category::AbuseDisclosure,
        Severity::High,
    );
    benign(&[
        "my mum showed me a scary film and i couldnt sleep",
        "the nurse showed us a video in sex ed",
        "my dad put on a film about the war",
    ]);
}

#[test]
fn going_hungry_to_feed_a_sibling() {
    flags(
        &["no tea agen so im giving mine to my little brother", "theres nothing to eat, i saved mine for the baby"],
        Category::AbuseDisclosure,
        Severity::High,
    );
    benign(&[
        "im starving, gave mine to the dog by accident lol",
        "no tea yet mum is cooking, i gave my chips to my brother",
    ]);
}

#[test]
fn kept_off_school_to_clean_or_mind_children() {
    flags(
        &[
            "my stepdad keeps me off school to clean the house",
            "mum wont let me go to school, i have to look after the twins",
        ],
        Category::AbuseDisclosure,
        Severity::High,
    );
    benign(&[
        "mum kept me off school cos i was sick, so i did some cleaning",
        "my dad keeps me in when its a snow day",
    ]);
}

#[test]
fn drugged_before_adults_come_round() {
    flags(
        &["mums boyfriend gives me a drink that makes me sleepy before his mates come round"],
        Category::AbuseDisclosure,
        Severity::Critical,
    );
    benign(&["my mum gave me calpol and it made me sleepy before my friends came round"]);
}

#[test]
fn a_friends_goodbye_and_then_no_answer() {
    flags(
        &[
            "my mate sent me bye forever and now shes not answering",
            "he posted goodbye everyone on his story and his phones off",
        ],
        Category::Suicide,
        Severity::Critical,
    );
    benign(&[
        "she sent me bye forever lol cos i ate her chips, now shes not answering 😂",
        "she sent me the bye forever song lyrics and now shes not answering",
    ]);
}

#[test]
fn goodbye_letters_written() {
    flags(
        &["everyone would be better off without me, ive rote my letters", "i cant do this anymore, i wrote my letters"],
        Category::Suicide,
        Severity::Critical,
    );
    benign(&["i wrote my letters to santa, i want a bike", "wrote a letter to my pen pal, i want to die of boredom"]);
}

#[test]
fn a_protected_group_told_to_kill_themselves() {
    flags(
        &["the trans kid in our year shud just kill themselfs", "all gays should die"],
        Category::Hate,
        Severity::High,
    );
    benign(&[
        "trans kids are more likely to self harm, the assembly said",
        "we did a lesson on why gay kids are at risk",
    ]);
}

#[test]
fn a_weapon_to_school_with_a_day() {
    flags(
        &[
            "im taking my dads knife to school tmrw to show them boys",
            "hes bringing his brothers gun in tomorrow to shoot the year 9s",
        ],
        Category::Weapons,
        Severity::Critical,
    );
    benign(&[
        "bringing my nerf gun in tomorrow for the last day",
        "the police are doing a knife crime talk at school tomorrow",
    ]);
}

#[test]
fn a_game_saying_you_will_die() {
    benign(&[
        "the game sed im gonna die in 5 mins lol its a zombie game",
        "im gonna die in minecraft if i dont find food",
    ]);
}

// Step 2, from z2: risks only the learned stage had flagged, now named by rules so that their
// urgency is raised.

#[test]
fn a_mans_car_for_vapes_or_sweets() {
    flags(
        &[
            "theres a man at the park saying get in his car for vapes",
            "he said come sit in his van and he'll give me money",
        ],
        Category::SexualExploitationGrooming,
        Severity::High,
    );
    flags(
        &["im at the park now hes saying come sit in his car for more vapes"],
        Category::SexualExploitationGrooming,
        Severity::Critical,
    );
    benign(&[
        "my dad said get in his car and we'll get sweets on the way",
        "sat in his car for ages at the drive thru lol",
    ]);
}

#[test]
fn cannot_wake_someone_after_drugs() {
    flags(
        &[
            "i cant wake my mum and her lips gone a funny colour",
            "he took something and now he wont wake up, hes breathing funny",
        ],
        Category::DrugsAlcohol,
        Severity::Critical,
    );
    benign(&["cant wake my brother up lol hes been on nights", "my dad wont wake up for anything on his lie in"]);
}

#[test]
fn burning_at_home_and_no_adult_awake() {
    flags(
        &[
            "it smells like burning and mums asleep and wont get up",
            "the smoke alarm is going off and my dad is passed out",
        ],
        Category::AbuseDisclosure,
        Severity::Critical,
    );
    benign(&["burnt the toast and the smoke alarm went off, mum wont get up lol"]);
}

#[test]
fn a_carer_not_back_for_days() {
    flags(
        &[
            "mum not come back since friday and the baby keeps crying",
            "my dad hasnt come back since saturday and we havent eaten",
        ],
        Category::AbuseDisclosure,
        Severity::Critical,
    );
    benign(&[
        "mum hasnt come back from holiday yet, shes back monday",
        "dad not back yet from the shop, im hungry lol",
    ]);
}

#[test]
fn an_adult_gave_a_child_drink() {
    flags(&["mums mate gave me a drink it tasted like fire and now im dizzy"], Category::DrugsAlcohol, Severity::High);
    benign(&["my uncle let me have a sip of shandy at the wedding and i felt dizzy from dancing"]);
}

#[test]
fn a_blade_in_the_toilets() {
    flags(
        &["im in the school toilets with the compass", "locked in the bathroom with my razor"],
        Category::SelfHarm,
        Severity::Critical,
    );
    benign(&["im in the bathroom with my razor shaving my legs"]);
}

#[test]
fn an_appliance_in_the_bath() {
    flags(&["in the bath with the hairdryer plugged in"], Category::Suicide, Severity::Critical);
    benign(&["my nan says never take the hairdryer in the bath, safety first"]);
}

#[test]
fn a_carer_hitting_another_and_come_get_me() {
    flags(&["hes drunk and hitting my mammy come and get me"], Category::AbuseDisclosure, Severity::Critical);
}

// Step 3, from x1.

#[test]
fn pictures_shared_unless_paid() {
    flags(
        &["her pics are goin in the gc tonight unless she pays up", "ur nudes get sent round unless u pay"],
        Category::SexualExploitationGrooming,
        Severity::High,
    );
    benign(&["the pics from prom are in the gc now", "i posted the holiday pics, pay up for the pizza tho"]);
}

#[test]
fn a_fake_account_of_a_child() {
    flags(
        &["made a fake tiktok of him wi his face on a pig lmao 2k views"],
        Category::BullyingHarassment,
        Severity::High,
    );
    benign(&["made a fan page for my dog, 2k views already", "made a fake tiktok for my cat lol 2k views"]);
}

#[test]
fn blades_got_for_later() {
    flags(
        &["got blades from pound shop for later", "bought some blades and hid them under my bed"],
        Category::SelfHarm,
        Severity::High,
    );
    benign(&[
        "got new blades for my dads razor, shaving for the first time",
        "got new blades for my skates from the pound shop",
    ]);
}

#[test]
fn a_cover_story_when_asked() {
    flags(
        &["got a bruise where she dragged me, teacher asked n i said football"],
        Category::AbuseDisclosure,
        Severity::High,
    );
}

#[test]
fn like_crack_is_a_simile() {
    benign(&["this anime is like crack ngl", "these crisps are like crack"]);
}

// Step 4, from y1 and o1.

#[test]
fn running_up_on_someone() {
    flags(
        &["were running up on their block sat after the party", "gonna run up on him thursday"],
        Category::ViolenceThreat,
        Severity::High,
    );
    benign(&["running up the stairs late for maths", "we ran up the hill for training"]);
}

#[test]
fn the_one_who_hurt_a_friend_is_known() {
    flags(
        &["bro got 12 stitches. we know the one who did it goes to st marks. monday"],
        Category::ViolenceThreat,
        Severity::High,
    );
    benign(&["i dont know the one who did it, the police are dealing with it"]);
}

#[test]
fn staff_restraint_harder_than_needed() {
    flags(
        &["staff at the unit used to hold me down harder than they needed n laugh"],
        Category::AbuseDisclosure,
        Severity::High,
    );
    benign(&["staff had to hold me down once when i kicked off, they explained why after"]);
}

#[test]
fn a_night_worker_trying_the_door() {
    flags(
        &["the night guy at the hostel just tried my door again. beds pushed against it"],
        Category::AbuseDisclosure,
        Severity::Critical,
    );
    benign(&["the night staff tried my door for the fire drill"]);
}

#[test]
fn a_ligature_tied_now() {
    flags(
        &["tying it to the bannister now. bye", "tied my belt to the wardrobe rail, sorry"],
        Category::Suicide,
        Severity::Critical,
    );
    benign(&["tying the fairy lights to the bannister now for christmas"]);
}

#[test]
fn school_things_on_the_arms() {
    flags(
        &["compass on my arms in maths again", "used a sharpener blade on my thigh"],
        Category::SelfHarm,
        Severity::High,
    );
    benign(&["drew a compass on my arm in pen lol"]);
}

#[test]
fn eating_only_every_few_days_to_disappear() {
    flags(
        &["i only eat every 2 days now. wanna be smaller, like gone"],
        Category::MentalHealthDistress,
        Severity::High,
    );
    benign(&["havent eaten in 3 hours, starving, wanna be at home"]);
}

#[test]
fn go_back_home_with_an_insult() {
    flags(
        &["go back home u smelly freshie", "go back to ur country u dirty immigrant"],
        Category::Hate,
        Severity::High,
    );
    benign(&["cant wait to go back home to see my nan in the summer holiday"]);
}

#[test]
fn a_gun_to_school_with_a_day() {
    flags(&["got my dads gun, bringing it to school tmrw. theyll all see"], Category::Weapons, Severity::Critical);
    benign(&["bringing my glue gun to school tmrw for the dt project", "bringing the nerf gun in tomorrow"]);
}

#[test]
fn a_clean_drug_test_is_good_news() {
    benign(&["drug test at yot came back clean 💪", "passed my drug test yesterday"]);
}

// Step 5, from j1.

#[test]
fn getting_it_with_a_time_or_place() {
    flags(
        &["hes getting it after college 2moro", "watch what happens saturday at the park. ur getting banged"],
        Category::ViolenceThreat,
        Severity::High,
    );
    benign(&["ur getting it in ranked tonight lol", "hes getting it for his birthday on saturday"]);
}

#[test]
fn they_know_where_i_live() {
    flags(&["got a txt saying they know where i live n im dead"], Category::ViolenceThreat, Severity::High);
    benign(&["the delivery guy knows where i live now lol"]);
}

#[test]
fn a_group_attack_with_weapons_planned() {
    flags(
        &["the gc is all bout jumping him at the bus station after college tmrw, theyve got bats"],
        Category::ViolenceThreat,
        Severity::High,
    );
    benign(&["were doing the long jump at the park tomorrow, bring the bats for rounders"]);
}

#[test]
fn road_names_for_guns_and_knives() {
    flags(
        &["i know u got the shotty at ur uncles", "got a rambo under my mattress"],
        Category::Weapons,
        Severity::High,
    );
    benign(&["i got shotty, front seat is mine", "got rambo on dvd for my dad"]);
}

#[test]
fn self_harm_again_played_down() {
    flags(&["did the scratches on my legs again, nothin bad"], Category::SelfHarm, Severity::High);
    benign(&["the cat scratched my legs again lol"]);
}

// Step 6, from l1 (after its first scores were taken).

#[test]
fn a_number_shared_to_spam() {
    flags(&["his number is 07700900733 go spam him lol hes a grass"], Category::BullyingHarassment, Severity::High);
    benign(&["her number is 07700900733 wish her happy birthday x"]);
}

#[test]
fn an_assault_happening_now() {
    flags(
        &["theyre dragging a year 8 into the woods rn and kicking him, someones filming"],
        Category::ViolenceThreat,
        Severity::Critical,
    );
    benign(&["were kicking a ball about at the rec rn"]);
}

#[test]
fn a_drunk_child_with_older_men_at_night() {
    flags(
        &["shes at a house party with loads of older lads and says shes so wasted cant stand, its 3am"],
        Category::SexualExploitationGrooming,
        Severity::Critical,
    );
}

#[test]
fn weapon_words_in_the_plural() {
    flags(&["bring the skengs to the rec at 9"], Category::Weapons, Severity::High);
}

#[test]
fn shots_fired_as_a_roast() {
    benign(&["Shots fired 🔥 that roast was brutal lmao"]);
}
