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

#[test]
fn families_without_a_stated_maximum_have_pves() {
    let schema = crate::schema::bundled::load("9.2").unwrap();
    for (template, ok, refused) in [
        ("/nodes/{node}/qemu/{vmid}/config", "net31", "net32"),
        (
            "/nodes/{node}/qemu/{vmid}/config",
            "ipconfig31",
            "ipconfig32",
        ),
        ("/nodes/{node}/qemu/{vmid}/config", "hostpci15", "hostpci16"),
        ("/nodes/{node}/qemu/{vmid}/config", "unused255", "unused256"),
        ("/nodes/{node}/lxc/{vmid}/config", "mp255", "mp256"),
        ("/nodes/{node}/lxc/{vmid}/config", "net31", "net1000"),
    ] {
        let op = schema
            .operations()
            .find(|o| o.template == template && o.method.as_str() == "PUT")
            .unwrap();
        assert!(op.param(ok).is_some(), "{template} {ok}");
        assert!(op.param(refused).is_none(), "{template} {refused}");
    }
}
