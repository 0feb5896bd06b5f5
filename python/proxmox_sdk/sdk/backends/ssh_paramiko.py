"""``SshParamikoBackend``: ``pvesh`` over SSH with the native russh client (no paramiko)."""

from __future__ import annotations

from typing import Any

from proxmox_sdk.sdk.backends._ssh import SshCommandBackend
from proxmox_sdk.sdk.services import ServiceConfig


class SshParamikoBackend(SshCommandBackend):
    """The original's constructor. Without a password or key file the agent and the
    user's default keys are tried when connecting. ``host_key_policy`` (a paramiko
    policy object) cannot apply to the native client and is refused unless ``None``;
    host keys are checked against ``~/.ssh/known_hosts``."""

    _backend = "ssh_paramiko"

    def __init__(
        self,
        *,
        host: str,
        user: str,
        service_config: ServiceConfig | str | None = None,
        password: str | None = None,
        private_key_file: str | None = None,
        port: int = 22,
        sudo: bool = False,
        host_key_policy: Any = None,
    ) -> None:
        if host_key_policy is not None:
            raise TypeError(
                "host_key_policy: paramiko policies do not apply to the native SSH client; "
                "host keys are checked against known_hosts (ProxmoxSDK(known_hosts_file=...))"
            )
        super().__init__(
            host=host,
            user=user,
            service_config=service_config,
            port=port,
            sudo=sudo,
            password=password,
            private_key_file=private_key_file,
        )


__all__ = ["SshParamikoBackend"]
