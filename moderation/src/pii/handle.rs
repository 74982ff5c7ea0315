//! **social_handle**: `@name`, or a handle next to a platform (`my snap is jord.xo_`,
//! `zayyy.07 on snapchat`, `ig - nadiaa.xo`). A handle without `@` must look like one (a dot,
//! underscore, digit or mixed case), so `my snap is down` is not a handle.

use super::Cand;
use crate::words::{word_list, Words};
use crate::PiiKind;

/// Platform names (data: `policy/words/platforms.txt`); also gate words (see `PiiConfig`).
pub(super) static PLATFORMS: Words = word_list!("platforms.txt");
/// Words between a platform name and its handle (data: `policy/words/handle_fillers.txt`).
static HANDLE_FILLERS: Words = word_list!("handle_fillers.txt");

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
    let b = body.as_bytes();
    let mixed = b.windows(2).any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
    h.starts_with('@') || body.contains(['.', '_', '#']) || body.chars().any(|c| c.is_ascii_digit()) || mixed
}

/// Run when the text has an `@` or a platform name.
pub(super) fn find(text: &str, out: &mut Vec<Cand>) {
    let has_at = text.contains('@');
    let ps = pieces(text);
    // @name anywhere (not inside an email: the piece starts with '@')
    if has_at {
        for &(s, e) in &ps {
            let w = &text[s..e];
            if w.starts_with('@') && !w[1..].contains('@') && looks_like_handle(w) {
                out.push(Cand { kind: PiiKind::SocialHandle, start: s, end: e });
            }
        }
    }
    let lower: Vec<String> = ps.iter().map(|&(s, e)| text[s..e].to_ascii_lowercase()).collect();
    for (k, l) in lower.iter().enumerate() {
        if !PLATFORMS.contains(&l.as_str()) {
            continue;
        }
        if l == "x" && !(k > 0 && lower[k - 1] == "on") {
            continue;
        }
        // forward: platform [fillers] handle
        for j in k + 1..(k + 5).min(ps.len()) {
            let w = &text[ps[j].0..ps[j].1];
            if HANDLE_FILLERS.contains(&lower[j].as_str()) {
                continue;
            }
            if looks_like_handle(w) {
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
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::{has, none_of};
    use crate::PiiKind;

    #[test]
    fn handles() {
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
}
