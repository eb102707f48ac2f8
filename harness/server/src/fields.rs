//! Reading a request's JSON fields with messages that name the field.

use serde_json::{Map, Value};

use crate::ApiError;

/// A request object's fields.
pub struct Fields<'a>(pub &'a Map<String, Value>);

impl Fields<'_> {
    /// A string field; `None` when absent or null.
    pub fn string(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong(name, "a string", other)),
        }
    }

    /// A number field; `None` when absent or null.
    pub fn number(&self, name: &str) -> Result<Option<f64>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(wrong(name, "a number", other)),
        }
    }

    /// An integer field; `None` when absent or null.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
            Some(other) => Err(wrong(name, "an integer", other)),
        }
    }

    /// A boolean field, false when absent.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(wrong(name, "true or false", other)),
        }
    }

    /// 400 for any field not in `known`.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !known.contains(&k.as_str())) {
            Some(unknown) => Err(ApiError::bad_request(format!(
                "unknown field \"{unknown}\" (known: {})",
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }
}

/// A 400 saying field `name` must be `expected` and what it was instead.
pub(crate) fn wrong(name: &str, expected: &str, got: &Value) -> ApiError {
    let kind = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    ApiError::bad_request(format!("\"{name}\" must be {expected}, not {kind}"))
}
