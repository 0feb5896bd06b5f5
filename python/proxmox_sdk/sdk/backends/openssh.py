"""``OpenSshBackend``: ``pvesh`` over the system ``ssh`` binary (``~/.ssh/config``, agent)."""

from __future__ import annotations

from proxmox_sdk.sdk.backends._ssh import SshCommandBackend
from proxmox_sdk.sdk.services import ServiceConfig


class OpenSshBackend(SshCommandBackend):
    """The original's constructor; runs through the native openssh transport (no
    ``openssh_wrapper`` needed)."""

    _backend = "openssh"

    def __init__(
        self,
        *,
        host: str,
        user: str,
        service_config: ServiceConfig | str | None = None,
        password: str | None = None,
        identity_file: str | None = None,
        forward_ssh_agent: bool = False,
        config_file: str | None = None,
        port: int = 22,
        sudo: bool = False,
    ) -> None:
        super().__init__(
            host=host,
            user=user,
            service_config=service_config,
            port=port,
            sudo=sudo,
            password=password,
            identity_file=identity_file,
            forward_ssh_agent=forward_ssh_agent,
            config_file=config_file,
        )


__all__ = ["OpenSshBackend"]
