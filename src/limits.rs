//! The documented bounds on what callers may pass: durations and the nesting depth of
//! parameter values. Every edge (Python, CLI, server, config files) checks through these,
//! so a bad number becomes a clear error that names the parameter instead of a panic deep
//! inside `Duration` or a stack overflow in a converter.

use std::time::Duration;

/// The longest duration any option takes (timeouts, backoff, latency, polling): one day.
pub const MAX_SECONDS: f64 = 86_400.0;

/// The furthest the mock's clock moves in one step: ten years.
pub const MAX_CLOCK_STEP_SECONDS: f64 = 315_360_000.0;

/// The deepest a parameter value may nest (a dict in a list in a dict ... counts each
/// level). PVE's parameters are flat or property strings; its JSON reader refuses deep
/// input too. Deeper values are refused with an error naming the parameter.
pub const MAX_DEPTH: usize = 64;

/// Formats a number as Python's `repr` does (`1e+20`, `0.5`, `nan`, `inf`), so that
/// messages read the same whether they come from the Rust core or from Python.
pub fn py_number(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // Rust writes `1e20` / `1.5e-7`; Python writes `1e+20` / `1.5e-07`.
        let s = format!("{v:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    if v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// `v` seconds as a [`Duration`], if `0 <= v <= max` (`min_exclusive` refuses 0 too).
/// The error names the option: `timeout must be between 0 and 86400 seconds, got 1e+20`.
pub fn seconds(name: &str, v: f64, max: f64, zero_allowed: bool) -> Result<Duration, String> {
    if !in_range(v, max, zero_allowed) {
        return Err(range_error(name, max, zero_allowed, &py_number(v)));
    }
    Ok(Duration::from_secs_f64(v))
}

/// Whether `v` is a usable number of seconds up to `max`.
pub fn in_range(v: f64, max: f64, zero_allowed: bool) -> bool {
    v.is_finite() && v <= max && (v > 0.0 || (zero_allowed && v == 0.0))
}

/// The message for a duration out of range; `shown` is the value as the caller wrote it.
pub fn range_error(name: &str, max: f64, zero_allowed: bool, shown: &str) -> String {
    let low = if zero_allowed {
        "between 0 and"
    } else {
        "more than 0 and at most"
    };
    format!("{name} must be {low} {} seconds, got {shown}", max as u64)
}

/// [`seconds`] with the common bound [`MAX_SECONDS`].
pub fn duration(name: &str, v: f64, zero_allowed: bool) -> Result<Duration, String> {
    seconds(name, v, MAX_SECONDS, zero_allowed)
}

/// Checks the depth of a JSON value (for bodies that arrive already parsed).
pub fn check_depth(name: &str, v: &serde_json::Value) -> Result<(), String> {
    fn depth(v: &serde_json::Value, level: usize) -> bool {
        if level > MAX_DEPTH {
            return false;
        }
        match v {
            serde_json::Value::Array(a) => a.iter().all(|i| depth(i, level + 1)),
            serde_json::Value::Object(m) => m.values().all(|i| depth(i, level + 1)),
            _ => true,
        }
    }
    if depth(v, 0) {
        Ok(())
    } else {
        Err(depth_error(name))
    }
}

/// The message for a value nested deeper than [`MAX_DEPTH`].
pub fn depth_error(name: &str) -> String {
    format!("{name}: nested deeper than {MAX_DEPTH} levels (parameters are flat values, lists or mappings)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_like_numbers() {
        assert_eq!(py_number(1e20), "1e+20");
        assert_eq!(py_number(1.5e-7), "1.5e-07");
        assert_eq!(py_number(5.0), "5.0");
        assert_eq!(py_number(0.25), "0.25");
        assert_eq!(py_number(-3.0), "-3.0");
        assert_eq!(py_number(f64::NAN), "nan");
        assert_eq!(py_number(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn durations_are_bounded() {
        assert_eq!(
            duration("timeout", 1e20, true).unwrap_err(),
            "timeout must be between 0 and 86400 seconds, got 1e+20"
        );
        assert!(duration("timeout", -1.0, true).is_err());
        assert!(duration("timeout", f64::NAN, true).is_err());
        assert!(duration("timeout", f64::INFINITY, true).is_err());
        assert!(duration("_timeout", 0.0, false)
            .unwrap_err()
            .starts_with("_timeout must be more than 0 and at most 86400"));
        assert_eq!(duration("t", 0.0, true).unwrap(), Duration::ZERO);
        assert_eq!(
            duration("t", MAX_SECONDS, true).unwrap(),
            Duration::from_secs(86_400)
        );
    }

    #[test]
    fn depth() {
        let mut v = serde_json::json!(1);
        for _ in 0..MAX_DEPTH {
            v = serde_json::json!([v]);
        }
        assert!(check_depth("p", &v).is_ok());
        v = serde_json::json!({ "x": v });
        assert!(check_depth("p", &v).unwrap_err().contains("deeper than 64"));
    }
}
