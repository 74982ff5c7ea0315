//! The rule families of issue 19's tenth round (`policy/default.toml`, section "ROUND 10"), each
//! with the everyday look-alikes that must stay unflagged. Rules alone (the model is not
//! attached). The examples are written here from the sources the policy cites, not copied from
//! the corpus.

use talkzone_moderation::{Category, Severity};

mod common;

use common::{benign, flags, not_label, verdict};

#[test]
fn a_note_left_with_a_goodbye() {
    flags(
        &["left a note on my desk for mum. love you all x", "letter is under my bed, tell mum im sorry"],
        Category::Suicide,
        Severity::Critical,
    );
    benign(&[
        "wrote a note for mum for mothers day, love you all",
        "the doctors note is in my bag, goodbye maths lesson lol",
        "put a note in my bag to look after the dog at nans",
    ]);
}

#[test]
fn a_message_for_after() {
    flags(
        &["if youre reading this its too late. dont blame yourself", "if anyone reads this, feed my cat. sorry mum"],
        Category::Suicide,
        Severity::Critical,
    );
    benign(&[
        "if ur reading this go to sleep its 3am",
        "if youre reading this drink some water and text your mum",
        "if ur reading this ur a legend",
        "if ur reading this look after urself today x",
    ]);
}

#[test]
fn a_last_message_taken_back_is_not_a_goodbye() {
    benign(&[
        "ignore my last message, wrong chat",
        "can u delete my last msg i sent it by mistake",
        "did u see my last message about thursday",
        "sorry my last message was autocorrect",
    ]);
    flags(&["this is my last message. thank you for everything"], Category::Suicide, Severity::High);
}

#[test]
fn dread_of_a_result_is_not_dying() {
    benign(&[
        "im gonna die if i fail maths",
        "ill actually die if i get detention again",
        "gonna die if i dont pass my driving theory",
    ]);
    flags(&["i want to die, ive had enough of everything"], Category::Suicide, Severity::High);
}

#[test]
fn pictures_in_school_uniform() {
    flags(
        &[
            "send me a pic of u in ur school uniform and ill give u robux",
            "can u send a photo in your uniform, just for me",
        ],
        Category::SexualExploitationGrooming,
        Severity::High,
    );
    benign(&[
        "can u send me the school uniform list for year 7",
        "mum is selling my old school uniform on vinted, send me a pic of the price tag",
    ]);
}

#[test]
fn mature_for_their_age_said_to_them() {
    flags(
        &["ur so mature for ur age, how old are u again? add me on snap", "youre so mature for 13, our secret ok"],
        Category::SexualExploitationGrooming,
        Severity::High,
    );
    not_label(
        &["my teacher said im mature for my age in my report", "ur so mature for ur age lol jk"],
        Category::SexualExploitationGrooming,
    );
}

#[test]
fn a_group_said_to_run_everything_or_be_a_disease() {
    flags(&["the jews control the banks and the media"], Category::Hate, Severity::Medium);
    flags(
        &["immigrants are a cancer on this country, sooner theyre all gone the better"],
        Category::Hate,
        Severity::High,
    );
    benign(&[
        "we learned about the conspiracy theory that jews control the banks in history, its antisemitic",
        "my nan had cancer and the nurses were amazing",
        "the lads who run the football club are sound",
    ]);
    let v = verdict("the jews run the corner shop on our road, lovely family");
    assert!(!v.labels.contains(&Category::Hate), "{:?}", v.flags);
}
