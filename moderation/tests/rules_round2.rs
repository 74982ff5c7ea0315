//! The rule families of issue 19's second round (`policy/default.toml`, section "ROUND 2"): one
//! table per kind of risk, written from the sources the policy cites (not from the corpus), and
//! the everyday look-alikes that must stay unflagged. Rules alone (the model is not attached).

use talkzone_moderation::{Category, Severity};

mod common;

use common::{benign, flags};

#[test]
fn self_harm_hidden_owned_and_sought() {
    flags(
        &[
            "always in long sleeves now cos of my wrists",
            "i only cut where nobody can see now",
            "the marks on my arm are from me, not the cat",
            "my thighs look like a barcode",
            "i pick fights i know ill lose so i get hurt",
            "my friend is cutting again, showed me her arms",
        ],
        Category::SelfHarm,
        Severity::High,
    );
    benign(&["wearing a hoodie cos its freezing", "the barcode wont scan at the till", "we're cutting the grass"]);
}

#[test]
fn suicide_passive_attempts_and_plans() {
    flags(
        &[
            "gutted i woke up again today",
            "dont bother with the appointment, ill be dead before then",
            "last time i tried it i woke up in hospital after",
            "i keep planning how id do it",
            "its fine the canal will do",
        ],
        Category::Suicide,
        Severity::High,
    );
    benign(&["my alarm didnt go off, annoyed i woke up so late", "meet at the canal? the canal will do, see u there"]);
}

#[test]
fn threats_that_name_where_and_when() {
    flags(
        &[
            "i know where u live, see u soon",
            "i know which school u go to, watch",
            "when i see him its on",
            "as soon as im out hes getting it",
            "were gonna jump that kid after school",
        ],
        Category::ViolenceThreat,
        Severity::High,
    );
    benign(&[
        "when i see her its on, cant wait for the concert",
        "he ended me at fifa again",
        "she killed me at chess",
    ]);
}

#[test]
fn hate_as_trope_call_and_harassment() {
    flags(
        &[
            "all muslims are terrorists",
            "refugees in that hotel should be burnt",
            "we chased the asian kid down the road",
            "were gonna do the mosque later",
        ],
        Category::Hate,
        Severity::High,
    );
    benign(&[
        "my social worker said im moving, im so gassed",
        "kinda gassed for the weekend ngl",
        "our class visited the mosque open day",
    ]);
}

#[test]
fn bullying_pile_ons_and_exposure() {
    flags(
        &[
            "heres his number, everyone ring it",
            "she blocked me so i made a new account, i keep making new accounts",
            "posted her baby pics with her name on insta lol",
        ],
        Category::BullyingHarassment,
        Severity::High,
    );
    benign(&["ring me later", "whats the point of this group chat, nobody ever replies in this chat"]);
}

#[test]
fn abuse_exploitation_drugs_grooming() {
    flags(&["my stepdad busted my lip again"], Category::AbuseDisclosure, Severity::High);
    flags(&["mums boyfriend said if i tell anyone hell kick me out"], Category::AbuseDisclosure, Severity::High);
    flags(&["they make me carry stuff in my school bag for them"], Category::CriminalExploitation, Severity::High);
    flags(&["when i go missing they ring me to go work the line"], Category::CriminalExploitation, Severity::High);
    flags(&["my cousin keeps sniffing lighter gas"], Category::DrugsAlcohol, Severity::High);
    flags(
        &["he got me a second phone so my mum cant see our chats", "someone put my pics on an onlyfans account"],
        Category::SexualExploitationGrooming,
        Severity::High,
    );
    benign(&[
        "my mum did my makeup",
        "can someone explain what county lines is, we did it in pshe",
        "kms this homework is endless",
    ]);
}
