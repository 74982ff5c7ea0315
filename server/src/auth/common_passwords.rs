//! Common and breached passwords, refused for new passwords: an offline list shipped in the
//! binary (`server/data/common-passwords.txt`, its sources and licences in the README beside
//! it), checked in a hash set built once, and the rules that catch what a list of whole
//! passwords misses at 12 characters and more.

use std::collections::HashSet;
use std::sync::OnceLock;

static LIST: &[u8] = include_bytes!("../../data/common-passwords.txt");

fn list() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        // The file is ours and ASCII-safe UTF-8 (checked by a test); a bad line is skipped.
        std::str::from_utf8(LIST).unwrap_or_default().lines().filter(|l| !l.is_empty()).collect()
    })
}

/// Rows of the keyboard and the alphabet and digits, forwards: a run along one is not a
/// password (`qwertyuiopas`, `abcdefghijkl`, `123456789012`).
const RUNS: [&str; 6] =
    ["qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz", "01234567890", "1qaz2wsx3edc4rfv"];

/// Why a password is too easy to guess, if it is: it is on the list; it is a listed word with
/// digits or symbols before or after it (`Password1234!`); it repeats a shorter piece
/// (`passwordpassword`, `abc123abc123`); it has fewer than 5 different characters
/// (`aaaaaaaaaaaa`); or it is mostly a run along the keyboard, the alphabet or the digits.
pub fn weakness(password: &str) -> Option<&'static str> {
    let lower = password.to_lowercase();
    let set = list();
    if set.contains(lower.as_str()) {
        return Some("it is one of the most common passwords");
    }
    let core = lower.trim_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c.is_whitespace());
    if core.chars().count() >= 4 && set.contains(core) {
        return Some("it is a common password with numbers or symbols added");
    }
    if core.is_empty() {
        return Some("it is only numbers and symbols");
    }
    let chars: Vec<char> = lower.chars().collect();
    let distinct: HashSet<char> = chars.iter().copied().collect();
    if distinct.len() < 5 {
        return Some("it uses too few different characters");
    }
    if (1..=chars.len() / 2).any(|n| chars.len().is_multiple_of(n) && chars.chunks(n).all(|c| c == &chars[..n])) {
        return Some("it repeats the same few characters");
    }
    if run_share(&lower) * 2 > chars.len() {
        return Some("it is mostly a run of keys or letters in a row");
    }
    None
}

/// How many characters of `s` are in runs of 4 or more along one of [`RUNS`] (either way).
fn run_share(s: &str) -> usize {
    let chars: Vec<char> = s.chars().collect();
    let follows = |a: char, b: char| {
        RUNS.iter().any(|run| {
            let r: Vec<char> = run.chars().collect();
            r.windows(2).any(|w| (w[0] == a && w[1] == b) || (w[1] == a && w[0] == b))
        })
    };
    let (mut covered, mut len) = (0, 1);
    for i in 1..=chars.len() {
        if i < chars.len() && follows(chars[i - 1], chars[i]) {
            len += 1;
        } else {
            if len >= 4 {
                covered += len;
            }
            len = 1;
        }
    }
    covered
}

#[cfg(test)]
mod tests {
    use super::weakness;

    #[test]
    fn the_list_is_loaded_and_well_formed() {
        let text = std::str::from_utf8(super::LIST).expect("UTF-8");
        assert!(text.lines().count() > 80_000, "{}", text.lines().count());
        assert!(super::list().contains("password") && super::list().contains("iloveyou"));
        assert!(text.lines().all(|l| l == l.to_lowercase() && l.chars().count() >= 4), "lower case, 4 or more");
    }

    /// The examples, and the shapes they stand for.
    #[test]
    fn common_and_breached_passwords_are_refused() {
        for weak in [
            "aaaaaaaaaaaa",
            "password1234",
            "Password1234!",
            "PASSWORD2024",
            "iloveyou12345",
            "1234567890123",
            "passwordpassword",
            "abc123abc123",
            "qwertyuiopas",
            "abcdefghijkl",
            "qwerty123456",
            "!!!!2024!!!!",
            "football1990",
            "1qaz2wsx3edc",
        ] {
            assert!(weakness(weak).is_some(), "{weak} was accepted");
        }
    }

    /// What the tests and the docs use, and passphrases in general, pass.
    #[test]
    fn good_passphrases_pass() {
        for good in [
            "correct horse battery staple",
            "a brand new long password",
            "a long enough password",
            "another-long-password",
            "set from the console",
            "my own new passphrase",
            "Tr0ub4dor&3-horse-walk",
            "kettle-orbit-lantern-7",
        ] {
            assert_eq!(weakness(good), None, "{good} was refused");
        }
    }
}
