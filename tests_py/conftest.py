"""Real peers for the transport tests: a fake ``pvesh`` on PATH that answers through our
mock server, and a real OpenSSH server (Debian's ``openssh-server``) started on 127.0.0.1
with generated host and user keys."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Refused (401) requests are answered at once in this suite; the servers hold them back
# 3 s by default, as PVE does (test_server_limits.py checks that).
os.environ.setdefault("PROXMOX_MOCK_AUTH_FAIL_DELAY", "0")

HERE = Path(__file__).resolve().parent
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
PASSWORD_USER = "pbx-ssh-test"
PASSWORD = "Pbx-test-password-42"


@dataclass
class FakePvesh:
    """The directory holding ``pvesh``/``pmgsh`` and the knobs of the fake."""

    bin_dir: Path

    def point_at(self, url: str, *, junk: bool = False) -> None:
        (self.bin_dir / "fake-pvesh.json").write_text(json.dumps({"url": url, "junk": junk}))
        (self.bin_dir / "calls.log").write_text("")

    def calls(self) -> list[list[str]]:
        text = (self.bin_dir / "calls.log").read_text()
        return [json.loads(line) for line in text.splitlines() if line]


@pytest.fixture(scope="session")
def fake_pvesh() -> Iterator[FakePvesh]:
    # World-readable, outside pytest's 0700 tmp tree, so sshd sessions of another user
    # could run it too.
    d = Path(tempfile.mkdtemp(prefix="pbx-fake-pvesh-"))
    d.chmod(0o755)
    shutil.copy(HERE / "fake_pvesh.py", d / "fake_pvesh.py")
    for name in ("pvesh", "pmgsh"):
        script = d / name
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{d}/fake_pvesh.py" "$@"\n')
        script.chmod(0o755)
    yield FakePvesh(d)
    shutil.rmtree(d, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path, *args: str) -> None:
    subprocess.run(["ssh-keygen", "-q", "-f", str(path), *args], check=True, capture_output=True)


@dataclass
class Sshd:
    """A running OpenSSH server and what clients need to reach it."""

    port: int
    dir: Path
    host_fingerprint: str
    known_hosts: Path
    key: Path
    pem_key: Path
    pem_passphrase: str
    user: str
    password_user: str | None
    password: str = PASSWORD

    def ssh_options(self) -> list[str]:
        return [f"UserKnownHostsFile={self.known_hosts}", "StrictHostKeyChecking=yes"]


def _password_user() -> str | None:
    """The local account with a password for password logins (`make system-deps` makes
    it: creating system users is the machine's setup, not a test's)."""
    if subprocess.run(["id", PASSWORD_USER], capture_output=True).returncode != 0:
        return None
    return PASSWORD_USER


@pytest.fixture(scope="session")
def sshd(fake_pvesh: FakePvesh) -> Iterator[Sshd]:
    if not os.path.exists(SSHD):
        pytest.fail(
            "sshd not found: the SSH transport tests need Debian's openssh-server "
            "(`make test` installs it)"
        )
    d = Path(tempfile.mkdtemp(prefix="pbx-sshd-"))
    d.chmod(0o755)
    _keygen(d / "host_ed25519", "-t", "ed25519", "-N", "")
    _keygen(d / "id_ed25519", "-t", "ed25519", "-N", "", "-C", "pbx-test")
    passphrase = "pem pass phrase"
    _keygen(d / "id_rsa_pem", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", passphrase)
    for key in ("id_ed25519", "id_rsa_pem"):
        (d / key).chmod(0o600)
    authorized = (d / "id_ed25519.pub").read_text() + (d / "id_rsa_pem.pub").read_text()
    (d / "authorized_keys").write_text(authorized)
    (d / "authorized_keys").chmod(0o644)
    port = _free_port()
    user = (
        os.environ.get("USER")
        or subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    )
    password_user = _password_user()
    path = f"{fake_pvesh.bin_dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    (d / "sshd_config").write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {d}/host_ed25519",
                f"AuthorizedKeysFile {d}/authorized_keys",
                f"PidFile {d}/sshd.pid",
                "StrictModes no",
                "UsePAM no",
                "PermitRootLogin yes",
                "PasswordAuthentication yes",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "Subsystem sftp internal-sftp",
                f"SetEnv PATH={path}",
                "LogLevel ERROR",
                "",
            ]
        )
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = open(d / "sshd.log", "w")  # noqa: SIM115 - closed at teardown, below
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(d / "sshd_config")],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sshd exited: {(d / 'sshd.log').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    host_pub = (d / "host_ed25519.pub").read_text().split()
    known = d / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    fp = subprocess.run(
        ["ssh-keygen", "-lf", str(d / "host_ed25519.pub")], capture_output=True, text=True
    ).stdout.split()[1]
    yield Sshd(
        port=port,
        dir=d,
        host_fingerprint=fp,
        known_hosts=known,
        key=d / "id_ed25519",
        pem_key=d / "id_rsa_pem",
        pem_passphrase=passphrase,
        user=user,
        password_user=password_user,
    )
    proc.terminate()
    proc.wait(timeout=10)
    log.close()
    shutil.rmtree(d, ignore_errors=True)
