//! The appliance index (`/nodes/{node}/aplinfo`, what `pveam available` lists) and its
//! downloads into a storage's `vztmpl` content, from which containers are created.
//!
//! The catalogue is a fixed excerpt of Proxmox's index (`aplinfo.dat`: system templates and
//! one TurnKey appliance) with the fields PVE lists; the checksums are stand-ins (the
//! SHA-512 of the file name), since nothing is downloaded.

use serde_json::{json, Map, Value};

use super::computed::Computed;
use super::messages::err500;
use super::{volumes, Ctx};
use crate::api::{ApiError, Method};

pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/nodes/{node}/aplinfo", list),
    (Method::Post, "/nodes/{node}/aplinfo", download),
];

/// (package, version, architecture, headline, section, extension) of each appliance.
const CATALOGUE: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "alpine-3.22-default",
        "20250617",
        "amd64",
        "Alpine Linux 3.22",
        "system",
        "tar.xz",
    ),
    (
        "almalinux-9-default",
        "20240911",
        "amd64",
        "AlmaLinux 9",
        "system",
        "tar.xz",
    ),
    (
        "archlinux-base",
        "20240911-1",
        "amd64",
        "Arch Linux base",
        "system",
        "tar.zst",
    ),
    (
        "centos-9-stream-default",
        "20240828",
        "amd64",
        "CentOS 9 Stream",
        "system",
        "tar.xz",
    ),
    (
        "debian-12-standard",
        "12.12-1",
        "amd64",
        "Debian 12 Bookworm (standard)",
        "system",
        "tar.zst",
    ),
    (
        "debian-13-standard",
        "13.1-2",
        "amd64",
        "Debian 13 Trixie (standard)",
        "system",
        "tar.zst",
    ),
    (
        "fedora-42-default",
        "20250428",
        "amd64",
        "Fedora 42",
        "system",
        "tar.xz",
    ),
    (
        "rockylinux-9-default",
        "20240912",
        "amd64",
        "Rocky Linux 9",
        "system",
        "tar.xz",
    ),
    (
        "ubuntu-24.04-standard",
        "24.04-2",
        "amd64",
        "Ubuntu 24.04 Noble (standard)",
        "system",
        "tar.zst",
    ),
    (
        "debian-12-turnkey-wordpress",
        "18.1-1",
        "amd64",
        "TurnKey WordPress",
        "turnkeylinux",
        "tar.gz",
    ),
];

/// The file name of a catalogue entry (`debian-12-standard_12.12-1_amd64.tar.zst`).
fn template_name(entry: &(&str, &str, &str, &str, &str, &str)) -> String {
    let (package, version, arch, _, _, ext) = entry;
    format!("{package}_{version}_{arch}.{ext}")
}

/// One appliance as `GET /nodes/{node}/aplinfo` lists it.
fn appliance(entry: &(&str, &str, &str, &str, &str, &str)) -> Value {
    use sha2::Digest;
    let (package, version, arch, headline, section, _) = *entry;
    let template = template_name(entry);
    let (base, maintainer, infopage) = if section == "turnkeylinux" {
        (
            "https://releases.turnkeylinux.org/pve",
            "Anton Pyrogovskyi <anton@turnkeylinux.org>",
            format!(
                "https://www.turnkeylinux.org/{}",
                package.rsplit('-').next().unwrap_or(package)
            ),
        )
    } else {
        (
            "http://download.proxmox.com/images/system",
            "Proxmox Support Team <support@proxmox.com>",
            "https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions".to_string(),
        )
    };
    let os = package.rsplit_once('-').map_or(package, |(os, _)| os);
    let sha512: String = sha2::Sha512::digest(template.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let location = format!("{base}/{template}");
    json!({
        "architecture": arch,
        "description": format!("{headline}\n A small {headline} system."),
        "headline": headline,
        "infopage": infopage,
        "location": location,
        "maintainer": maintainer,
        "os": os,
        "package": package,
        "section": section,
        "sha512sum": sha512,
        "source": location,
        "template": template,
        "type": "lxc",
        "version": version,
    })
}

fn list(_ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(Value::Array(CATALOGUE.iter().map(appliance).collect()))
}

/// PVE's `apl_download`: the template must be in the index and the storage take `vztmpl`
/// content; the `download` task then puts it in the storage's content.
fn download(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let text = |k: &str| {
        ctx.params
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let (storage, template) = (text("storage"), text("template"));
    let node = super::path_param(ctx.path_params, "node").unwrap_or_default();
    if ctx.mock.lenient() {
        return Ok(ctx.mock.answer(ctx));
    }
    if !CATALOGUE.iter().any(|e| template_name(e) == template) {
        return Err(ApiError::params([("template", "no such template")]));
    }
    let content = ctx.store().read(|s| {
        s.members
            .get("storage")
            .and_then(|m| m.get(storage))
            .map(|r| {
                r.config
                    .get("content")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            })
    });
    let Some(content) = content else {
        return Err(err500(format!("storage '{storage}' does not exist")));
    };
    if !content.split(',').any(|c| c.trim() == "vztmpl") {
        return Err(err500(format!(
            "storage '{storage}' does not support templates"
        )));
    }
    let upid = ctx.mock.new_upid_with_id(ctx, ctx.path_params, template);
    let mut fields = Map::new();
    fields.insert("content".into(), json!("vztmpl"));
    // A plausible size for a compressed root file system (stand-in, nothing is fetched).
    fields.insert(
        "size".into(),
        json!(126_000_000u64 + template.len() as u64 * 4096),
    );
    let volid = volumes::file_volid(storage, "vztmpl", template);
    ctx.mock.add_volume(node, storage, &volid, fields);
    ctx.mock.record_task(&upid, Ok(()));
    Ok(Value::String(upid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_appliance_has_pves_fields_and_a_unique_name() {
        let all: Vec<Value> = CATALOGUE.iter().map(appliance).collect();
        let mut names: Vec<&str> = all
            .iter()
            .map(|a| a["template"].as_str().unwrap())
            .collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len());
        for a in &all {
            for k in [
                "package",
                "version",
                "os",
                "headline",
                "section",
                "type",
                "location",
                "sha512sum",
            ] {
                assert!(a[k].as_str().is_some_and(|v| !v.is_empty()), "{k} of {a}");
            }
            assert_eq!(a["sha512sum"].as_str().unwrap().len(), 128);
            assert!(a["location"]
                .as_str()
                .unwrap()
                .ends_with(a["template"].as_str().unwrap()));
        }
        assert_eq!(
            all[4]["template"],
            "debian-12-standard_12.12-1_amd64.tar.zst"
        );
        assert_eq!(all[4]["os"], "debian-12");
    }
}
