//! **social_handle**: `@name`, or a handle next to a platform (`my snap is jord.xo_`,
//! `zayyy.07 on snapchat`, `ig - nadiaa.xo`). A handle without `@` must look like one (a dot,
//! underscore, digit or mixed case), so `my snap is down` is not a handle.

use super::name::COMMON;
use super::Cand;
use crate::normalise::is_text_speak;
use crate::words::{word_list, Words};
use crate::PiiKind;

/// Platform names (data: `policy/words/platforms.txt`); also gate words (see `PiiConfig`).
pub(super) static PLATFORMS: Words = word_list!("platforms.txt");
/// Words between a platform name and its handle (data: `policy/words/handle_fillers.txt`).
static HANDLE_FILLERS: Words = word_list!("handle_fillers.txt");
/// Words that name an account without a platform (data: `policy/words/account_words.txt`).
static ACCOUNT_WORDS: Words = word_list!("account_words.txt");
/// Titles and abbreviations that can be joined to a word by a dot (`mr.smith`, `st.johns`):
/// never the first part of a handle found by its shape after an account word.
const NOT_HANDLE_STARTS: [&str; 8] = ["mr", "mrs", "ms", "dr", "st", "no", "vs", "etc"];

/// Whitespace-separated pieces of the text, trimmed of surrounding punctuation (keeping a leading `@`).
fn pieces(text: &str) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut start = None;
    for (i, ch) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        if ch.is_whitespace() {
            if let Some(s) = start.take() {
                let w = &text[s..i];
                let lead = w.find(|c: char| c.is_alphanumeric() || c == '_' || c == '@').unwrap_or(w.len());
                let trail = w
                    .char_indices()
                    .rev()
                    .find(|(_, c)| c.is_alphanumeric() || *c == '_')
                    .map(|(x, c)| x + c.len_utf8())
                    .unwrap_or(lead);
                if trail > lead {
                    v.push((s + lead, s + trail));
                } else if w == "@" {
                    v.push((s, i)); // "her @ is millie.moo.x": the @ said as a word
                } else {
                    v.push((s, s)); // punctuation-only piece, e.g. "-"
                }
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    v
}

/// Endings of web addresses and file names, never of a handle.
const NOT_HANDLE_ENDS: [&str; 16] = [
    ".com", ".co.uk", ".uk", ".org", ".net", ".io", ".gov", ".jpg", ".jpeg", ".png", ".pdf", ".doc", ".docx", ".mp4",
    ".txt", ".html",
];

fn looks_like_handle(h: &str) -> bool {
    let body = h.strip_prefix('@').unwrap_or(h);
    if body.len() < 2
        || body.len() > 37
        || !body.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '#'))
    {
        return false;
    }
    if !body.chars().any(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    // text speak is not a handle (`every1 on tiktok`), nor a web address, a file name or an
    // abbreviation (`bbc.co.uk`, `essay.docx`, `e.g`)
    let l = body.to_ascii_lowercase();
    if is_text_speak(body)
        || NOT_HANDLE_ENDS.iter().any(|e| l.ends_with(e))
        || l.starts_with("www.")
        || (l.contains('.') && l.split('.').all(|p| p.len() <= 2))
        || is_clock_time(&l)
    {
        return false;
    }
    let b = body.as_bytes();
    let mixed = b.windows(2).any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
    h.starts_with('@') || body.contains(['.', '_', '#']) || body.chars().any(|c| c.is_ascii_digit()) || mixed
}

/// A time of day (`11pm`, `7am`, `10.30pm`): `on insta at 11pm` names no account.
fn is_clock_time(l: &str) -> bool {
    let Some(t) = l.strip_suffix("am").or_else(|| l.strip_suffix("pm")) else { return false };
    let (h, m) = t.split_once(['.', ':']).unwrap_or((t, "00"));
    (1..=2).contains(&h.len()) && m.len() == 2 && h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
}

/// Mail and web domain words: an `@name.…` with one of them is a mistyped address
/// (`@gmail.com`, `@bbc.co.uk`), not a handle.
const DOMAIN_PARTS: [&str; 14] = [
    "com",
    "co",
    "org",
    "net",
    "gov",
    "ac",
    "gmail",
    "googlemail",
    "hotmail",
    "yahoo",
    "outlook",
    "icloud",
    "live",
    "aol",
];

/// `@` and a dotted name ending like a web address but without any mail or web domain word
/// (`@premium.models.uk`): platforms allow dots in handles, so the `@` makes it one.
fn at_handle_with_dots(h: &str) -> bool {
    let body = &h[1..];
    let parts: Vec<String> = body.split('.').map(str::to_ascii_lowercase).collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'))
        && parts.iter().any(|p| p.len() >= 3)
        && !parts.iter().any(|p| DOMAIN_PARTS.contains(&p.as_str()))
        && !NOT_HANDLE_ENDS.iter().any(|e| e.len() > 3 && body.to_ascii_lowercase().ends_with(e))
}

/// A handle by its shape alone: letters joined by `.` or `_` (`lil.deenz_x`,
/// `xXShadowKing_09Xx`), not a web address, a file name, a time, an abbreviation (`e.g`) or a
/// number. Taken only in a text that names a platform or has an `@`.
fn strong_handle(h: &str) -> bool {
    // the cheap tests first: it runs on every word of a text with an `@` or a platform name
    !h.starts_with('@')
        && h.contains(['.', '_'])
        && looks_like_handle(h)
        && h.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 4
        && h.split(['.', '_']).filter(|p| !p.is_empty()).count() >= 2
        && h.split(['.', '_']).any(|p| p.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 3)
}

/// A name that only a handle has: a digit, `_` or `.`, or two capitals after small letters
/// (`xXDarkReaperXx`; `McKenzie` has one).
fn handle_shaped_name(w: &str) -> bool {
    let b = w.as_bytes();
    let humps = b.windows(2).filter(|p| p[0].is_ascii_lowercase() && p[1].is_ascii_uppercase()).count();
    humps >= 2 || w.contains(['_', '.']) || b.iter().any(u8::is_ascii_digit)
}

/// A plain word as a handle, right after `called`/`named` next to a platform (`some guy off
/// snap called unclemo`): lower case (a capital after `called` is a person's name), five letters
/// or more, with a letter, and not a common word, a given name or text speak (`called jessica`,
/// `called later`).
fn named_handle(w: &str, is_given: &dyn Fn(&str) -> bool) -> bool {
    w.len() >= 5
        && w.len() <= 30
        && w.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && w.bytes().any(|c| c.is_ascii_lowercase())
        && !COMMON.contains(&w)
        && !is_given(w)
        && !is_text_speak(w)
}

/// Run when the text has an `@` or a platform name. `is_given` tells a given name (lower case).
pub(super) fn find(text: &str, is_given: &dyn Fn(&str) -> bool, out: &mut Vec<Cand>) {
    let has_at = text.contains('@');
    let ps = pieces(text);
    // @name anywhere (not inside an email: the piece starts with '@')
    if has_at {
        for &(s, e) in &ps {
            let w = &text[s..e];
            if w.starts_with('@') && !w[1..].contains('@') && (looks_like_handle(w) || at_handle_with_dots(w)) {
                out.push(Cand { kind: PiiKind::SocialHandle, start: s, end: e });
            }
        }
    }
    let lower: Vec<String> = ps.iter().map(|&(s, e)| text[s..e].to_ascii_lowercase()).collect();
    let mut platform = false;
    for (k, l) in lower.iter().enumerate() {
        if !PLATFORMS.contains(&l.as_str()) && l != "@" {
            continue;
        }
        platform = true;
        if l == "x" && !(k > 0 && lower[k - 1] == "on") {
            continue;
        }
        // forward: platform [fillers] handle
        for j in k + 1..(k + 5).min(ps.len()) {
            let w = &text[ps[j].0..ps[j].1];
            if HANDLE_FILLERS.contains(&lower[j].as_str()) {
                continue;
            }
            let after_called = matches!(lower[j - 1].as_str(), "called" | "named");
            if looks_like_handle(w) || (after_called && named_handle(w, is_given)) {
                out.push(Cand { kind: PiiKind::SocialHandle, start: ps[j].0, end: ps[j].1 });
            }
            break;
        }
        // backward: handle on/via platform
        if k >= 2 && matches!(lower[k - 1].as_str(), "on" | "via" | "in") {
            let (s, e) = ps[k - 2];
            if looks_like_handle(&text[s..e]) {
                out.push(Cand { kind: PiiKind::SocialHandle, start: s, end: e });
            }
        }
    }
    // a name given in a text about a platform, shaped as a handle: "a guy on fortnite … his name
    // is xXDarkReaperXx", "username k1ller99" (a capital inside a surname, `McKenzie`, is not
    // enough: two, or a digit, `_` or `.`)
    if platform {
        for j in 1..ps.len() {
            let cue = matches!(lower[j - 1].as_str(), "username" | "user" | "names" | "name's" | "name’s" | "gamertag")
                || (j >= 2 && lower[j - 2] == "name" && lower[j - 1] == "is");
            let w = &text[ps[j].0..ps[j].1];
            if cue && !w.starts_with('@') && looks_like_handle(w) && handle_shaped_name(w) {
                out.push(Cand { kind: PiiKind::SocialHandle, start: ps[j].0, end: ps[j].1 });
            }
        }
    }
    // a handle by its shape anywhere in a text about a platform: "add me on snap … lil.deenz_x"
    if platform || has_at {
        for &(s, e) in &ps {
            if strong_handle(&text[s..e]) && !text[s..e].contains('@') {
                out.push(Cand { kind: PiiKind::SocialHandle, start: s, end: e });
            }
        }
    }
}

/// A handle by its shape (see [`strong_handle`]) up to four words after a word that names an
/// account, in a text that names no platform: `my burner acc (lil.secrets.4u)`, `his music page
/// its k4yd3n.music`, `add me im amogus_kid222`; joined by `_` anywhere; dotted after a word of
/// posting (`posted it to shef.scraps`). Run when the text has a `.` or `_` inside a word.
pub(super) fn find_after_account_word(text: &str, out: &mut Vec<Cand>) {
    let ps = pieces(text);
    for (j, &(s, e)) in ps.iter().enumerate() {
        let w = &text[s..e];
        if !strong_handle(w) || w.contains('@') {
            continue;
        }
        let first = w.split(['.', '_']).next().unwrap_or("").to_ascii_lowercase();
        if NOT_HANDLE_STARTS.contains(&first.as_str()) {
            continue;
        }
        let word = |k: usize| text[ps[k].0..ps[k].1].to_ascii_lowercase();
        let cue = ps[j.saturating_sub(4)..j]
            .iter()
            .any(|&(a, b)| ACCOUNT_WORDS.contains(&text[a..b].to_ascii_lowercase().as_str()));
        // words joined by `_` are a handle wherever they are (`swindon_scrapz`, `lil.tayz_0`):
        // nothing else young people type is written so; one only dotted needs a cue, as sentences
        // typed without a space after the full stop look the same (`home.then`)
        let underscored = w.contains('_');
        // a page that fights or posts are sent to: `posted it to shef.scraps`, `filmed for …`, none
        // of its parts a common word (`posted it to mum.she said`)
        let posted_to = j >= 2
            && !w.split('.').any(|p| super::name::COMMON.contains(&p.to_ascii_lowercase().as_str()))
            && matches!(word(j - 1).as_str(), "on" | "to" | "for")
            && (j.saturating_sub(4)..j - 1).any(|k| {
                matches!(
                    word(k).as_str(),
                    "post" | "posts" | "posted" | "posting" | "filmed" | "film" | "upload" | "uploaded"
                )
            });
        if cue || underscored || posted_to {
            out.push(Cand { kind: PiiKind::SocialHandle, start: s, end: e });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::{has, none_of};
    use crate::PiiKind;

    #[test]
    fn a_name_shaped_as_a_handle_in_a_text_about_a_platform() {
        let t = "a guy on fortnite keeps sendin me vbucks and asked for pics. his name is xXDarkReaperXx";
        has(t, PiiKind::SocialHandle, "xXDarkReaperXx");
        has("met him on roblox, username k1ller99", PiiKind::SocialHandle, "k1ller99");
        none_of("met him on roblox, his name is McKenzie", PiiKind::SocialHandle);
        none_of("his name is xXDarkReaperXx", PiiKind::SocialHandle);
        none_of("on snap his name is Jake", PiiKind::SocialHandle);
    }

    #[test]
    fn handles() {
        has("ma snapchats kirsty.x.bell add me", PiiKind::SocialHandle, "kirsty.x.bell");
        has("lil.tayz_0 keeps posting my house on her story", PiiKind::SocialHandle, "lil.tayz_0");
        none_of("got home.then had tea", PiiKind::SocialHandle);
        none_of("he sends me snaps of his dog", PiiKind::SocialHandle);
        has("my snap is jord.xo_ if thats easier", PiiKind::SocialHandle, "jord.xo_");
        has("zayyy.07 on snapchat", PiiKind::SocialHandle, "zayyy.07");
        has("ig - nadiaa.xo, follow back", PiiKind::SocialHandle, "nadiaa.xo");
        has("my tiktok is @stxrm.b i post", PiiKind::SocialHandle, "@stxrm.b");
        has("insta: @abc", PiiKind::SocialHandle, "@abc");
        has("called xXRyanXx on discord", PiiKind::SocialHandle, "xXRyanXx");
        has("discord is shadowkid#1234", PiiKind::SocialHandle, "shadowkid#1234");
        none_of("my snap is down again", PiiKind::SocialHandle);
        none_of("sent it on snap", PiiKind::SocialHandle);
        none_of("email me b.okafor@yahoo.co.uk", PiiKind::SocialHandle);
    }

    #[test]
    fn handles_of_games_and_by_shape() {
        has("my psn is called DarkWolf_77 if u want", PiiKind::SocialHandle, "DarkWolf_77");
        has("play later? epic name is n1ghtowl.x", PiiKind::SocialHandle, "n1ghtowl.x");
        has("his @ is kai.rvs_ on there", PiiKind::SocialHandle, "kai.rvs_");
        // by its shape, anywhere in a text about a platform
        has("add me on snap, we can talk later ok marz.ee_", PiiKind::SocialHandle, "marz.ee_");
        // not text speak, web addresses, file names or abbreviations
        none_of("is any1 on snap tonight", PiiKind::SocialHandle);
        none_of("look at bbc.co.uk on snap", PiiKind::SocialHandle);
        none_of("sent my_essay.docx on discord", PiiKind::SocialHandle);
        none_of("on snap e.g. stories", PiiKind::SocialHandle);
        none_of("the answer was 3.5 on tiktok", PiiKind::SocialHandle);
    }

    #[test]
    fn plain_words_called_a_handle_next_to_a_platform() {
        has("some guy off snap called unclemo keeps messaging her", PiiKind::SocialHandle, "unclemo");
        has("theres an account on tiktok named shefdrillz posting it", PiiKind::SocialHandle, "shefdrillz");
        // a person's name, a given name in lower case, a common word: not handles
        none_of("a girl on insta called Jessica", PiiKind::SocialHandle);
        none_of("a girl on insta called jessica", PiiKind::SocialHandle);
        none_of("this lad on snap called me a grass", PiiKind::SocialHandle);
        none_of("my mate on snap called again", PiiKind::SocialHandle);
        none_of("a group chat on snap called", PiiKind::SocialHandle);
    }

    #[test]
    fn handles_after_account_words_without_a_platform() {
        has("they post the fights on bristol_scrapz every week", PiiKind::SocialHandle, "bristol_scrapz");
        has("someone posted it to leeds.fights and now", PiiKind::SocialHandle, "leeds.fights");
        none_of("got home.then mum started", PiiKind::SocialHandle);
        none_of("sent it to mum.she said no", PiiKind::SocialHandle);
        none_of("posted it to mum.she said no", PiiKind::SocialHandle);
        has("made a burner acc (lil.secrets.4u) to message her", PiiKind::SocialHandle, "lil.secrets.4u");
        has("follow my brothers music page its k4yd3n.music hes good", PiiKind::SocialHandle, "k4yd3n.music");
        has("whoever plays among us add me im amogus_kid222", PiiKind::SocialHandle, "amogus_kid222");
        // look-alikes: no account word, a title or a web address or file after one, a decimal
        none_of("lil.secrets.4u is a weird thing to say", PiiKind::SocialHandle);
        none_of("my teacher's page says mr.smith is off", PiiKind::SocialHandle);
        none_of("the page is bbc.co.uk/news", PiiKind::SocialHandle);
        none_of("add the file my_essay.docx", PiiKind::SocialHandle);
        // `@` and dots with a web ending but no domain word: platforms allow dots in handles
        has("his account is @premium.models.uk", PiiKind::SocialHandle, "@premium.models.uk");
        none_of("it was @bbc.co.uk", PiiKind::SocialHandle);
        none_of("add 3.5 and 2.25", PiiKind::SocialHandle);
        none_of("the account of it, e.g. what she said", PiiKind::SocialHandle);
    }

    #[test]
    fn a_time_is_not_a_handle() {
        none_of("keeps messaging me on insta at 11pm", PiiKind::SocialHandle);
        none_of("on snap at 10.30pm every night", PiiKind::SocialHandle);
        has("on insta at jaz_11pm", PiiKind::SocialHandle, "jaz_11pm");
    }
}
