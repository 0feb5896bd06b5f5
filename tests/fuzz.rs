//! Property tests: the apidoc parser, the path resolver, parameter validation and property
//! string parsing never panic, whatever bytes they are given.

use proptest::prelude::*;
use proxmox_sdk::schema::apidoc::{parse_apidoc, parse_apidoc_value};
use proxmox_sdk::schema::formats::compile_pattern;
use proxmox_sdk::schema::propstring::parse_property_string;
use proxmox_sdk::schema::{bundled, Format};
use serde_json::{Map, Value};

const SMALL_APIDOC: &str = r#"const apiSchema = [{"path": "/nodes", "text": "nodes", "info": {"GET": {"method": "GET", "name": "index", "description": "x", "parameters": {"additionalProperties": 0, "properties": {"n": {"type": "integer", "minimum": 1, "optional": 1}}}, "returns": {"type": "array", "items": {"type": "object"}}}}, "children": [{"path": "/nodes/{node}", "text": "{node}", "leaf": 1}]}];"#;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,20}".prop_map(Value::String),
        "[0-9a-z=,:;]{0,30}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_apidoc(&text);
        let _ = parse_apidoc_value(&text);
    }

    #[test]
    fn parser_never_panics_on_damaged_apidoc(cut in 0usize..SMALL_APIDOC.len(), insert in ".{0,3}", at in 0usize..SMALL_APIDOC.len()) {
        let mut text = SMALL_APIDOC.to_string();
        let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        text.insert_str(at, &insert);
        let cut = (0..=cut.min(text.len())).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let truncated = &text[..cut];
        for t in [text.as_str(), truncated] {
            if let Err(e) = parse_apidoc(t) {
                let proxmox_sdk::schema::ApidocError::Syntax { offset, .. } = e;
                prop_assert!(offset <= t.len());
            }
        }
    }

    #[test]
    fn resolver_never_panics(path in "(/|%[0-9A-Fa-f]{0,2}|[a-z0-9{}:@.]{1,8}){0,10}") {
        let s = bundled::load("9.2").unwrap();
        let _ = s.resolve(&path);
        let _ = s.operation("GET", &path);
    }

    #[test]
    fn resolver_roundtrips_encoded_segments(node in "[^/]{1,12}", vmid in "[^/]{1,12}") {
        let s = bundled::load("9.2").unwrap();
        let enc = |v: &str| percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string();
        let path = format!("/api2/json/nodes/{}/qemu/{}/config", enc(&node), enc(&vmid));
        let (e, params) = s.resolve(&path).unwrap();
        prop_assert_eq!(e.template.as_str(), "/nodes/{node}/qemu/{vmid}/config");
        prop_assert_eq!(params[0].1.as_ref(), node.as_str());
        prop_assert_eq!(params[1].1.as_ref(), vmid.as_str());
    }

    #[test]
    fn validation_never_panics(
        params in prop::collection::btree_map("(vmid|cores|net[0-9]|scsi[0-9]{1,2}|memory|onboot|delete|tags|[a-z]{1,5})", json_value(), 0..8),
        which in 0usize..4,
    ) {
        let s = bundled::load("9.2").unwrap();
        let (method, path) = [
            ("POST", "/nodes/pve1/qemu"),
            ("PUT", "/nodes/pve1/qemu/100/config"),
            ("POST", "/cluster/backup"),
            ("PUT", "/access/password"),
        ][which];
        let input: Map<String, Value> = params.into_iter().collect();
        let _ = s.validate_request(method, path, &input);
    }

    #[test]
    fn property_strings_never_panic(text in ".{0,60}") {
        let s = bundled::load("9.2").unwrap();
        let (op, _) = s.operation("POST", "/nodes/pve1/qemu").unwrap();
        for name in ["net0", "scsi0", "memory", "agent"] {
            if let Some(Format::PropertyString(f)) = &op.param(name).unwrap().format {
                let _ = parse_property_string(f, &text);
            }
        }
    }

    #[test]
    fn pattern_translation_never_panics(p in ".{0,30}") {
        let _ = compile_pattern(&p);
    }
}
