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


class ClientOptions(TypedDict, total=False):
    """Keyword arguments of the SDK (every one optional; defaults in the native core)."""

    backend: BackendName
    service: ServiceName
    host: str
    port: int
    user: str
    password: str
    token_name: str
    token_value: str
    otp: str
    otptype: str
    path_prefix: str
    verify_ssl: bool
    cert: PathArg
    fingerprint: str
    timeout: float | None
    connect_timeout: float | None
    proxies: Mapping[str, str]
    max_retries: int
    retry_backoff: float
    sudo: bool
    private_key_file: PathArg
    identity_file: PathArg
    private_key_passphrase: str
    use_agent: bool
    config_file: PathArg
    forward_ssh_agent: bool
    known_hosts_file: PathArg
    host_key_fingerprint: str
    accept_new_host_key: bool
    ssh_options: Sequence[str]
    schema_version: str
    validate: bool
    mock_namespace: str
    mock_data_path: PathArg
    lenient: bool
    otel_enabled: bool


class SDKOptions(ClientOptions, total=False):
    """What the SDK constructors take beyond the native options."""

    session: object
