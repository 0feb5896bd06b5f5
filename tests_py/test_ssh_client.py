"""``proxmox_sdk.ssh.RemoteSSHClient`` against a real OpenSSH server on 127.0.0.1, called
with the original package's signature (the keyword names proxbox-api uses)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
from typing import Any

import pytest
from proxmox_sdk.ssh import (
    DEFAULT_REDACTORS,
    CommandNotAllowed,
    CommandResult,
    HostKeyMismatch,
    OutputTooLarge,
    RemoteSSHClient,
    SshAuthFailed,
    SshError,
    SshTimeout,
    fingerprint_sha256,
)


def client(sshd: Any, **kw: Any) -> RemoteSSHClient:
    """The original's call: username, known_host_fingerprint and the key as PEM text."""
    base: dict[str, Any] = {
        "port": sshd.port,
        "username": sshd.user,
        "private_key": sshd.key.read_text(),
        "known_host_fingerprint": sshd.host_fingerprint,
    }
    base.update(kw)
    return RemoteSSHClient("127.0.0.1", **base)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_proxbox_call_with_pem_text_allowlist_and_cap(sshd: Any) -> None:
    """Exactly the keyword names proxbox-api passes."""

    async def go() -> None:
        async with RemoteSSHClient(
            host="127.0.0.1",
            port=sshd.port,
            username=sshd.user,
            known_host_fingerprint=sshd.host_fingerprint,
            private_key=sshd.key.read_text(),
            command_allowlist=["echo", "sh", "printf", "ip"],
            output_cap_bytes=64 * 1024,
        ) as ssh:
            r = await ssh.run(["echo", "hello world", "$HOME", "it's"])
            assert isinstance(r, CommandResult)
            assert r.stdout == "hello world $HOME it's\n"
            assert (r.exit_code, r.ok, r.truncated) == (0, True, False)
            assert r.argv == ("echo", "hello world", "$HOME", "it's")
            assert r.duration_s > 0
            r = await ssh.run(["sh", "-c", "echo oops >&2; exit 3"])
            assert (r.stderr, r.exit_code, r.ok) == ("oops\n", 3, False)
            with pytest.raises(SshError, match="exited with 3"):
                await ssh.run(["sh", "-c", "exit 3"], check=True)
            outs = await asyncio.gather(*(ssh.run(["printf", str(i)]) for i in range(20)))
            assert [o.stdout for o in outs] == [str(i) for i in range(20)]
            link = await ssh.run(["ip", "-o", "link", "show"])
            assert "lo:" in link.stdout

    run(go())


def test_argv_rules_cap_timeout_and_redaction(sshd: Any) -> None:
    async def go() -> None:
        async with client(
            sshd,
            command_allowlist=["yes", "head", "sleep", "echo"],
            output_cap_bytes=1000,
            exec_timeout=1.0,
            redact=["s3cret-token"],
        ) as ssh:
            with pytest.raises(
                CommandNotAllowed, match=r"argv\[0\]='rm' is not in command_allowlist"
            ):
                await ssh.run(["rm", "-rf", "/tmp/x"])
            # The basename decides, as in the original.
            r = await ssh.run(["/bin/echo", "x"])
            assert r.stdout == "x\n"
            with pytest.raises(TypeError, match="requires a list"):
                await ssh.run("echo hi")  # type: ignore[arg-type]
            with pytest.raises(TypeError, match=r"argv\[1\] is not a str"):
                await ssh.run(["echo", 3])  # type: ignore[list-item]
            with pytest.raises(ValueError, match="non-empty"):
                await ssh.run([])
            with pytest.raises(OutputTooLarge, match="exceeded 1000 bytes"):
                await ssh.run(["head", "-c", "5000", "/dev/zero"])
            ok = await ssh.run(["head", "-c", "1000", "/dev/zero"])
            assert len(ok.stdout) == 1000 and not ok.truncated
            with pytest.raises(SshTimeout, match="did not complete within 1.0s"):
                await ssh.run(["sleep", "10"])
            r = await ssh.run(["echo", "token=s3cret-token"])
            assert "s3cret" not in r.stdout and "s3cret" not in repr(r)
        async with client(
            sshd, command_allowlist=["head"], output_cap_bytes=100, truncate_output=True
        ) as ssh:
            r = await ssh.run(["head", "-c", "5000", "/dev/zero"])
            assert (len(r.stdout), r.truncated) == (100, True)

    run(go())


def test_log_records_are_redacted(sshd: Any, caplog: pytest.LogCaptureFixture) -> None:
    async def go() -> None:
        async with client(sshd) as ssh:
            logging.getLogger("proxmox_sdk.ssh").warning("password=hunter2 token: abc")
            await ssh.run(["true"])

    with caplog.at_level(logging.DEBUG, logger="proxmox_sdk"):
        run(go())
    text = caplog.text
    # The original's patterns replace the whole match, key included.
    assert "hunter2" not in text and " abc" not in text
    assert "*** ***" in text and "connected to 127.0.0.1" in text
    key = sshd.key.read_text()
    assert key.split("\n")[1] not in text


def test_constructor_refusals() -> None:
    with pytest.raises(ValueError, match="host is required"):
        RemoteSSHClient("", username="root", password="x", known_host_fingerprint="SHA256:x")
    with pytest.raises(ValueError, match="username is required"):
        RemoteSSHClient("h", username="", password="x", known_host_fingerprint="SHA256:x")
    with pytest.raises(ValueError, match="requires private_key or password"):
        RemoteSSHClient("h", username="root", known_host_fingerprint="SHA256:x")
    with pytest.raises(ValueError, match="output_cap_bytes must be positive"):
        RemoteSSHClient(
            "h", username="root", password="x", known_host_fingerprint="x", output_cap_bytes=0
        )
    with pytest.raises(TypeError):
        RemoteSSHClient("h", password="x", known_host_fingerprint="x")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="no host key is trusted on first use"):
        RemoteSSHClient("h", username="root", password="x")
    with pytest.raises(ValueError, match="unsupported fingerprint algorithm: 'MD5'"):
        RemoteSSHClient("h", username="root", password="x", known_host_fingerprint="MD5:ab")
    with pytest.raises(ValueError, match="port"):
        RemoteSSHClient("h", port=0, username="root", password="x", known_host_fingerprint="x")
    with pytest.raises(TypeError, match="private_key_file"):
        RemoteSSHClient(
            "h",
            username="root",
            private_key=b"bytes",  # type: ignore[arg-type]
            known_host_fingerprint="x",
        )
    c = RemoteSSHClient("h", username="root", password="pw-123", known_host_fingerprint="SHA256:x")
    assert "pw-123" not in repr(c) and repr(c) == "RemoteSSHClient(root@h:22)"


def test_fingerprint_and_redactors(sshd: Any) -> None:
    line = (sshd.dir / "host_ed25519.pub").read_text()
    blob = base64.b64decode(line.split()[1])
    expected = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).rstrip(b"=").decode()
    assert fingerprint_sha256(blob) == expected == fingerprint_sha256(line)
    assert fingerprint_sha256(blob).rstrip("=") == sshd.host_fingerprint.rstrip("=")

    class PKeyLike:
        def asbytes(self) -> bytes:
            return blob

    assert fingerprint_sha256(PKeyLike()) == expected
    with pytest.raises(TypeError, match="unsupported key type"):
        fingerprint_sha256(42)
    assert all(isinstance(p, re.Pattern) for p in DEFAULT_REDACTORS)
    sample = "password=abc token: xyz gAAAAA" + "x" * 30
    cleaned = sample
    for p in DEFAULT_REDACTORS:
        cleaned = p.sub("***", cleaned)
    assert "abc" not in cleaned and "xyz" not in cleaned and "gAAAAA" not in cleaned


def test_host_key_and_login_failures(sshd: Any) -> None:
    with pytest.raises(HostKeyMismatch, match="pinned fingerprint"):
        run(client(sshd, known_host_fingerprint="SHA256:" + "B" * 43).connect())
    # The fingerprint without its prefix, or with padding, is the same pin.
    bare = sshd.host_fingerprint.split(":", 1)[1]
    run(client(sshd, known_host_fingerprint=bare + "=").connect())
    with pytest.raises(HostKeyMismatch, match="unknown host key"):
        run(
            client(
                sshd, known_host_fingerprint=None, known_hosts_file=str(sshd.dir / "nothing")
            ).connect()
        )
    run(client(sshd, known_host_fingerprint=None, known_hosts_file=str(sshd.known_hosts)).connect())
    # A key file on disk instead of the text (an extra of ours).
    run(client(sshd, private_key=None, private_key_file=str(sshd.key)).connect())
    with pytest.raises(SshAuthFailed, match="refused"):
        run(client(sshd, private_key=None, password="wrong-password").connect())
    with pytest.raises(SshAuthFailed, match="could not parse"):
        run(client(sshd, private_key="-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n").connect())
    with pytest.raises(SshError, match="cannot connect"):
        run(
            RemoteSSHClient(
                "127.0.0.1", port=1, username="x", password="x", known_host_fingerprint="x"
            ).connect()
        )


def test_password_login(sshd: Any) -> None:
    assert sshd.password_user is not None, (
        "password logins need the account `make system-deps` creates (pbx-ssh-test)"
    )
    password = sshd.password

    async def go() -> None:
        async with client(
            sshd, username=sshd.password_user, private_key=None, password=password
        ) as ssh:
            r = await ssh.run(["id", "-un"])
            assert r.stdout.strip() == sshd.password_user
        with pytest.raises(SshAuthFailed) as e:
            await client(
                sshd, username=sshd.password_user, private_key=None, password="nope-" + password
            ).connect()
        assert password not in str(e.value)

    run(go())
