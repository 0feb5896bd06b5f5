"""``proxmox_sdk.ssh.RemoteSSHClient`` against a real OpenSSH server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from proxmox_sdk.ssh import (
    CommandNotAllowed,
    CommandResult,
    HostKeyMismatch,
    OutputTooLarge,
    RemoteSSHClient,
    SshAuthFailed,
    SshError,
    SshTimeout,
)


def client(sshd: Any, **kw: Any) -> RemoteSSHClient:
    base: dict[str, Any] = {
        "port": sshd.port,
        "user": sshd.user,
        "private_key_file": str(sshd.key),
        "host_key_fingerprint": sshd.host_fingerprint,
    }
    base.update(kw)
    return RemoteSSHClient("127.0.0.1", **base)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_commands_results_and_one_connection(sshd: Any) -> None:
    async def go() -> None:
        async with client(sshd, allowed_commands={"echo", "sh", "printf"}) as ssh:
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
            # Many commands, concurrently, over the one connection.
            outs = await asyncio.gather(*(ssh.run(["printf", str(i)]) for i in range(20)))
            assert [o.stdout for o in outs] == [str(i) for i in range(20)]

    run(go())


def test_allowlist_cap_timeout_and_redaction(sshd: Any) -> None:
    async def go() -> None:
        async with client(
            sshd,
            allowed_commands={"/usr/bin/yes", "head", "sleep", "echo"},
            max_output_bytes=1000,
            timeout=1.0,
            redact=["s3cret-token"],
        ) as ssh:
            with pytest.raises(CommandNotAllowed, match="'rm' is not allowed"):
                await ssh.run(["rm", "-rf", "/tmp/x"])
            with pytest.raises(TypeError):
                await ssh.run("echo hi")  # type: ignore[arg-type]
            with pytest.raises(OutputTooLarge, match="1000 bytes"):
                await ssh.run(["head", "-c", "5000", "/dev/zero"])
            ok = await ssh.run(["head", "-c", "1000", "/dev/zero"])
            assert len(ok.stdout) == 1000 and not ok.truncated
            with pytest.raises(SshTimeout, match="1.0 s"):
                await ssh.run(["sleep", "10"])
            r = await ssh.run(["echo", "token=s3cret-token"])
            assert "s3cret" not in r.stdout and "s3cret" not in repr(r)
            assert r.stdout == "token=***\n"
        async with client(
            sshd, allowed_commands={"head"}, max_output_bytes=100, truncate_output=True
        ) as ssh:
            r = await ssh.run(["head", "-c", "5000", "/dev/zero"])
            assert (len(r.stdout), r.truncated) == (100, True)

    run(go())


def test_host_key_and_login_failures(sshd: Any) -> None:
    with pytest.raises(HostKeyMismatch, match="pinned fingerprint"):
        run(client(sshd, host_key_fingerprint="SHA256:" + "B" * 43).connect())
    with pytest.raises(HostKeyMismatch, match="unknown host key"):
        run(
            client(
                sshd, host_key_fingerprint=None, known_hosts_file=str(sshd.dir / "nothing")
            ).connect()
        )
    # known_hosts with the right key works.
    run(client(sshd, host_key_fingerprint=None, known_hosts_file=str(sshd.known_hosts)).connect())
    with pytest.raises(SshAuthFailed, match="refused"):
        run(client(sshd, private_key_file=None, password="wrong-password").connect())
    with pytest.raises(SshError, match="cannot connect"):
        run(RemoteSSHClient("127.0.0.1", port=1, password="x", host_key_fingerprint="x").connect())
    with pytest.raises(ValueError, match="port"):
        RemoteSSHClient("h", port=0, password="x")


def test_password_login(sshd: Any) -> None:
    assert sshd.password_user is not None, (
        "password logins need the account `make system-deps` creates (pbx-ssh-test)"
    )
    password = sshd.password

    async def go() -> None:
        async with client(
            sshd, user=sshd.password_user, private_key_file=None, password=password
        ) as ssh:
            r = await ssh.run(["id", "-un"])
            assert r.stdout.strip() == sshd.password_user
        with pytest.raises(SshAuthFailed) as e:
            await client(
                sshd, user=sshd.password_user, private_key_file=None, password="nope-" + password
            ).connect()
        assert password not in str(e.value)

    run(go())
