"""Files: put ISO images, templates and imports onto a PVE storage."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
from typing import Any
from urllib.parse import urlparse


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

    def upload_local_file_to_storage(
        self,
        filename: str | os.PathLike[str],
        content: str | None = None,
        checksum: bool | str = True,
        checksum_type: str = "sha256",
        remote_filename: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Upload a local file to the storage (multipart, streamed from disk: memory stays
        flat whatever the size). ``content`` is inferred from the extension when not given
        (``.iso``/``.img`` -> ``iso``, ``.tar.gz``/``.tar.xz``/``.tar.zst`` -> ``vztmpl``,
        ``.ova``/``.ovf``/``.qcow2``/``.vmdk``/``.raw`` -> ``import``). With
        ``checksum=True`` the file's digest is computed (a streaming pass) and sent so PVE
        verifies what arrived; a string is taken as the expected digest. Returns the
        upload task's UPID (a coroutine for the async SDK)."""
        path = os.fspath(filename)
        if not os.path.isfile(path):
            raise ValueError(f"filename: {path!r} is not a readable file")
        name = remote_filename or os.path.basename(path)
        kind = content or _infer_content(name)
        if kind is None:
            raise ValueError(
                f"content: cannot infer it from {name!r}; pass content='iso', 'vztmpl' or 'import'"
            )
        params: dict[str, Any] = {"content": kind}
        if checksum:
            digest = checksum if isinstance(checksum, str) else _file_digest(path, checksum_type)
            params["checksum"] = digest
            params["checksum-algorithm"] = checksum_type
        if timeout is not None:
            params["_timeout"] = timeout
        params["filename"] = _NamedPath(path, name)
        return self._storage().upload.post(**params)


_CONTENT_BY_SUFFIX = (
    ((".iso", ".img"), "iso"),
    ((".tar.gz", ".tar.xz", ".tar.zst", ".tgz"), "vztmpl"),
    ((".ova", ".ovf", ".qcow2", ".vmdk", ".raw"), "import"),
)


def _infer_content(name: str) -> str | None:
    lower = name.lower()
    for suffixes, kind in _CONTENT_BY_SUFFIX:
        if lower.endswith(suffixes):
            return kind
    return None


def _file_digest(path: str, algorithm: str) -> str:
    if algorithm not in hashlib.algorithms_guaranteed:
        raise ValueError(f"checksum_type: unknown algorithm {algorithm!r}")
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _NamedPath(os.PathLike[str]):
    """A path sent under another file name (``remote_filename``)."""

    def __init__(self, path: str, name: str) -> None:
        self.path = path
        self.name = name

    def __fspath__(self) -> str:
        return self.path
