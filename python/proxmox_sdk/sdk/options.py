"""The connection options of ``ProxmoxSDK`` / ``SyncProxmoxSDK`` (and of CLI profiles), as
type checkers see them. The options, their checks and their defaults live in the native
core (``ClientOptions`` in ``src/backend/options.rs``); a test keeps this list equal to it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Literal, TypedDict

#: The backends, by the original package's names.
BackendName = Literal["https", "ssh_paramiko", "openssh", "local", "mock"]

#: The Proxmox products (any case is accepted at run time).
ServiceName = Literal["PVE", "PMG", "PBS", "PDM", "pve", "pmg", "pbs", "pdm"]

PathArg = str | os.PathLike[str]


class ConnectionOptions(TypedDict, total=False):
    """The SDK's keyword arguments after ``host`` (every one optional, ``None`` meaning
    "not given"; defaults in the native core)."""

    backend: BackendName | None
    service: ServiceName | None
    port: int | None
    user: str | None
    password: str | None
    token_name: str | None
    token_value: str | None
    otp: str | None
    otptype: str | None
    path_prefix: str | None
    verify_ssl: bool | None
    cert: PathArg | None
    fingerprint: str | None
    timeout: float | None
    connect_timeout: float | None
    proxies: Mapping[str, str] | None
    max_retries: int | None
    retry_backoff: float | None
    sudo: bool | None
    private_key_file: PathArg | None
    identity_file: PathArg | None
    private_key_passphrase: str | None
    use_agent: bool | None
    config_file: PathArg | None
    forward_ssh_agent: bool | None
    known_hosts_file: PathArg | None
    host_key_fingerprint: str | None
    accept_new_host_key: bool | None
    ssh_options: Sequence[str] | None
    schema_version: str | None
    validate: bool | None
    mock_namespace: str | None
    mock_data_path: PathArg | None
    lenient: bool | None
    otel_enabled: bool | None


class ClientOptions(ConnectionOptions, total=False):
    """Every native connection option (``host`` included)."""

    host: str | PathArg | None


class MockOptions(TypedDict, total=False):
    """What ``ProxmoxSDK.mock(schema_version, service, ...)`` takes beyond its two."""

    mock_namespace: str
    mock_data_path: PathArg
    lenient: bool
    validate: bool
    timeout: float | None
    otel_enabled: bool


class SDKOptions(ConnectionOptions, total=False):
    """What the SDK constructors take beyond the native options."""

    session: object
