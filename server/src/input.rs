//! What text the service accepts from clients, in one place. NUL characters are refused
//! everywhere: PostgreSQL cannot store them, and no legitimate chat contains them. Text made
//! only of invisible characters is not a message; and the direction controls a text opens are
//! closed within it, so that it cannot turn around whatever is shown after it (a name, a
//! time, the next cell of a CSV) wherever staff read it.

use std::borrow::Cow;

use serde_json::Value;

use crate::error::ApiError;

/// Refuses a JSON value with a NUL character in any string or key.
pub fn check_json(value: &Value) -> Result<(), ApiError> {
    if has_nul(value) {
        return Err(ApiError::BadRequest("text may not contain NUL characters".into()));
    }
    Ok(())
}

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Requires 1 to `max_chars` characters (after trimming) in a free-text field such as a reason.
pub fn require_text(name: &str, text: &str, max_chars: usize) -> Result<(), ApiError> {
    let n = text.trim().chars().count();
    if n == 0 || n > max_chars {
        return Err(ApiError::Validation(format!("{name} must be 1 to {max_chars} characters")));
    }
    Ok(())
}

/// Characters that show nothing by themselves: the soft hyphen, the combining grapheme
/// joiner, the Arabic letter mark, Hangul and Khmer fillers, Mongolian vowel separators, zero
/// width spaces, joiners and direction marks, embeddings, overrides and isolates, word joiners
/// and invisible operators, variation selectors, the byte order mark and tag characters.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F
            | 0x1160
            | 0x17B4
            | 0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xE0000..=0xE007F
            | 0xE0100..=0xE01EF
    )
}

/// Whether the text has anything to see: a character that is neither white space nor
/// [invisible](is_invisible).
pub fn has_visible(text: &str) -> bool {
    text.chars().any(|c| !c.is_whitespace() && !is_invisible(c))
}

/// The direction controls that change the text after them: embeddings, overrides and their
/// end (LRE, RLE, PDF, LRO, RLO), and isolates and their end (LRI, RLI, FSI, PDI). The marks
/// (LRM, RLM, ALM) change nothing beyond their neighbours and are not among them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The text with every embedding, override or isolate it leaves open closed again, before
/// each line break and at its end, as the Unicode bidirectional algorithm pairs them (a PDF
/// closes the innermost embedding inside the innermost isolate; a PDI closes the innermost
/// isolate and every embedding inside it). A right-to-left override in a message then turns
/// only the message's own text around, never the sender's name or the time shown after it.
/// Text without direction controls comes back as it is.
pub fn contain_bidi(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_bidi_control) {
        return Cow::Borrowed(text);
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Open {
        Embedding,
        Isolate,
    }
    fn close_all(open: &mut Vec<Open>, out: &mut String) {
        while let Some(o) = open.pop() {
            out.push(if o == Open::Embedding { '\u{202C}' } else { '\u{2069}' });
        }
    }
    let mut open = Vec::new();
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\u{202A}' | '\u{202B}' | '\u{202D}' | '\u{202E}' => open.push(Open::Embedding),
            '\u{202C}' if open.last() == Some(&Open::Embedding) => {
                open.pop();
            }
            '\u{2066}'..='\u{2068}' => open.push(Open::Isolate),
            '\u{2069}' => {
                if let Some(i) = open.iter().rposition(|o| *o == Open::Isolate) {
                    open.truncate(i);
                }
            }
            // Paragraph separators end every embedding and isolate; close them first, for
            // readers that do not break paragraphs there.
            '\n' | '\r' | '\u{1C}'..='\u{1E}' | '\u{85}' | '\u{2029}' => close_all(&mut open, &mut out),
            _ => {}
        }
        out.push(c);
    }
    close_all(&mut open, &mut out);
    Cow::Owned(out)
}

/// Refuses a URL (its path and query) that carries an encoded NUL.
pub fn check_url(path_and_query: &str) -> Result<(), ApiError> {
    if path_and_query.to_ascii_lowercase().contains("%00") {
        return Err(ApiError::BadRequest("the URL may not contain NUL characters".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nul_anywhere() {
        assert!(check_json(&serde_json::json!({"a": ["ok", {"b": "x\u{0}y"}]})).is_err());
        assert!(check_json(&serde_json::json!({"k\u{0}": 1})).is_err());
        assert!(check_json(&serde_json::json!({"a": ["ok", {"b": "fine"}], "n": 1})).is_ok());
        assert!(check_url("/v1/conversations/%00").is_err());
        assert!(check_url("/v1/conversations/abc?after_seq=0").is_ok());
    }

    #[test]
    fn invisible_only_text_has_nothing_to_see() {
        for text in
            ["\u{200B}\u{200C}\u{200D}", "\u{202E}\u{2066} \u{2069}", "\u{FEFF}\u{2060}\n\u{E0041}", " \u{3164} "]
        {
            assert!(!has_visible(text), "{text:?}");
        }
        for text in ["hi", "\u{200B}a", "\u{202E}\u{05D0}", "\u{1F600}", "."] {
            assert!(has_visible(text), "{text:?}");
        }
    }

    #[test]
    fn direction_controls_are_closed_inside_the_text() {
        assert!(matches!(contain_bidi("plain text"), Cow::Borrowed(_)));
        // An override left open is closed at the end.
        assert_eq!(contain_bidi("abc\u{202E}def"), "abc\u{202E}def\u{202C}");
        // Closed already: unchanged.
        assert_eq!(contain_bidi("a\u{202E}b\u{202C}c"), "a\u{202E}b\u{202C}c");
        // Nested: closed innermost first.
        assert_eq!(contain_bidi("\u{2067}a\u{202D}b"), "\u{2067}a\u{202D}b\u{202C}\u{2069}");
        // A PDI closes its isolate and the embeddings inside it.
        assert_eq!(contain_bidi("\u{2066}\u{202B}x\u{2069}y"), "\u{2066}\u{202B}x\u{2069}y");
        // A PDF cannot close an isolate.
        assert_eq!(contain_bidi("\u{2068}x\u{202C}"), "\u{2068}x\u{202C}\u{2069}");
        // Before each line break too.
        assert_eq!(contain_bidi("\u{202E}one\ntwo"), "\u{202E}one\u{202C}\ntwo");
        // Stray closers stay as they are (they change nothing).
        assert_eq!(contain_bidi("\u{202C}\u{2069}x"), "\u{202C}\u{2069}x");
    }
}
