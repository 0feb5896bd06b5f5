//! Unit tests of parameter validation.

use super::*;

#[test]
fn rust_dialect_formats() {
    let obj: Schema = serde_json::from_value(serde_json::json!({
        "type": "string",
        "format": {"type": "object", "default_key": "type", "additionalProperties": false,
            "properties": {"type": {"type": "string", "enum": ["read-only", "offline"]},
                           "message": {"type": "string", "optional": 1}}}
    }))
    .unwrap();
    let mut errors = ErrorMap::new();
    assert!(check_prop(
        "maintenance-mode",
        &obj,
        &Value::from("offline,message=x"),
        &mut errors
    )
    .is_some());
    assert!(check_prop(
        "maintenance-mode",
        &obj,
        &Value::from("type=sleepy"),
        &mut errors
    )
    .is_none());
    assert!(
        errors["maintenance-mode"].contains("invalid format"),
        "{errors:?}"
    );

    let list: Schema = serde_json::from_value(serde_json::json!({
        "type": "string",
        "format": {"type": "array", "items": {"type": "string", "enum": ["acl", "entry"]}}
    }))
    .unwrap();
    let mut errors = ErrorMap::new();
    assert!(check_prop(
        "remove-vanished",
        &list,
        &Value::from("acl;entry"),
        &mut errors
    )
    .is_some());
    assert!(check_prop(
        "remove-vanished",
        &list,
        &Value::from("acl,bogus"),
        &mut errors
    )
    .is_none());
    assert!(
        errors["remove-vanished"].contains("remove-vanished[1]"),
        "{errors:?}"
    );

    let pat: Schema = serde_json::from_value(serde_json::json!({
        "type": "string", "pattern": "/^[a-z]+$/"
    }))
    .unwrap();
    let mut errors = ErrorMap::new();
    assert!(check_prop("store", &pat, &Value::from("abc"), &mut errors).is_some());
    assert!(check_prop("store", &pat, &Value::from("ab1"), &mut errors).is_none());
}

#[test]
fn perl_number_checks() {
    for ok in ["1", "+1", "-1.5", ".5", "5.", "1e3", "1.5E-2"] {
        assert!(is_number(ok), "{ok}");
    }
    for bad in ["", ".", "e3", "1e", "0x10", "1.2.3", "abc"] {
        assert!(!is_number(bad), "{bad}");
    }
    assert_eq!(perl_number(100.0), "100");
    assert_eq!(perl_number(0.5), "0.5");
}

#[test]
fn family_matching() {
    let f = IndexedFamily {
        prefix: "scsi".into(),
        max: Some(30),
        key: "scsi[n]".into(),
    };
    assert!(f.matches("scsi0"));
    assert!(f.matches("scsi30"));
    assert!(!f.matches("scsi31"));
    assert!(!f.matches("scsi01"));
    assert!(!f.matches("scsihw"));
    assert_eq!(
        stated_max_index("Use volume as SCSI hard disk or CD-ROM (n is 0 to 30)."),
        Some(30)
    );
}
