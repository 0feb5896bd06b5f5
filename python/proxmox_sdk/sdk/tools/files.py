"""Files: put ISO images, templates and imports onto a PVE storage."""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any
from urllib.parse import urlparse

from proxmox_sdk.sdk.exceptions import BackendNotAvailableError


def _check_public_http_url(url: str) -> None:
    """Refuse non-http(s) URLs and hosts that resolve to private or loopback addresses."""
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise ValueError(f"url: expected an http(s) URL, got {url!r}")
    try:
        infos = socket.getaddrinfo(parsed.hostname, None)
    except OSError as e:
        raise ValueError(f"url: cannot resolve {parsed.hostname!r}: {e}") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_reserved:
            raise ValueError(f"url: {parsed.hostname!r} resolves to a non-public address ({addr})")


class Files:
    """``Files(px, node=..., storage=...)``."""

    def __init__(self, prox: Any, node: str, storage: str) -> None:
        if not node or not storage:
            raise ValueError("node and storage are required")
        self._prox = prox
        self.node = node
        self.storage = storage

    def _storage(self) -> Any:
        return self._prox.nodes(self.node).storage(self.storage)

    def download_file_to_storage(
        self,
        url: str,
        checksum: str | None = None,
        checksum_type: str | None = None,
        content: str = "iso",
        filename: str | None = None,
        verify_url: bool = True,
    ) -> Any:
        """Have PVE download ``url`` into the storage (``download-url``); returns the task
        ID (a coroutine for the async SDK). Non-http(s), private and loopback URLs are
        refused unless ``verify_url=False``."""
        if verify_url:
            _check_public_http_url(url)
        name = filename or os.path.basename(urlparse(url).path)
        if not name:
            raise ValueError(f"filename: cannot infer one from {url!r}; pass filename=")
        params: dict[str, Any] = {"url": url, "content": content, "filename": name}
        if checksum:
            params["checksum"] = checksum
            params["checksum-algorithm"] = checksum_type or "sha256"
        return self._storage()("download-url").post(**params)

    def upload_local_file_to_storage(self, filename: str, **_: Any) -> Any:
        """Upload a local file (multipart, streamed). Needs the HTTPS transport, which is
        not part of this build yet."""
        raise BackendNotAvailableError(
            "upload_local_file_to_storage needs the https transport, which is not part of this build yet"
        )
