"""``RemoteSSHClient``: run allowed commands on a Proxmox node over SSH (russh).

The host key is pinned by its SHA-256 fingerprint (``ssh-keygen -lf`` prints it as
``SHA256:...``) or checked against a known_hosts file; only commands whose program is on
the allowlist run; output beyond a cap is refused (or cut, with ``truncated=True``);
every command has a timeout; secrets given in ``redact`` never appear in results, errors
or reprs.

    async with RemoteSSHClient("pve1", user="root", private_key_file="~/.ssh/id_ed25519",
                               host_key_fingerprint="SHA256:...",
                               allowed_commands={"qm", "pct", "pvesh"}) as ssh:
        result = await ssh.run(["qm", "list"])
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from proxmox_sdk import _native

__all__ = [
    "RemoteSSHClient",
    "CommandResult",
    "SshError",
    "HostKeyMismatch",
    "SshTimeout",
    "SshAuthFailed",
    "OutputTooLarge",
    "CommandNotAllowed",
]


class SshError(Exception):
    """Base class of the SSH errors (also: connection refused, channel failures)."""


class HostKeyMismatch(SshError):
    """The server's host key is unknown, changed, or not the pinned one."""


class SshTimeout(SshError):
    """Connecting or a command took longer than allowed."""


class SshAuthFailed(SshError):
    """Every login method was refused."""


class OutputTooLarge(SshError):
    """A command printed more than ``max_output_bytes``."""


class CommandNotAllowed(SshError):
    """The command's program is not on the allowlist (nothing was sent)."""


@dataclass(frozen=True)
class CommandResult:
    """What a command printed and how it ended."""

    argv: tuple[str, ...]
    stdout: str
    stderr: str
    exit_code: int | None
    duration_s: float
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """Whether the command exited with status 0."""
        return self.exit_code == 0


def _redact(text: str, secrets: Iterable[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


@dataclass
class _Options:
    allowed: frozenset[str] | None
    max_output_bytes: int
    timeout: float
    sudo: bool
    truncate: bool
    redact: tuple[str, ...] = field(default=())


class RemoteSSHClient:
    """An async context manager over one SSH connection."""

    def __init__(
        self,
        host: str,
        *,
        port: int = 22,
        user: str = "root",
        password: str | None = None,
        private_key_file: str | os.PathLike[str] | None = None,
        private_key_passphrase: str | None = None,
        use_agent: bool = False,
        host_key_fingerprint: str | None = None,
        known_hosts_file: str | os.PathLike[str] | None = None,
        accept_new_host_key: bool = False,
        allowed_commands: Iterable[str] | None = None,
        max_output_bytes: int = 1 << 20,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        sudo: bool = False,
        truncate_output: bool = False,
        redact: Iterable[str] = (),
    ) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"port: expected an integer from 1 to 65535, got {port!r}")
        if isinstance(max_output_bytes, bool) or not isinstance(max_output_bytes, int):
            raise ValueError(f"max_output_bytes: expected an integer, got {max_output_bytes!r}")
        if max_output_bytes <= 0:
            raise ValueError(f"max_output_bytes: expected a number > 0, got {max_output_bytes}")
        if not isinstance(timeout, int | float) or timeout <= 0:
            raise ValueError(f"timeout: expected a number of seconds > 0, got {timeout!r}")
        if allowed_commands is not None and isinstance(allowed_commands, str):
            raise ValueError("allowed_commands: expected a collection of program names, not a str")
        secrets = tuple(s for s in (*redact, password, private_key_passphrase) if s)
        self._opts = _Options(
            allowed=frozenset(allowed_commands) if allowed_commands is not None else None,
            max_output_bytes=max_output_bytes,
            timeout=float(timeout),
            sudo=sudo,
            truncate=truncate_output,
            redact=secrets,
        )
        self.host = host
        self.port = port
        self.user = user
        self._native = _native.SshClient(
            host,
            port=port,
            user=user,
            password=password,
            private_key_file=os.path.expanduser(os.fspath(private_key_file))
            if private_key_file
            else None,
            private_key_passphrase=private_key_passphrase,
            use_agent=use_agent,
            known_hosts_file=os.fspath(known_hosts_file) if known_hosts_file else None,
            host_key_fingerprint=host_key_fingerprint,
            accept_new_host_key=accept_new_host_key,
            connect_timeout=connect_timeout,
        )

    def __repr__(self) -> str:
        return f"RemoteSSHClient({self.user}@{self.host}:{self.port})"

    async def __aenter__(self) -> RemoteSSHClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Connect and log in now (``run`` does it on first use otherwise)."""
        try:
            await self._native.connect()
        except SshError as e:
            raise type(e)(_redact(str(e), self._opts.redact)) from None

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        await self._native.close()

    def _check(self, argv: Sequence[str]) -> tuple[str, ...]:
        if isinstance(argv, str):
            raise TypeError("argv: expected a sequence of arguments, not a str (use shlex.split)")
        args = tuple(str(a) for a in argv)
        if not args:
            raise ValueError("argv: expected at least the program name")
        allowed = self._opts.allowed
        program = os.path.basename(args[0])
        if allowed is not None and args[0] not in allowed and program not in allowed:
            raise CommandNotAllowed(
                f"command {program!r} is not allowed; allowed: {', '.join(sorted(allowed))}"
            )
        return args

    async def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        check: bool = False,
    ) -> CommandResult:
        """Run ``argv`` (quoted for the remote shell, prefixed with ``sudo -n`` when
        asked). ``check=True`` raises ``SshError`` on a non-zero exit status."""
        args = self._check(argv)
        line = shlex.join(("sudo", "-n", *args) if self._opts.sudo else args)
        cap = self._opts.max_output_bytes
        try:
            raw: dict[str, Any] = await self._native.run(line, timeout or self._opts.timeout, cap)
        except SshError as e:
            raise type(e)(_redact(str(e), self._opts.redact)) from None
        truncated = bool(raw["truncated"])
        if truncated and not self._opts.truncate:
            raise OutputTooLarge(f"output of {args[0]!r} exceeds {cap} bytes")
        secrets = self._opts.redact
        result = CommandResult(
            argv=tuple(_redact(a, secrets) for a in args),
            stdout=_redact(raw["stdout"].decode("utf-8", "replace"), secrets),
            stderr=_redact(raw["stderr"].decode("utf-8", "replace"), secrets),
            exit_code=raw["exit_code"],
            duration_s=raw["duration_s"],
            truncated=truncated,
        )
        if check and result.exit_code != 0:
            raise SshError(
                f"{args[0]!r} exited with {result.exit_code}: {result.stderr.strip()[:500]}"
            )
        return result
