"""Records through Python's ``logging``: one DEBUG line per request on every backend, INFO
for logins, WARNING for retries, re-logins and refused logins, and never a secret. Real
peers: our TLS server on 127.0.0.1 (with its test-control endpoints) and the test sshd."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import totp_helper
from proxmox_sdk import ProxmoxSDK
from proxmox_sdk.sdk.exceptions import AuthenticationError, ProxmoxConnectionError
from proxmox_sdk.server import serve


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self, logger: str | None = None, level: int | None = None) -> list[str]:
        return [
            r.getMessage()
            for r in self.records
            if (logger is None or r.name == logger) and (level is None or r.levelno == level)
        ]

    def text(self) -> str:
        return "\n".join(f"{r.name} {r.levelname} {r.getMessage()}" for r in self.records)


@pytest.fixture()
def capture() -> Iterator[Capture]:
    handler = Capture()
    logger = logging.getLogger("proxmox_sdk")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


@pytest.fixture(scope="module")
def server() -> Iterator[object]:
    with serve(tls=True, admin=True, admin_token="logging-admin") as s:
        yield s


def admin(server: object, endpoint: str, /, **data: object) -> None:
    r = httpx.post(
        f"{server.url}/_mock/{endpoint}",  # type: ignore[attr-defined]
        data=data,
        headers={"Authorization": "Bearer logging-admin"},
        verify=False,
    )
    r.raise_for_status()


def https(server: object, **kw: object) -> ProxmoxSDK:
    kw.setdefault("user", "root@pam")
    kw.setdefault("password", server.password)  # type: ignore[attr-defined]
    kw.setdefault("fingerprint", server.fingerprint)  # type: ignore[attr-defined]
    return ProxmoxSDK.sync(host=server.url, **kw)  # type: ignore[attr-defined]


def test_import_configures_nothing_and_prints_nothing() -> None:
    script = """
import logging, sys
root_handlers = list(logging.getLogger().handlers)
from proxmox_sdk import ProxmoxSDK
px = ProxmoxSDK.sync_mock(mock_namespace="quiet")
px.version.get()
try:
    px.nodes("pve1").qemu(1).config.get()
except Exception:
    pass
assert logging.getLogger().handlers == root_handlers, logging.getLogger().handlers
assert [type(h).__name__ for h in logging.getLogger("proxmox_sdk").handlers] == ["NullHandler"]
assert logging.getLogger().level == logging.WARNING
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and out.stderr == ""


def test_a_disabled_logger_gets_nothing_and_a_level_change_takes_effect(capture) -> None:
    px = ProxmoxSDK.sync_mock(mock_namespace="log-levels")
    logging.getLogger("proxmox_sdk").setLevel(logging.INFO)
    px.version.get()
    assert capture.lines() == []
    # Only the child logger is made verbose: it still takes effect at once.
    logging.getLogger("proxmox_sdk.mock").setLevel(logging.DEBUG)
    try:
        px.version.get()
    finally:
        logging.getLogger("proxmox_sdk.mock").setLevel(logging.NOTSET)
    assert len(capture.lines("proxmox_sdk.mock", logging.DEBUG)) == 1
    px.version.get()
    assert len(capture.lines()) == 1


def test_mock_requests_are_logged_at_debug(capture) -> None:
    px = ProxmoxSDK.sync_mock(mock_namespace="log-mock")
    px.version.get()
    with pytest.raises(Exception, match="does not exist"):
        px.nodes("pve1").qemu(4711).config.get()
    with pytest.raises(Exception, match="Parameter verification failed"):
        px.nodes("pve1").qemu.post(vmid="x", name="secret-name-value")
    lines = capture.lines("proxmox_sdk.mock", logging.DEBUG)
    assert lines[0].startswith("GET /api2/json/version -> 200 OK in ")
    assert lines[0].endswith(" ms (mock)")
    assert "GET /api2/json/nodes/pve1/qemu/4711/config -> 500 Configuration file" in lines[1]
    assert lines[2].startswith(
        "POST /api2/json/nodes/pve1/qemu -> 400 Parameter verification failed."
    )
    assert "secret-name-value" not in capture.text()


def test_https_requests_logins_and_failures(server, capture) -> None:
    px = https(server)
    px.version.get()
    assert capture.lines("proxmox_sdk.http", logging.INFO) == [
        f"logged in to {server.url} as root@pam"
    ]
    assert any(
        line.startswith("GET /api2/json/version -> 200 OK in ") and line.endswith("(https)")
        for line in capture.lines("proxmox_sdk.http", logging.DEBUG)
    )

    with pytest.raises(AuthenticationError):
        https(server, password="wrong-password").version.get()
    assert any(
        "login to" in line and "as root@pam failed: " in line and "401" in line
        for line in capture.lines("proxmox_sdk.http", logging.WARNING)
    )

    with pytest.raises(ProxmoxConnectionError):
        https(server, fingerprint=None).version.get()  # self-signed: not trusted
    assert any("UnknownIssuer" in line for line in capture.lines("proxmox_sdk.http"))


def test_retries_and_relogins_are_warnings(server, capture) -> None:
    px = https(server, max_retries=2, retry_backoff=0.01)
    px.version.get()
    admin(server, "faults", path="/version", status=503, message="busy", count=2)
    assert px.version.get()["release"]
    retries = [
        line
        for line in capture.lines("proxmox_sdk.http", logging.WARNING)
        if "GET /api2/json/version failed (503" in line
    ]
    assert len(retries) == 2, capture.text()
    assert retries[0].endswith("retry 1 of 2 in 0.0 s")

    admin(server, "tickets/expire")
    assert px.version.get()["release"]
    assert any(
        "401" in line and "logging in again and replaying once" in line
        for line in capture.lines("proxmox_sdk.http", logging.WARNING)
    )


def test_no_secret_in_any_record(server, capture) -> None:
    """A session with a password, an API token, a ticket and a TFA code: none of them (nor
    the CSRF token) appears in any record at DEBUG."""
    root = https(server)
    ticket, csrf = root.get_tokens()
    secret_b32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    bob_password = "bob-Secret-Passw0rd"
    root.access.users.post(userid="bob@pve", password=bob_password)
    uri = f"otpauth://totp/pve:bob@pve?secret={secret_b32}&issuer=pve"
    root.access.tfa("bob@pve").post(type="totp", totp=uri, value=totp_helper.code(secret_b32))
    token = root.access.users("root@pam").token("logtest").post(privsep=0)
    token_value = token["value"]

    code = totp_helper.code(secret_b32)
    bob = https(server, user="bob@pve", password=bob_password, otp=code)
    bob.version.get()
    bob_ticket, bob_csrf = bob.get_tokens()
    with pytest.raises(Exception, match="Permission check failed"):
        bob.nodes("pve1").qemu(4242).config.get()
    tok = https(server, password=None, token_name="logtest", token_value=token_value)
    tok.version.get()
    root.access.password.put(userid="bob@pve", password=bob_password + "2")

    text = capture.text()
    assert "logged in to" in text and "(second factor: totp)" in text
    for secret in (
        server.password,
        bob_password,
        token_value,
        ticket,
        csrf,
        bob_ticket,
        bob_csrf,
        code,
        secret_b32,
    ):
        assert secret not in text, secret


def test_ssh_logins_are_info(sshd, capture) -> None:
    px = ProxmoxSDK.sync(
        host="127.0.0.1",
        port=sshd.port,
        backend="ssh_paramiko",
        user=sshd.user,
        private_key_file=str(sshd.key),
        host_key_fingerprint=sshd.host_fingerprint,
    )
    try:
        px.version.get()
    except Exception:  # noqa: BLE001 - only the connection matters here
        pass
    assert any(
        line.startswith(f"connected to 127.0.0.1:{sshd.port} as {sshd.user} (private key)")
        for line in capture.lines("proxmox_sdk.ssh", logging.INFO)
    ), capture.text()
    assert any(line.endswith("(ssh_paramiko)") for line in capture.lines("proxmox_sdk.ssh"))
