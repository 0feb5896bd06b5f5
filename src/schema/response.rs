//! Checking an answer's `data` against the operation's `returns` schema with the
//! `jsonschema` crate (the returns schemas are plain JSON Schema once converted).

use serde_json::Value;

use super::openapi::json_schema;
use super::Operation;

/// One place where an answer does not match its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMismatch {
    /// JSON pointer into `data` (`/0/status`).
    pub pointer: String,
    /// What is wrong there.
    pub message: String,
}

impl Operation {
    fn returns_validator(&self) -> Option<&jsonschema::Validator> {
        self.returns_validator
            .get_or_init(|| {
                jsonschema::options()
                    .should_validate_formats(false)
                    .build(&json_schema(&self.info.returns))
                    .ok()
            })
            .as_ref()
    }

    /// Checks `data` (the unwrapped answer) against the `returns` schema; empty when it
    /// matches. A schema `jsonschema` cannot compile checks nothing.
    pub fn check_response(&self, data: &Value) -> Vec<ResponseMismatch> {
        let Some(validator) = self.returns_validator() else {
            return Vec::new();
        };
        validator
            .iter_errors(data)
            .map(|e| ResponseMismatch {
                pointer: e.instance_path().to_string(),
                message: e.to_string(),
            })
            .collect()
    }

    /// Whether the returns schema compiled for `jsonschema`.
    pub fn has_response_validator(&self) -> bool {
        self.returns_validator().is_some()
    }
}
