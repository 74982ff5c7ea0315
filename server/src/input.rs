//! What text the service accepts from clients, in one place. NUL characters are refused
//! everywhere: PostgreSQL cannot store them, and no legitimate chat contains them.

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
}
