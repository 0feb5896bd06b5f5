"""The real transports against real peers on 127.0.0.1: HTTPS to our TLS server, ``local``
running a fake ``pvesh``, ``openssh`` (the ssh binary) and ``ssh_paramiko`` (russh)
against a real OpenSSH server whose PATH holds that fake. One scenario table runs over
every backend and must give the same results (the backend-parity suite)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from proxmox_sdk import Files, ProxmoxSDK
from proxmox_sdk.sdk.api import isolated_namespace
from proxmox_sdk.sdk.exceptions import (
    AuthenticationError,
    ProxmoxConnectionError,
    ResourceException,
    ValidationError,
)
from proxmox_sdk.server import start

UPID = re.compile(r"UPID:[^:]+:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:[a-z]+:[^:]*:[^:]+:")


def normalize(value: Any) -> Any:
    """UPIDs carry times and pids; the rest must match exactly."""
    if isinstance(value, str):
        return UPID.sub("UPID", value)
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, dict):
        # Times, and what PVE generates at random for each VM (with the digest over it).
        skip = {"ctime", "uptime", "meta", "smbios1", "vmgenid", "digest"}
        return {k: normalize(v) for k, v in value.items() if k not in skip}
    return value


def scenario(px: Any, iso: Path) -> list[Any]:
    """A VM's life and some failures; each step's answer or error, normalized."""
    vm = px.nodes("pve1").qemu(100)
    steps = [
        lambda: px.version.get(),
        lambda: px.nodes("pve1").qemu.post(vmid=100, name="web", memory=2048, onboot=True),
        lambda: vm.config.get(),
        lambda: vm.config.put(memory=4096, cores=2, delete=["onboot"]),
        lambda: vm.config.get(),
        lambda: vm.status.start.post(),
        lambda: {k: vm.status.current.get()[k] for k in ("status", "vmid", "name")},
        lambda: vm.status.start.post(),
        lambda: px.nodes("pve1").qemu(999).config.get(),
        lambda: px.nodes("pve1").qemu.post(vmid="abc"),
        lambda: px.nodes("pve1").qemu.post(vmid=100),
        lambda: vm.status.stop.post(),
        lambda: Files(px, "pve1", "local").upload_local_file_to_storage(iso),
        lambda: px.nodes("pve1").storage("local").content.get(content="iso"),
        lambda: px("cluster/resources").get(type="vm")[0]["status"],
        lambda: vm.delete(),
        lambda: px("cluster/resources").get(type="vm"),
        lambda: vm.status.current.get(),
        lambda: px.pools.post(poolid="ops", comment='it\'s a "quoted" $HOME; rm -rf /'),
        lambda: px.pools("ops").get()["comment"],
    ]
    out: list[Any] = []
    for step in steps:
        try:
            out.append(("ok", normalize(step())))
        except ValidationError as e:
            out.append(("invalid", e.status_code, sorted(e.errors or {})))
        except ResourceException as e:
            out.append(("error", e.status_code, normalize(e.content)))
    return out


@pytest.fixture
def iso(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.iso"
    p.write_bytes(bytes(range(256)) * 64)
    return p


@pytest.fixture
def server() -> Any:
    srv = start(tls=True, namespace=isolated_namespace("transport"))
    yield srv
    srv.stop()


@pytest.fixture
def plain_server() -> Any:
    """What the fake pvesh talks to (plain HTTP, no auth: pvesh runs as root on a node)."""
    srv = start(no_auth=True, namespace=isolated_namespace("pvesh"))
    yield srv
    srv.stop()


def test_https_sdk_sync_and_async(server: Any, iso: Path) -> None:
    host = server.url.removeprefix("https://")
    kw = {"host": host, "user": "root@pam", "password": server.password}
    px = ProxmoxSDK.sync(fingerprint=server.fingerprint, **kw)
    assert px.version.get()["release"] == "9.2"
    ticket, csrf = px.get_tokens()
    assert ticket.startswith("PVE:root@pam:") and csrf
    # Without the pin the self-signed certificate is refused; verify_ssl=False accepts it.
    with pytest.raises(ProxmoxConnectionError, match="certificate"):
        ProxmoxSDK.sync(**kw).version.get()
    assert ProxmoxSDK.sync(verify_ssl=False, **kw).version.get()["release"] == "9.2"
    with pytest.raises(AuthenticationError, match="401"):
        ProxmoxSDK.sync(fingerprint=server.fingerprint, **{**kw, "password": "nope"}).nodes.get()

    async def run() -> None:
        async with ProxmoxSDK(fingerprint=server.fingerprint, **kw) as apx:
            answers = await asyncio.gather(*(apx.nodes("pve1").qemu.get() for _ in range(25)))
            assert answers == [[]] * 25
            upid = await apx.nodes("pve1").qemu.post(vmid=200, name="async")
            assert UPID.fullmatch(upid)
            with pytest.raises(ResourceException) as e:
                await apx.nodes("pve1").qemu(201).config.get()
            assert e.value.status_code == 500
            assert "201.conf' does not exist" in e.value.content
            task = await Files(apx, "pve1", "local").upload_local_file_to_storage(iso)
            assert UPID.fullmatch(task)

    asyncio.run(run())


def test_https_upload_of_500_mb_keeps_memory_flat(server: Any, tmp_path: Path) -> None:
    """A 500 MB file (sparse, so the test costs no disk) goes up in a separate process
    whose peak RSS must stay far below the file size."""
    big = tmp_path / "big.iso"
    with open(big, "wb") as f:
        f.truncate(500 * 1024 * 1024)
    script = textwrap.dedent(
        f"""
        import resource, sys
        from proxmox_sdk import Files, ProxmoxSDK
        px = ProxmoxSDK.sync(host={server.url.removeprefix("https://")!r}, user="root@pam",
                             password={server.password!r}, fingerprint={server.fingerprint!r})
        px.version.get()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        Files(px, "pve1", "local").upload_local_file_to_storage(
            {str(big)!r}, checksum=False, timeout=600)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(before, after)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    before_kb, after_kb = map(int, out.stdout.split())
    assert after_kb - before_kb < 64 * 1024, f"peak RSS grew by {after_kb - before_kb} KiB"
    px = ProxmoxSDK.sync(
        host=server.url.removeprefix("https://"),
        user="root@pam",
        password=server.password,
        fingerprint=server.fingerprint,
    )
    content = px.nodes("pve1").storage("local").content.get()
    assert [(c["volid"], c["size"]) for c in content] == [("local:iso/big.iso", 500 * 1024 * 1024)]


def _backend_sdk(backend: str, *, server: Any, plain_server: Any, sshd: Any) -> Any:
    if backend == "mock":
        return ProxmoxSDK.sync_mock(mock_namespace=isolated_namespace("parity"))
    if backend == "https":
        return ProxmoxSDK.sync(
            host=server.url.removeprefix("https://"),
            user="root@pam",
            password=server.password,
            fingerprint=server.fingerprint,
        )
    if backend == "local":
        return ProxmoxSDK.sync(backend="local", timeout=30)
    if backend == "openssh":
        return ProxmoxSDK.sync(
            host="127.0.0.1",
            backend="openssh",
            port=sshd.port,
            user=sshd.user,
            identity_file=str(sshd.key),
            config_file="/dev/null",
            ssh_options=sshd.ssh_options(),
            timeout=30,
        )
    return ProxmoxSDK.sync(
        host="127.0.0.1",
        backend="ssh_paramiko",
        port=sshd.port,
        user=sshd.user,
        private_key_file=str(sshd.key),
        known_hosts_file=str(sshd.known_hosts),
        timeout=30,
    )


BACKENDS = ["mock", "https", "local", "openssh", "ssh_paramiko"]


def _run_scenario(
    backend: str, *, server: Any, plain_server: Any, sshd: Any, fake_pvesh: Any, iso: Path
) -> list[Any]:
    """The scenario on `backend`, against a fresh PVE; the pvesh backends reach it through
    the fake, which also prints a Perl warning before the JSON of every read."""
    fresh = start(no_auth=True, namespace=isolated_namespace("parity"))
    try:
        fake_pvesh.point_at(fresh.url, junk=True)
        if backend == "https":
            srv = start(tls=True, namespace=isolated_namespace("parity"))
            try:
                px = ProxmoxSDK.sync(
                    host=srv.url.removeprefix("https://"),
                    user="root@pam",
                    password=srv.password,
                    fingerprint=srv.fingerprint,
                )
                return scenario(px, iso)
            finally:
                srv.stop()
        px = _backend_sdk(backend, server=server, plain_server=plain_server, sshd=sshd)
        result = scenario(px, iso)
        if backend in {"local", "openssh", "ssh_paramiko"}:
            calls = fake_pvesh.calls()
            assert calls, f"{backend} never ran pvesh"
            assert all("--output-format" in c for c in calls)
        return result
    finally:
        fresh.stop()


@pytest.fixture
def mock_reference(
    server: Any, plain_server: Any, sshd: Any, fake_pvesh: Any, iso: Path
) -> list[Any]:
    """The scenario on the in-process mock: what every other backend must answer."""
    return _run_scenario(
        "mock", server=server, plain_server=plain_server, sshd=sshd, fake_pvesh=fake_pvesh, iso=iso
    )


def test_the_parity_scenario_means_something(mock_reference: list[Any]) -> None:
    reference = mock_reference
    assert reference[0][1]["release"] == "9.2"
    assert reference[1] == ("ok", "UPID")
    assert reference[2][1]["memory"] in (2048, "2048")
    assert reference[8] == (
        "error",
        500,
        "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist",
    )
    assert reference[9] == ("invalid", 400, ["vmid"])
    assert reference[13][1][0]["volid"] == "local:iso/tiny.iso"
    assert reference[16] == ("ok", [])
    assert reference[19] == ("ok", 'it\'s a "quoted" $HOME; rm -rf /')


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "mock"])
def test_backend_parity(
    backend: str,
    mock_reference: list[Any],
    server: Any,
    plain_server: Any,
    sshd: Any,
    fake_pvesh: Any,
    iso: Path,
    monkeypatch: Any,
) -> None:
    """Every backend answers the scenario exactly as the in-process mock does."""
    monkeypatch.setenv("PATH", f"{fake_pvesh.bin_dir}:{os.environ['PATH']}")
    got_all = _run_scenario(
        backend, server=server, plain_server=plain_server, sshd=sshd, fake_pvesh=fake_pvesh, iso=iso
    )
    for i, (want, got) in enumerate(zip(mock_reference, got_all, strict=True)):
        assert got == want, f"{backend} differs at step {i}: {got!r} != {want!r}"


def test_local_backend_errors(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    px = ProxmoxSDK.sync(backend="local")
    with pytest.raises(ResourceException, match="'pvesh' not found on PATH") as e:
        px.version.get()
    assert e.value.exit_code == 127
    slow = tmp_path / "pvesh"
    slow.write_text("#!/bin/sh\nexec /bin/sleep 5\n")
    slow.chmod(0o755)
    from proxmox_sdk.sdk.exceptions import ProxmoxTimeoutError

    with pytest.raises(ProxmoxTimeoutError, match="killed"):
        ProxmoxSDK.sync(backend="local", timeout=0.3).version.get()


def test_agent_exec_command_is_split_for_pvesh(
    plain_server: Any, fake_pvesh: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("PATH", f"{fake_pvesh.bin_dir}:{os.environ['PATH']}")
    fake_pvesh.point_at(plain_server.url)
    px = ProxmoxSDK.sync(backend="local", sudo=False)
    # The agent answers only when configured and running, as on PVE.
    px.nodes("pve1").qemu.post(vmid=100, agent="1")
    px.nodes("pve1").qemu(100).status.start.post()
    px.nodes("pve1").qemu(100).agent.exec.post(command="ls -l '/tmp/my dir'")
    last = fake_pvesh.calls()[-1]
    assert last[:2] == ["create", "/nodes/pve1/qemu/100/agent/exec"]
    assert last[-6:] == ["-command", "ls", "-command", "-l", "-command", "/tmp/my dir"]


def test_russh_logins_and_host_keys(sshd: Any, fake_pvesh: Any, plain_server: Any) -> None:
    fake_pvesh.point_at(plain_server.url)
    base = {"host": "127.0.0.1", "backend": "ssh_paramiko", "port": sshd.port, "user": sshd.user}
    # PEM key with a passphrase, host key pinned by fingerprint.
    px = ProxmoxSDK.sync(
        private_key_file=str(sshd.pem_key),
        private_key_passphrase=sshd.pem_passphrase,
        host_key_fingerprint=sshd.host_fingerprint,
        **base,
    )
    assert px.version.get()["release"] == "9.2"
    # Without the passphrase the key cannot be read, and the error says so.
    with pytest.raises(AuthenticationError, match="passphrase"):
        ProxmoxSDK.sync(
            private_key_file=str(sshd.pem_key),
            host_key_fingerprint=sshd.host_fingerprint,
            **base,
        ).version.get()
    # A key the server does not know is refused.
    other = sshd.dir / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    with pytest.raises(AuthenticationError, match="refused"):
        ProxmoxSDK.sync(
            private_key_file=str(other), host_key_fingerprint=sshd.host_fingerprint, **base
        ).version.get()
    # Unknown host: refused by default, recorded with accept-new, then trusted.
    fresh_known = sshd.dir / "fresh_known_hosts"
    with pytest.raises(ProxmoxConnectionError, match="unknown host key"):
        ProxmoxSDK.sync(
            private_key_file=str(sshd.key), known_hosts_file=str(fresh_known), **base
        ).version.get()
    ProxmoxSDK.sync(
        private_key_file=str(sshd.key),
        known_hosts_file=str(fresh_known),
        accept_new_host_key=True,
        **base,
    ).version.get()
    assert "ssh-ed25519" in fresh_known.read_text()
    ProxmoxSDK.sync(
        private_key_file=str(sshd.key), known_hosts_file=str(fresh_known), **base
    ).version.get()
    # A changed key (known_hosts holds another one) is refused, even with accept-new.
    changed = sshd.dir / "changed_known_hosts"
    stranger_pub = (sshd.dir / "stranger.pub").read_text().split()
    changed.write_text(f"[127.0.0.1]:{sshd.port} {stranger_pub[0]} {stranger_pub[1]}\n")
    with pytest.raises(ProxmoxConnectionError, match="host key mismatch"):
        ProxmoxSDK.sync(
            private_key_file=str(sshd.key),
            known_hosts_file=str(changed),
            accept_new_host_key=True,
            **base,
        ).version.get()
    with pytest.raises(ProxmoxConnectionError, match="pinned fingerprint"):
        ProxmoxSDK.sync(
            private_key_file=str(sshd.key),
            host_key_fingerprint="SHA256:" + "A" * 43,
            **base,
        ).version.get()


def test_openssh_refuses_a_changed_host_key(sshd: Any) -> None:
    changed = sshd.dir / "openssh_changed"
    stranger = sshd.dir / "stranger2"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    pub = (sshd.dir / "stranger2.pub").read_text().split()
    changed.write_text(f"[127.0.0.1]:{sshd.port} {pub[0]} {pub[1]}\n")
    px = ProxmoxSDK.sync(
        host="127.0.0.1",
        backend="openssh",
        port=sshd.port,
        user=sshd.user,
        identity_file=str(sshd.key),
        config_file="/dev/null",
        ssh_options=[f"UserKnownHostsFile={changed}", "StrictHostKeyChecking=yes"],
    )
    with pytest.raises(ProxmoxConnectionError, match="(?i)host key"):
        px.version.get()


def test_ssh_uploads_go_to_a_unique_temp_file_that_is_removed(
    sshd: Any, fake_pvesh: Any, plain_server: Any, iso: Path
) -> None:
    fake_pvesh.point_at(plain_server.url)
    for backend, extra in (
        (
            "ssh_paramiko",
            {"private_key_file": str(sshd.key), "known_hosts_file": str(sshd.known_hosts)},
        ),
        (
            "openssh",
            {
                "identity_file": str(sshd.key),
                "config_file": "/dev/null",
                "ssh_options": sshd.ssh_options(),
            },
        ),
    ):
        px = ProxmoxSDK.sync(
            host="127.0.0.1", backend=backend, port=sshd.port, user=sshd.user, **extra
        )
        before = set(Path("/var/tmp").glob("pveupload-*"))
        upid = Files(px, "pve1", "local").upload_local_file_to_storage(
            iso, remote_filename=f"{backend}.iso"
        )
        assert UPID.fullmatch(upid)
        call = fake_pvesh.calls()[-1]
        tmp = call[call.index("-tmpfilename") + 1]
        assert re.fullmatch(r"/var/tmp/pveupload-[0-9a-f]+", tmp)
        assert set(Path("/var/tmp").glob("pveupload-*")) == before, "temp file left behind"
    import requests

    content = requests.get(
        f"{plain_server.url}/api2/json/nodes/pve1/storage/local/content", timeout=10
    ).json()["data"]
    assert sorted(c["volid"] for c in content) == [
        "local:iso/openssh.iso",
        "local:iso/ssh_paramiko.iso",
    ]
    assert {c["size"] for c in content} == {iso.stat().st_size}


def test_first_connection_failures_say_how_to_fix_them() -> None:
    """A newcomer's two first failures: the README's plain-HTTP server reached as
    ``host="127.0.0.1:PORT"`` (TLS), and a self-signed certificate. Both are
    ``ProxmoxConnectionError`` whose text is the transport's own plus the fix."""
    from proxmox_sdk import ProxmoxConnectionError, SyncProxmoxSDK
    from proxmox_sdk.server import start

    plain = start(namespace=None)
    try:
        host = plain.url.removeprefix("http://")
        px = SyncProxmoxSDK(host, user="root@pam", password=plain.password, timeout=10)
        with pytest.raises(ProxmoxConnectionError) as e:
            px.version.get()
        text = str(e.value)
        assert 'host="http://HOST:PORT"' in text and not text.startswith("HTTP 503"), text
        assert e.value.status_code == 503  # as the original package had it
        px.close()
        # The hint's fix works.
        px = SyncProxmoxSDK(plain.url, user="root@pam", password=plain.password)
        assert px.version.get()["release"]
        px.close()
    finally:
        plain.stop()
    tls = start(tls=True, namespace=None)
    try:
        host = tls.url.removeprefix("https://")
        px = SyncProxmoxSDK(host, user="root@pam", password=tls.password, timeout=10)
        with pytest.raises(ProxmoxConnectionError) as e:
            px.version.get()
        text = str(e.value)
        assert "UnknownIssuer" in text and 'fingerprint="AA:BB:..."' in text, text
        px.close()
        px = SyncProxmoxSDK(
            host, user="root@pam", password=tls.password, fingerprint=tls.fingerprint
        )
        assert px.version.get()["release"]
        px.close()
    finally:
        tls.stop()
