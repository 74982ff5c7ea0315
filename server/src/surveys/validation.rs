//! Checks on survey definitions and on answers. Every refusal is an `ApiError::Validation`
//! (422) whose message names the question and says what was expected.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;
use talkzone_mobile_api::{QuestionKind, SurveyAnswer, SurveyDefinition, SurveyQuestion};

use crate::error::{ApiError, ApiResult};

pub const MAX_QUESTIONS: usize = 50;
pub const DEFAULT_FREE_TEXT_CHARS: u32 = 500;
pub const MAX_FREE_TEXT_CHARS: u32 = 2_000;
const MAX_OPTIONS: usize = 20;

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::Validation(msg.into())
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// A definition staff may save: sizes, unique ids, options only where they belong.
pub fn check_definition(d: &SurveyDefinition) -> ApiResult<()> {
    let title = d.title.trim();
    if title.is_empty() || chars(title) > 200 {
        return Err(bad("title must be 1 to 200 characters"));
    }
    if d.intro.as_deref().is_some_and(|i| chars(i) > 1_000) {
        return Err(bad("intro must be at most 1000 characters"));
    }
    if d.questions.is_empty() || d.questions.len() > MAX_QUESTIONS {
        return Err(bad(format!("a survey has 1 to {MAX_QUESTIONS} questions")));
    }
    let mut ids = HashSet::new();
    for q in &d.questions {
        let id_ok = !q.id.is_empty()
            && chars(&q.id) <= 40
            && q.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !id_ok {
            return Err(bad(format!("question id {:?}: use 1 to 40 letters, digits, '_' or '-'", q.id)));
        }
        if !ids.insert(q.id.as_str()) {
            return Err(bad(format!("question id {:?} is used twice", q.id)));
        }
        if q.text.trim().is_empty() || chars(&q.text) > 500 {
            return Err(bad(format!("question {:?}: text must be 1 to 500 characters", q.id)));
        }
        if q.child_text.as_deref().is_some_and(|t| t.trim().is_empty() || chars(t) > 500) {
            return Err(bad(format!("question {:?}: child_text must be 1 to 500 characters", q.id)));
        }
        let is_choice = matches!(q.kind, QuestionKind::SingleChoice | QuestionKind::MultipleChoice);
        if is_choice {
            if q.options.len() < 2 || q.options.len() > MAX_OPTIONS {
                return Err(bad(format!("question {:?}: a choice question has 2 to {MAX_OPTIONS} options", q.id)));
            }
            let mut seen = HashSet::new();
            for o in &q.options {
                if o.trim().is_empty() || chars(o) > 100 {
                    return Err(bad(format!("question {:?}: each option must be 1 to 100 characters", q.id)));
                }
                if !seen.insert(o.as_str()) {
                    return Err(bad(format!("question {:?}: option {o:?} appears twice", q.id)));
                }
            }
        } else if !q.options.is_empty() {
            return Err(bad(format!("question {:?}: only choice questions have options", q.id)));
        }
        match (q.kind, q.max_length) {
            (QuestionKind::FreeText, Some(n)) if n == 0 || n > MAX_FREE_TEXT_CHARS => {
                return Err(bad(format!("question {:?}: max_length must be 1 to {MAX_FREE_TEXT_CHARS}", q.id)));
            }
            (QuestionKind::FreeText, _) | (_, None) => {}
            (_, Some(_)) => return Err(bad(format!("question {:?}: only free-text questions have max_length", q.id))),
        }
    }
    Ok(())
}

fn integer_in(v: &Value, lo: i64, hi: i64) -> bool {
    v.as_i64().is_some_and(|n| (lo..=hi).contains(&n)) && !v.is_f64()
}

/// One answer against its question.
pub fn check_answer(q: &SurveyQuestion, v: &Value) -> ApiResult<()> {
    let fail = |expected: String| Err(bad(format!("answer to question {:?}: expected {expected}", q.id)));
    match q.kind {
        QuestionKind::EmojiScale => {
            if !integer_in(v, 1, 5) {
                return fail("a whole number from 1 to 5".into());
            }
        }
        QuestionKind::Scale0To10 => {
            if !integer_in(v, 0, 10) {
                return fail("a whole number from 0 to 10".into());
            }
        }
        QuestionKind::YesNo => {
            if !v.is_boolean() {
                return fail("true or false".into());
            }
        }
        QuestionKind::SingleChoice => match v.as_str() {
            Some(s) if q.options.iter().any(|o| o == s) => {}
            _ => return fail(format!("one of the options {:?}", q.options)),
        },
        QuestionKind::MultipleChoice => {
            let Some(items) = v.as_array() else {
                return fail(format!("a list of one or more of the options {:?}", q.options));
            };
            if items.is_empty() {
                return fail(format!("a list of one or more of the options {:?}", q.options));
            }
            let mut seen = HashSet::new();
            for i in items {
                match i.as_str() {
                    Some(s) if q.options.iter().any(|o| o == s) => {
                        if !seen.insert(s) {
                            return fail(format!("each option at most once ({s:?} is repeated)"));
                        }
                    }
                    _ => return fail(format!("only options from {:?}", q.options)),
                }
            }
        }
        QuestionKind::FreeText => {
            let max = q.max_length.unwrap_or(DEFAULT_FREE_TEXT_CHARS) as usize;
            match v.as_str() {
                Some(s) if !s.trim().is_empty() && chars(s) <= max => {}
                Some(s) if chars(s) > max => return fail(format!("at most {max} characters (got {})", chars(s))),
                _ => return fail(format!("text of 1 to {max} characters")),
            }
        }
    }
    Ok(())
}

/// A set of answers: each for a question of this version, at most once, each valid.
pub fn check_answers(d: &SurveyDefinition, answers: &[SurveyAnswer]) -> ApiResult<()> {
    let mut seen = HashSet::new();
    for a in answers {
        let Some(q) = d.questions.iter().find(|q| q.id == a.question_id) else {
            return Err(bad(format!("there is no question {:?} in this survey", a.question_id)));
        };
        if !seen.insert(a.question_id.as_str()) {
            return Err(bad(format!("question {:?} is answered twice", a.question_id)));
        }
        if a.value.is_null() {
            return Err(bad(format!(
                "answer to question {:?}: leave the question out instead of sending null",
                a.question_id
            )));
        }
        check_answer(q, &a.value)?;
    }
    Ok(())
}

/// Earlier answers with `newer` replacing the same questions, in question order.
pub fn merge(d: &SurveyDefinition, earlier: Vec<SurveyAnswer>, newer: &[SurveyAnswer]) -> Vec<SurveyAnswer> {
    let mut by_id: BTreeMap<String, Value> = earlier.into_iter().map(|a| (a.question_id, a.value)).collect();
    for a in newer {
        by_id.insert(a.question_id.clone(), a.value.clone());
    }
    d.questions
        .iter()
        .filter_map(|q| by_id.remove(&q.id).map(|value| SurveyAnswer { question_id: q.id.clone(), value }))
        .collect()
}

/// A final submission answers every required question.
pub fn check_complete(d: &SurveyDefinition, answers: &[SurveyAnswer]) -> ApiResult<()> {
    let missing: Vec<&str> = d
        .questions
        .iter()
        .filter(|q| q.required && !answers.iter().any(|a| a.question_id == q.id))
        .map(|q| q.id.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(bad(format!("required questions not answered: {}", missing.join(", "))))
    }
}

/// `YYYY-MM-DD`, a real calendar date.
pub fn check_date(field: &str, s: &str) -> ApiResult<()> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    if s.len() == 10 && time::Date::parse(s, &f).is_ok() {
        Ok(())
    } else {
        Err(bad(format!("{field} must be a date written YYYY-MM-DD")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(kind: QuestionKind) -> SurveyQuestion {
        SurveyQuestion {
            id: "q".into(),
            kind,
            text: "t".into(),
            child_text: None,
            required: true,
            options: if matches!(kind, QuestionKind::SingleChoice | QuestionKind::MultipleChoice) {
                vec!["a".into(), "b".into()]
            } else {
                vec![]
            },
            max_length: if kind == QuestionKind::FreeText { Some(5) } else { None },
        }
    }

    #[test]
    fn answers_fit_their_kind() {
        let ok = [
            (QuestionKind::EmojiScale, json!(5)),
            (QuestionKind::Scale0To10, json!(0)),
            (QuestionKind::YesNo, json!(false)),
            (QuestionKind::SingleChoice, json!("a")),
            (QuestionKind::MultipleChoice, json!(["a", "b"])),
            (QuestionKind::FreeText, json!("hello")),
        ];
        for (k, v) in ok {
            assert!(check_answer(&q(k), &v).is_ok(), "{k:?} {v}");
        }
        let bad = [
            (QuestionKind::EmojiScale, json!(0)),
            (QuestionKind::EmojiScale, json!(2.5)),
            (QuestionKind::Scale0To10, json!(11)),
            (QuestionKind::YesNo, json!("yes")),
            (QuestionKind::SingleChoice, json!("c")),
            (QuestionKind::MultipleChoice, json!(["a", "a"])),
            (QuestionKind::MultipleChoice, json!([])),
            (QuestionKind::FreeText, json!("toolong")),
            (QuestionKind::FreeText, json!("  ")),
        ];
        for (k, v) in bad {
            assert!(check_answer(&q(k), &v).is_err(), "{k:?} {v}");
        }
    }
}
