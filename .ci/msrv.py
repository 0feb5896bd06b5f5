"""`rust-version` in Cargo.toml is true: the toolchain building this is at least that
version (cargo refuses otherwise), and no dependency in Cargo.lock declares a newer
`rust-version` than ours. Exit 1 naming every dependency that does."""

import json
import subprocess
import sys


def version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


meta = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
)
ours = next(p for p in meta["packages"] if p["name"] == "proxmox-sdk")
msrv = ours.get("rust_version")
if not msrv:
    sys.exit("error: Cargo.toml has no rust-version")
rustc = subprocess.run(["rustc", "--version"], check=True, capture_output=True, text=True).stdout
toolchain = rustc.split()[1].split("-")[0]
if version(toolchain) < version(msrv):
    sys.exit(f"error: rustc {toolchain} is older than rust-version {msrv}")
# Only the packages the build uses (normal and build dependencies of the workspace).
used = {n["id"] for n in meta["resolve"]["nodes"]}
newer = sorted(
    f"{p['name']} {p['version']} needs Rust {p['rust_version']}"
    for p in meta["packages"]
    if p["id"] in used and p.get("rust_version") and version(p["rust_version"]) > version(msrv)
)
if newer:
    sys.exit(f"error: rust-version {msrv} is too old for:\n  " + "\n  ".join(newer))
print(f"rust-version {msrv}: every dependency builds with it (toolchain {toolchain})")
