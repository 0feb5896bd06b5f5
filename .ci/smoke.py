"""What an installed wheel must do on a clean interpreter: import lazily, run the mock
in-process (async and blocking), serve HTTP and answer it, and carry its licence files."""

import asyncio
import json
import sys
import urllib.request
from importlib import metadata

import proxmox_sdk
from proxmox_sdk import ProxmoxSDK, SyncProxmoxSDK
from proxmox_sdk.server import start

assert "site-packages" in proxmox_sdk.__file__, proxmox_sdk.__file__
px = SyncProxmoxSDK.mock()
px.nodes("pve1").qemu.post(vmid=100, name="smoke")
assert px.nodes("pve1").qemu(100).config.get()["name"] == "smoke"


async def main() -> str:
    async with ProxmoxSDK.mock() as api:
        versions = await asyncio.gather(*(api.version.get() for _ in range(10)))
    return versions[0]["release"]


assert asyncio.run(main()) == "9.2"
server = start(no_auth=True)
try:
    with urllib.request.urlopen(server.url + "/api2/json/version") as r:
        assert json.loads(r.read())["data"]["release"] == "9.2"
finally:
    server.stop()
dist = metadata.distribution("proxmox-sdk")
files = {str(f) for f in dist.files or []}
assert any(f.endswith("licenses/LICENSE") for f in files), sorted(files)[:20]
assert any(f.endswith("licenses/NOTICE") for f in files)
assert dist.metadata["License-Expression"] == "MIT AND AGPL-3.0-only"
print(f"smoke ok: proxmox-sdk {proxmox_sdk.__version__} on Python {sys.version.split()[0]}")
