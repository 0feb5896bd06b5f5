//! PVE's registered string formats (`pve-vmid`, `pve-node`, `ip`, `mac-addr`, ...), the
//! `-list`/`-opt` suffixes, PVE's list splitting, and Perl-regex translation for `pattern`.
//! Messages are PVE's own wording (from `PVE::JSONSchema` and friends).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use fancy_regex::Regex;

/// Splits a `-list` value the way `PVE::Tools::split_list` does: on NUL if present,
/// otherwise on commas, semicolons and whitespace.
pub fn split_list(text: &str) -> Vec<&str> {
    if text.contains('\0') {
        return text.split('\0').collect();
    }
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Checks `text` against the named format. `Ok` for formats we do not know (PVE registers
/// some in plugins we cannot see; refusing valid input would be worse than accepting).
/// The error is PVE's message, without the `invalid format - ` prefix.
pub fn check_named_format(name: &str, text: &str) -> Result<(), String> {
    if let Some(check) = lookup(name) {
        return check(text);
    }
    if let Some(base) = name.strip_suffix("-list") {
        if let Some(check) = lookup(base) {
            // PVE allows empty lists.
            return split_list(text).into_iter().try_for_each(check);
        }
    }
    if let Some(base) = name.strip_suffix("-opt") {
        if let Some(check) = lookup(base) {
            return if text.is_empty() { Ok(()) } else { check(text) };
        }
    }
    Ok(())
}

/// Whether we implement this format (with or without `-list`/`-opt`).
pub fn is_known_format(name: &str) -> bool {
    lookup(name).is_some()
        || name.strip_suffix("-list").and_then(lookup).is_some()
        || name.strip_suffix("-opt").and_then(lookup).is_some()
}

type Check = fn(&str) -> Result<(), String>;

fn lookup(name: &str) -> Option<Check> {
    Some(match name {
        "string" | "regex" => |_| Ok(()),
        "pve-vmid" => |v| {
            ok_if(
                re(r"^[1-9][0-9]{2,8}$", v),
                "value does not look like a valid VM ID",
            )
        },
        "pve-node" => |v| {
            ok_if(
                is_node_name(v),
                "value does not look like a valid node name",
            )
        },
        "pve-configid" => |v| {
            ok_if(
                re(r"^(?i:[a-z][a-z0-9_-]+)$", v),
                format!("invalid configuration ID '{v}'"),
            )
        },
        "pve-storage-id" => |v| parse_id(v, "storage"),
        "acme-plugin-id" => |v| parse_id(v, "ACME plugin"),
        "pve-bridge-id" => |v| ok_if(re(r"^[-_.\w\d]+$", v), format!("invalid bridge ID '{v}'")),
        "mac-addr" => |v| {
            ok_if(
                re(r"^(?i:[a-f0-9][02468ace](?::[a-f0-9]{2}){5})$", v),
                "value does not look like a valid unicast MAC address",
            )
        },
        "ipv4" => |v| ok_if(is_ipv4(v), "value does not look like a valid IPv4 address"),
        "ipv6" => |v| ok_if(is_ipv6(v), "value does not look like a valid IPv6 address"),
        "ip" => |v| {
            ok_if(
                is_ipv4(v) || is_ipv6(v),
                "value does not look like a valid IP address",
            )
        },
        "ipv4mask" => |v| {
            ok_if(
                ipv4_mask_bits(v).is_some(),
                "value does not look like a valid IP netmask",
            )
        },
        "CIDRv4" => |v| {
            ok_if(
                is_cidr_v4(v),
                "value does not look like a valid IPv4 CIDR network",
            )
        },
        "CIDRv6" => |v| {
            ok_if(
                is_cidr_v6(v),
                "value does not look like a valid IPv6 CIDR network",
            )
        },
        "CIDR" => |v| {
            ok_if(
                is_cidr_v4(v) || is_cidr_v6(v),
                "value does not look like a valid CIDR network",
            )
        },
        "IPorCIDR" => |v| {
            ok_if(
                is_ipv4(v) || is_ipv6(v) || is_cidr_v4(v) || is_cidr_v6(v),
                "value does not look like a valid IP address or CIDR network",
            )
        },
        "pve-ipv4-config" => |v| {
            ok_if(
                matches!(v, "dhcp" | "manual") || is_cidr_v4(v),
                "value does not look like a valid ipv4 network configuration",
            )
        },
        "pve-ipv6-config" => |v| {
            ok_if(
                matches!(v, "auto" | "dhcp" | "manual") || is_cidr_v6(v),
                "value does not look like a valid ipv6 network configuration",
            )
        },
        "email" => |v| {
            ok_if(
                is_email(v),
                "value does not look like a valid email address",
            )
        },
        "email-or-username" => |v| {
            ok_if(
                is_email(v) || re(r"^[\w+\-~_.]+$", v),
                "value does not look like a valid email address or user name",
            )
        },
        "dns-name" => |v| ok_if(is_dns_name(v), "value does not look like a valid DNS name"),
        "address" => |v| {
            ok_if(
                is_ipv4(v) || is_ipv6(v) || is_dns_name(v),
                format!("value does not look like a valid address: {v}"),
            )
        },
        "urlencoded" => |v| {
            ok_if(
                re(r"^[-%a-zA-Z0-9_.!~*'()]*$", v),
                format!("invalid urlencoded string: {v}"),
            )
        },
        "pve-iface" => |v| {
            ok_if(
                re(r"^(?i:[a-z][a-z0-9_]{1,20}([:\.]\d+)?)$", v),
                format!("invalid network interface name '{v}'"),
            )
        },
        "pve-vlan-id-or-range" => check_vlan_id_or_range,
        "disk-size" => |v| {
            ok_if(
                re(r"^\d+(\.\d+)?[KMGT]?$", v),
                format!("value does not look like a valid disk size: {v}"),
            )
        },
        "pve-startup-order" => |v| ok_if(is_startup_order(v), "unable to parse startup options"),
        "pve-tag" => |v| {
            ok_if(
                re(r"^(?i:[a-z0-9_][a-z0-9_\-\+\.]*)$", v),
                "invalid characters in tag",
            )
        },
        "pve-task-status-type" => |v| {
            ok_if(
                re(r"^(?i:ok|error|warning|unknown)$", v),
                format!("invalid status '{v}'"),
            )
        },
        "pve-userid" => |v| {
            ok_if(
                v.len() <= 64 && re(r"^[^\s:/]+@[A-Za-z][A-Za-z0-9\.\-_]+$", v),
                format!("value '{v}' does not look like a valid user name"),
            )
        },
        "pve-tokenid" => |v| {
            ok_if(
                re(
                    r"^[^\s:/]+@[A-Za-z][A-Za-z0-9\.\-_]+![A-Za-z][A-Za-z0-9\.\-_]+$",
                    v,
                ),
                format!("invalid token ID '{v}'"),
            )
        },
        "pve-realm" => |v| {
            ok_if(
                re(r"^[A-Za-z][A-Za-z0-9\.\-_]+$", v),
                format!("value '{v}' does not look like a valid realm"),
            )
        },
        "pve-groupid" => |v| {
            ok_if(
                re(r"^[A-Za-z0-9\.\-_]+$", v),
                format!("group name '{v}' contains invalid characters"),
            )
        },
        "pve-roleid" => |v| {
            ok_if(
                re(r"^[A-Za-z0-9\.\-_]+$", v),
                format!("role name '{v}' contains invalid characters"),
            )
        },
        // PVE::AccessControl::verify_poolname (nested pools, at most three levels).
        "pve-poolid" => |v| {
            if v.split('/').count() > 3 {
                return Err(format!(
                    "pool name '{v}' nested too deeply (max levels = 3)"
                ));
            }
            ok_if(
                re(r"^[A-Za-z0-9\.\-_]+(/[A-Za-z0-9\.\-_]+){0,2}$", v),
                format!("pool name '{v}' contains invalid characters"),
            )
        },
        // pve-storage's `verify_path`: absolute, without `;`, `(` or `)` right after `/`.
        "pve-storage-path" => |v| {
            ok_if(
                re(r"^/[^;\(\)]+", v),
                "value does not look like a valid absolute path",
            )
        },
        "pve-volume-id" => |v| {
            ok_if(
                re(r"^(?i:[a-z][a-z0-9\-\_\.]*[a-z0-9]):(.+)$", v),
                format!("unable to parse volume ID '{v}'"),
            )
        },
        "pve-storage-content" => |v| {
            ok_if(
                matches!(
                    v,
                    "images"
                        | "rootdir"
                        | "vztmpl"
                        | "iso"
                        | "backup"
                        | "snippets"
                        | "import"
                        | "none"
                ),
                format!("invalid content type '{v}'"),
            )
        },
        "pve-day-of-week" => |v| {
            ok_if(
                matches!(v, "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun"),
                format!("invalid day of week '{v}'"),
            )
        },
        "storage-pair" => |v| check_id_pair(v, |id| parse_id(id, "storage")),
        "bridge-pair" => |v| {
            check_id_pair(v, |id| {
                ok_if(re(r"^[-_.\w\d]+$", id), format!("invalid bridge ID '{id}'"))
            })
        },
        _ => return None,
    })
}

fn ok_if(cond: bool, msg: impl Into<String>) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(msg.into())
    }
}

/// Matches `v` against one of the fixed format regexes (compiled once each).
fn re(pattern: &'static str, v: &str) -> bool {
    static CACHE: OnceLock<regex_cache::Cache> = OnceLock::new();
    CACHE
        .get_or_init(regex_cache::Cache::default)
        .is_match(pattern, v)
}

mod regex_cache {
    use std::collections::HashMap;
    use std::sync::RwLock;

    use fancy_regex::Regex;

    /// Compiled regexes of the fixed formats, keyed by the static pattern's address-stable text.
    #[derive(Default)]
    pub struct Cache(RwLock<HashMap<&'static str, Regex>>);

    impl Cache {
        pub fn is_match(&self, pattern: &'static str, v: &str) -> bool {
            if let Ok(map) = self.0.read() {
                if let Some(re) = map.get(pattern) {
                    return re.is_match(v).unwrap_or(false);
                }
            }
            let Ok(re) = Regex::new(pattern) else {
                return false;
            };
            let hit = re.is_match(v).unwrap_or(false);
            if let Ok(mut map) = self.0.write() {
                map.insert(pattern, re);
            }
            hit
        }
    }
}

fn parse_id(id: &str, kind: &str) -> Result<(), String> {
    ok_if(
        re(r"^(?i:[a-z][a-z0-9\-\_\.]*[a-z0-9])$", id),
        format!("{kind} ID '{id}' contains illegal characters"),
    )
}

fn check_id_pair(v: &str, check: fn(&str) -> Result<(), String>) -> Result<(), String> {
    if v == "1" {
        return Ok(());
    }
    let ids: Vec<&str> = match v.split_once(':') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() && !b.contains(':') => vec![a, b],
        Some(_) => return Err(format!("entry '{v}' contains invalid ID - invalid format")),
        None => vec![v],
    };
    for id in ids {
        check(id).map_err(|e| format!("entry '{v}' contains invalid ID - {e}"))?;
    }
    Ok(())
}

fn is_node_name(v: &str) -> bool {
    re(r"^([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)$", v)
}

fn is_dns_name(v: &str) -> bool {
    re(
        r"^(([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)\.)*([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)$",
        v,
    )
}

fn is_email(v: &str) -> bool {
    re(
        r"^[\w+\-~]+(\.[\w+\-~]+)*@[a-zA-Z0-9\-]+(\.[a-zA-Z0-9\-]+)*$",
        v,
    )
}

fn is_ipv4(v: &str) -> bool {
    v.parse::<Ipv4Addr>().is_ok()
}

fn is_ipv6(v: &str) -> bool {
    v.parse::<Ipv6Addr>().is_ok()
}

fn cidr_bits(v: &str) -> Option<(&str, u32)> {
    let (addr, bits) = v.split_once('/')?;
    if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) || bits.len() > 3 {
        return None;
    }
    Some((addr, bits.parse().ok()?))
}

fn is_cidr_v4(v: &str) -> bool {
    cidr_bits(v).is_some_and(|(a, b)| is_ipv4(a) && b > 7 && b <= 32)
}

fn is_cidr_v6(v: &str) -> bool {
    cidr_bits(v).is_some_and(|(a, b)| is_ipv6(a) && b > 7 && b <= 128)
}

/// Prefix length of a dotted IPv4 netmask (`255.255.255.0` -> 24).
pub fn ipv4_mask_bits(v: &str) -> Option<u32> {
    let mask = u32::from(v.parse::<Ipv4Addr>().ok()?);
    let bits = mask.leading_ones();
    (mask.checked_shl(bits).unwrap_or(0) == 0).then_some(bits)
}

fn is_startup_order(v: &str) -> bool {
    if v.is_empty() {
        return false;
    }
    v.split(',')
        .filter(|p| !p.trim().is_empty())
        .all(|p| re(r"^(order=)?\d+$", p) || re(r"^up=\d+$", p) || re(r"^down=\d+$", p))
}

fn check_vlan_id_or_range(v: &str) -> Result<(), String> {
    let invalid = || format!("invalid VLAN configuration '{v}'");
    let (start, end) = match v.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (v, None),
    };
    let parse = |s: &str| -> Result<u32, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let tag: u32 = s.parse().map_err(|_| invalid())?;
        ok_if((2..=4094).contains(&tag), format!("invalid VLAN tag '{s}'"))?;
        Ok(tag)
    };
    let start = parse(start)?;
    if let Some(end) = end {
        let end = parse(end)?;
        ok_if(
            start < end,
            format!("VLAN range must go from lower to higher tag '{v}'"),
        )?;
    }
    Ok(())
}

/// Translates a PVE (Perl) regex into one `fancy_regex` (and ECMA-262 engines) accept:
/// `(?^i:...)` flag groups, `{,n}` quantifiers and `\0`.
pub fn translate_perl_regex(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let next = chars[i + 1];
            if next == '0' && !chars.get(i + 2).is_some_and(char::is_ascii_digit) {
                out.push_str("\\x00");
            } else {
                out.push(c);
                out.push(next);
            }
            i += 2;
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push(c);
                // A `]` right after `[` or `[^` is literal.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '(' if chars.get(i + 1) == Some(&'?') && chars.get(i + 2) == Some(&'^') => {
                // `(?^flags:` -> `(?flags:` keeping only flags both engines know.
                let mut j = i + 3;
                let mut flags = String::new();
                while j < chars.len() && chars[j].is_ascii_alphabetic() {
                    if matches!(chars[j], 'i' | 'm' | 's' | 'x') {
                        flags.push(chars[j]);
                    }
                    j += 1;
                }
                out.push_str("(?");
                out.push_str(&flags);
                i = j;
                continue;
            }
            '{' if chars.get(i + 1) == Some(&',') => {
                out.push_str("{0");
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// Compiles a PVE `pattern` anchored at both ends (PVE matches `^$pattern$`); `None` when
/// the pattern uses Perl syntax we cannot translate.
///
/// The Rust products (PBS, PDM) print their regexes between slashes (`/^[a-z]+$/`) and
/// match them unanchored, as the `regex` crate does: those are taken as they are.
pub fn compile_pattern(pattern: &str) -> Option<Regex> {
    if let Some(body) = slash_delimited(pattern) {
        return Regex::new(body).ok();
    }
    Regex::new(&format!("^(?:{})$", translate_perl_regex(pattern))).ok()
}

/// The body of a `/.../` regex as the Rust products print it (`/^...$/`, `/(?m)^...$/`).
fn slash_delimited(pattern: &str) -> Option<&str> {
    let body = pattern.strip_prefix('/')?.strip_suffix('/')?;
    (body.starts_with('^') || body.starts_with("(?")).then_some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_formats() {
        assert!(check_named_format("pve-vmid", "100").is_ok());
        assert_eq!(
            check_named_format("pve-vmid", "99"),
            Err("value does not look like a valid VM ID".into())
        );
        assert!(check_named_format("pve-node", "pve-1").is_ok());
        assert!(check_named_format("pve-storage-path", "/srv/a b").is_ok());
        assert_eq!(
            check_named_format("pve-storage-path", "srv"),
            Err("value does not look like a valid absolute path".into())
        );
        assert!(check_named_format("pve-node", "-pve").is_err());
        assert!(check_named_format("ip", "10.0.0.1").is_ok());
        assert!(check_named_format("ip", "fe80::1").is_ok());
        assert!(check_named_format("ip", "10.0.0.256").is_err());
        assert!(check_named_format("CIDR", "10.0.0.0/8").is_ok());
        assert!(check_named_format("CIDR", "10.0.0.0/7").is_err());
        assert!(check_named_format("mac-addr", "BC:24:11:00:00:01").is_ok());
        assert_eq!(
            check_named_format("mac-addr", "01:00:00:00:00:00"),
            Err("value does not look like a valid unicast MAC address".into())
        );
        assert_eq!(
            check_named_format("pve-storage-id", "local lvm"),
            Err("storage ID 'local lvm' contains illegal characters".into())
        );
        assert!(check_named_format("pve-configid-list", "net0, scsi1;ide2").is_ok());
        assert_eq!(
            check_named_format("pve-configid-list", "net0,9x"),
            Err("invalid configuration ID '9x'".into())
        );
        assert!(check_named_format("pve-vmid-opt", "").is_ok());
        assert!(check_named_format("storage-pair-list", "local:other,1").is_ok());
        assert!(check_named_format("pve-vlan-id-or-range", "10-20").is_ok());
        assert_eq!(
            check_named_format("pve-vlan-id-or-range", "20-10"),
            Err("VLAN range must go from lower to higher tag '20-10'".into())
        );
        assert!(check_named_format("some-plugin-format", "anything").is_ok());
        assert_eq!(ipv4_mask_bits("255.255.255.0"), Some(24));
        assert_eq!(ipv4_mask_bits("255.0.255.0"), None);
    }

    #[test]
    fn perl_regex_translation() {
        assert_eq!(translate_perl_regex("(?^i:[a-z]+)"), "(?i:[a-z]+)");
        assert_eq!(translate_perl_regex("(?^:x)(?^u:y)"), "(?:x)(?:y)");
        assert_eq!(translate_perl_regex("[a-z]{,8}"), "[a-z]{0,8}");
        assert_eq!(translate_perl_regex(r"a\0b"), r"a\x00b");
        assert_eq!(translate_perl_regex(r"[\(\)-_]"), r"[\(\)-_]");
        let re = compile_pattern(r"(?^i:[a-z0-9_][a-z0-9_\-\+\.]*)").unwrap();
        assert!(re.is_match("Tag-1").unwrap());
        assert!(!re.is_match("x y").unwrap());
        let re = compile_pattern("[A-Za-z0-9\\-_\\s]{,16}").unwrap();
        assert!(re.is_match("").unwrap());
        assert!(!re.is_match("12345678901234567").unwrap());
    }
}
