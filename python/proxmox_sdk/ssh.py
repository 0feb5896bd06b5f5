"""``RemoteSSHClient``: run commands on a Proxmox node over SSH (natively, with russh).

The original package's client, same signature and behaviour, security first:

* **No trust on first use.** The host key is pinned by its SHA-256 fingerprint
  (``known_host_fingerprint="SHA256:..."``, as ``ssh-keygen -lf`` prints it); any other key
  raises ``HostKeyMismatch``. (Beyond the original: ``known_hosts_file=`` checks an OpenSSH
  known_hosts file instead.)
* **argv lists only.** ``run()`` takes ``list[str]`` (a ``str`` raises ``TypeError``); the
  arguments are quoted with ``shlex.join`` for the remote shell, so no element can break
  out of its word.
* **Optional allowlist** of ``argv[0]`` basenames (``CommandNotAllowed`` otherwise, before
  anything is sent), **bounded output** (``output_cap_bytes``, default 256 KiB:
  ``OutputTooLarge`` beyond), **timeouts** for connecting and for each command.
* **Log redaction**: the patterns of ``log_redactors`` (``DEFAULT_REDACTORS``: private key
  blocks, ``password=``/``token=`` values, Fernet-shaped tokens) are applied to every log
  record of ``proxmox_sdk.ssh`` while a client is open; the password and passphrase given
  never appear in results, errors or reprs.

    async with RemoteSSHClient("pve1", username="root", private_key=pem_text,
                               known_host_fingerprint="SHA256:...",
                               command_allowlist=["dmidecode", "ip", "ethtool"]) as ssh:
        result = await ssh.run(["ip", "-o", "link", "show"])

Beyond the original, as extra keyword arguments: ``private_key_file`` (a key on disk),
``private_key_passphrase``, ``use_agent``, ``known_hosts_file``, ``accept_new_host_key``,
``truncate_output`` (cut instead of raising), ``redact`` (more secrets to hide); ``run()``
takes ``timeout=`` and ``check=``. Without paramiko: the transport is native.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from re import Pattern
from typing import Any

from proxmox_sdk import _native

__all__ = [
    "CommandResult",
    "DEFAULT_REDACTORS",
    "HostKeyMismatch",
    "CommandNotAllowed",
    "OutputTooLarge",
    "RemoteSSHClient",
    "SshAuthFailed",
    "SshError",
    "SshTimeout",
    "fingerprint_sha256",
]

logger = logging.getLogger(__name__)

#: What log records of this module never show: private key blocks, ``password=`` and
#: ``token=`` values, Fernet-shaped tokens.
DEFAULT_REDACTORS: tuple[Pattern[str], ...] = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL),
    re.compile(r"(?i)(password\s*[=:]\s*)\S+"),
    re.compile(r"(?i)(token\s*[=:]\s*)\S+"),
    re.compile(r"gAAAAA[A-Za-z0-9_=-]{20,}"),
)


def _redact_patterns(text: str, redactors: Iterable[Pattern[str]]) -> str:
    for pattern in redactors:
        text = pattern.sub("***", text)
    return text


def _redact_secrets(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class _RedactingFilter(logging.Filter):
    """Rewrites the message of a log record through the redactors (and hides secrets)."""

    def __init__(self, redactors: tuple[Pattern[str], ...], secrets: tuple[str, ...]) -> None:
        super().__init__()
        self._redactors = redactors
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = _redact_secrets(_redact_patterns(message, self._redactors), self._secrets)
        if cleaned != message:
            record.msg = cleaned
            record.args = ()
        return True


class SshError(Exception):
    """Base class of the SSH errors (also: a refused connection, a failed channel)."""


class HostKeyMismatch(SshError):
    """The server's host key is not the pinned one (or unknown to the known_hosts file)."""


class SshTimeout(SshError):
    """Connecting or a command took longer than allowed."""


class SshAuthFailed(SshError):
    """Every login method was refused, or the private key could not be read."""


class OutputTooLarge(SshError):
    """A command's stdout and stderr together exceeded ``output_cap_bytes``."""


class CommandNotAllowed(SshError):
    """``argv[0]`` is not on the allowlist (nothing was sent)."""


@dataclass(frozen=True)
class CommandResult:
    """The result of one ``RemoteSSHClient.run()``."""

    argv: tuple[str, ...]
    stdout: str
    stderr: str
    exit_code: int
    duration_s: float
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """Whether the command exited with status 0."""
        return self.exit_code == 0


def fingerprint_sha256(host_key: Any) -> str:
    """The canonical ``SHA256:<base64>`` fingerprint (no ``=`` padding) of a host key: a
    paramiko ``PKey`` (anything with ``asbytes()``), the raw key blob as bytes, or (beyond
    the original) an OpenSSH public key line (``ssh-ed25519 AAAA... comment``)."""
    if hasattr(host_key, "asbytes"):
        data = host_key.asbytes()
    elif isinstance(host_key, bytes | bytearray | memoryview):
        data = bytes(host_key)
    elif isinstance(host_key, str):
        parts = host_key.split()
        if len(parts) < 2:
            raise ValueError("fingerprint_sha256: expected an OpenSSH public key line")
        try:
            data = base64.b64decode(parts[1], validate=True)
        except ValueError as e:
            raise ValueError(f"fingerprint_sha256: the key is not base64 ({e})") from None
    else:
        raise TypeError(f"fingerprint_sha256: unsupported key type {type(host_key)!r}")
    digest = hashlib.sha256(data).digest()
    return "SHA256:" + base64.b64encode(digest).rstrip(b"=").decode("ascii")


_HEX_PIN = re.compile(r"^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$")


def _normalize_fingerprint(fp: str) -> str:
    """``SHA256:abc``, ``sha256:abc=`` or bare ``abc`` -> ``SHA256:abc``; the colon-hex
    form (``AA:BB:...``, 32 bytes) is kept as it is."""
    if not isinstance(fp, str):
        raise TypeError(f"known_host_fingerprint: expected a str, got {type(fp).__name__}")
    s = fp.strip()
    if not s:
        raise ValueError("empty host-key fingerprint")
    if _HEX_PIN.match(s):
        return s
    if ":" in s:
        prefix, _, value = s.partition(":")
        if prefix.upper() != "SHA256":
            raise ValueError(f"unsupported fingerprint algorithm: {prefix!r} (only SHA256)")
        return "SHA256:" + value.rstrip("=")
    return "SHA256:" + s.rstrip("=")


def _number(name: str, value: Any, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name}: expected a number of seconds, got {type(value).__name__}")
    if not (value > 0 if positive else value >= 0) or value != value or value > 86400:
        raise ValueError(f"{name}: expected a number of seconds from 0 to 86400, got {value!r}")
    return float(value)


class RemoteSSHClient:
    """An async, security-hardened SSH client: give every credential and policy here,
    use it as an async context manager, run commands with ``run()``."""

    _DEFAULT_REDACTORS = DEFAULT_REDACTORS

    def __init__(
        self,
        host: str,
        *,
        port: int = 22,
        username: str,
        known_host_fingerprint: str | None = None,
        private_key: str | None = None,
        password: str | None = None,
        connect_timeout: float = 10.0,
        exec_timeout: float = 30.0,
        sudo: bool = False,
        output_cap_bytes: int = 256 * 1024,
        command_allowlist: list[str] | tuple[str, ...] | None = None,
        log_redactors: tuple[Pattern[str], ...] = DEFAULT_REDACTORS,
        private_key_file: str | os.PathLike[str] | None = None,
        private_key_passphrase: str | None = None,
        use_agent: bool = False,
        known_hosts_file: str | os.PathLike[str] | None = None,
        accept_new_host_key: bool = False,
        truncate_output: bool = False,
        redact: Iterable[str] = (),
    ) -> None:
        if not host:
            raise ValueError("host is required")
        if not username:
            raise ValueError("username is required")
        if private_key is None and password is None and not private_key_file and not use_agent:
            raise ValueError("RemoteSSHClient requires private_key or password")
        if isinstance(output_cap_bytes, bool) or not isinstance(output_cap_bytes, int):
            raise TypeError(
                f"output_cap_bytes: expected an integer, got {type(output_cap_bytes).__name__}"
            )
        if output_cap_bytes <= 0:
            raise ValueError("output_cap_bytes must be positive")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"port: expected an integer from 1 to 65535, got {port!r}")
        if known_host_fingerprint is None and known_hosts_file is None:
            raise ValueError(
                "known_host_fingerprint is required (the SHA256 fingerprint of the host key; "
                "or known_hosts_file=): no host key is trusted on first use"
            )
        if command_allowlist is not None and isinstance(command_allowlist, str):
            raise TypeError("command_allowlist: expected a list of program names, not a str")
        if private_key is not None and not isinstance(private_key, str):
            raise TypeError(
                "private_key: expected the key's text (OpenSSH or PEM), "
                f"got {type(private_key).__name__} (a path goes in private_key_file=)"
            )
        self._host = host
        self._port = port
        self._username = username
        self._pinned_fp = (
            _normalize_fingerprint(known_host_fingerprint)
            if known_host_fingerprint is not None
            else None
        )
        self._connect_timeout = _number("connect_timeout", connect_timeout)
        self._exec_timeout = _number("exec_timeout", exec_timeout)
        self._sudo = bool(sudo)
        self._output_cap = output_cap_bytes
        self._truncate = bool(truncate_output)
        self._allowlist: frozenset[str] | None = (
            frozenset(command_allowlist) if command_allowlist is not None else None
        )
        self._redactors = tuple(log_redactors)
        self._secrets = tuple(
            s for s in (*redact, password, private_key_passphrase, private_key) if s
        )
        self._redacting_filter = _RedactingFilter(self._redactors, self._secrets)
        self._native = _native.SshClient(
            host,
            port=port,
            user=username,
            password=password,
            private_key=private_key,
            private_key_file=os.path.expanduser(os.fspath(private_key_file))
            if private_key_file
            else None,
            private_key_passphrase=private_key_passphrase,
            use_agent=use_agent,
            known_hosts_file=os.fspath(known_hosts_file) if known_hosts_file else None,
            host_key_fingerprint=self._pinned_fp,
            accept_new_host_key=accept_new_host_key,
            connect_timeout=self._connect_timeout,
        )
        self._connected = False

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return self._port

    @property
    def username(self) -> str:
        return self._username

    def __repr__(self) -> str:
        return f"RemoteSSHClient({self._username}@{self._host}:{self._port})"

    def _clean(self, text: str) -> str:
        return _redact_secrets(_redact_patterns(text, self._redactors), self._secrets)

    async def __aenter__(self) -> RemoteSSHClient:
        logger.addFilter(self._redacting_filter)
        try:
            await self.connect()
        except BaseException:
            logger.removeFilter(self._redacting_filter)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.close()
        finally:
            logger.removeFilter(self._redacting_filter)

    async def connect(self) -> None:
        """Connect and log in (``async with`` does it; ``run`` does it on first use)."""
        try:
            await self._native.connect()
        except SshTimeout:
            raise SshTimeout(
                f"connect to {self._host}:{self._port} timed out after {self._connect_timeout}s"
            ) from None
        except SshError as e:
            raise type(e)(self._clean(str(e))) from None
        self._connected = True

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        self._connected = False
        await self._native.close()

    def _check_argv(self, argv: Sequence[str]) -> tuple[str, ...]:
        if isinstance(argv, str) or not isinstance(argv, list | tuple):
            raise TypeError(
                f"RemoteSSHClient.run(argv) requires a list[str]; got {type(argv).__name__}"
            )
        if not argv:
            raise ValueError("argv must be non-empty")
        for i, part in enumerate(argv):
            if not isinstance(part, str):
                raise TypeError(f"argv[{i}] is not a str: {type(part).__name__}")
        if self._allowlist is not None:
            head = argv[0].rsplit("/", 1)[-1]
            if head not in self._allowlist:
                raise CommandNotAllowed(
                    f"argv[0]={head!r} is not in command_allowlist={sorted(self._allowlist)}"
                )
        return tuple(argv)

    async def run(
        self,
        argv: list[str],
        *,
        timeout: float | None = None,
        check: bool = False,
    ) -> CommandResult:
        """Run ``argv`` (wrapped in ``sudo -n`` with ``sudo=True``, after the allowlist
        check). ``TypeError`` for anything but a list of str, ``CommandNotAllowed``,
        ``OutputTooLarge``, ``SshTimeout`` after ``exec_timeout`` (or ``timeout=``);
        ``check=True`` raises ``SshError`` on a non-zero exit status."""
        args = self._check_argv(argv)
        limit = self._exec_timeout if timeout is None else _number("timeout", timeout)
        effective = ("sudo", "-n", *args) if self._sudo else args
        try:
            raw: dict[str, Any] = await self._native.run(
                shlex.join(effective), limit, self._output_cap
            )
        except SshTimeout:
            raise SshTimeout(
                f"command {effective[0]!r} did not complete within {limit}s on {self._host}"
            ) from None
        except SshError as e:
            raise type(e)(self._clean(str(e))) from None
        stdout = raw["stdout"].decode("utf-8", "replace")
        stderr = raw["stderr"].decode("utf-8", "replace")
        truncated = bool(raw["truncated"])
        if truncated and not self._truncate:
            raise OutputTooLarge(
                f"command output exceeded {self._output_cap} bytes "
                f"(stdout={len(raw['stdout'])}, stderr={len(raw['stderr'])})"
            )
        code = raw["exit_code"]
        result = CommandResult(
            argv=tuple(_redact_secrets(a, self._secrets) for a in effective),
            stdout=_redact_secrets(stdout, self._secrets),
            stderr=_redact_secrets(stderr, self._secrets),
            exit_code=-1 if code is None else int(code),
            duration_s=float(raw["duration_s"]),
            truncated=truncated,
        )
        if check and result.exit_code != 0:
            raise SshError(
                f"{args[0]!r} exited with {result.exit_code}: {result.stderr.strip()[:500]}"
            )
        return result
