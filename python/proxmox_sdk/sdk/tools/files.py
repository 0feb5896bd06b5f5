"""Files: put ISO images, templates and imports onto a PVE storage."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import socket
import urllib.request
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


def _name_from_url(url: str) -> str | None:
    name = os.path.basename(urlparse(url).path)
    return name or None


def parse_checksum_file(text: str, name: str) -> str | None:
    """The digest of ``name`` in a ``SHA256SUMS``-style file (GNU ``hash  name`` or
    ``hash *name``, or BSD ``SHA256 (name) = hash``)."""
    for line in text.splitlines():
        line = line.strip()
        bsd = re.fullmatch(r"[A-Z0-9-]+ \((.+)\) = ([0-9a-fA-F]+)", line)
        if bsd and bsd.group(1) == name:
            return bsd.group(2).lower()
        parts = line.split(None, 1)
        if len(parts) == 2 and re.fullmatch(r"[0-9a-fA-F]{32,128}", parts[0]):
            if parts[1].lstrip("*").strip() == name:
                return parts[0].lower()
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _discover_checksum(url: str, name: str, verify_url: bool) -> dict[str, str]:
    """``{checksum, checksum-algorithm}`` from a sums file next to ``url``, or ``{}``."""
    base = url.rsplit("/", 1)[0]
    opener = urllib.request.build_opener(_NoRedirect)
    for sums, algorithm in (("SHA512SUMS", "sha512"), ("SHA256SUMS", "sha256")):
        sums_url = f"{base}/{sums}"
        try:
            if verify_url:
                _check_public_http_url(sums_url)
            with opener.open(sums_url, timeout=10) as resp:
                text = resp.read(1 << 20).decode("utf-8", "replace")
        except (OSError, ValueError):
            continue
        digest = parse_checksum_file(text, name)
        if digest:
            return {"checksum": digest, "checksum-algorithm": algorithm}
    return {}


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
        discover_checksum: bool = True,
    ) -> Any:
        """Have PVE download ``url`` into the storage (``download-url``); returns the task
        ID (a coroutine for the async SDK).

        Non-http(s), private, loopback and link-local URLs are refused unless
        ``verify_url=False``. The file name comes from ``filename``, else the URL, else
        PVE's ``query-url-metadata``. Without ``checksum``, ``discover_checksum`` looks for
        ``SHA512SUMS``/``SHA256SUMS`` next to the file (fetched here, no redirects, 1 MB
        cap, the same URL guard) and passes the digest on so PVE verifies the download."""
        if verify_url:
            _check_public_http_url(url)
        name = filename or _name_from_url(url)
        if getattr(self._prox, "is_async", False):
            return self._download_async(
                url, checksum, checksum_type, content, name, verify_url, discover_checksum
            )
        if not name:
            name = self._metadata_name(self._query_metadata_sync(url), url)
        params = self._download_params(url, content, name, checksum, checksum_type)
        if "checksum" not in params and discover_checksum:
            params.update(_discover_checksum(url, name, verify_url))
        return self._storage()("download-url").post(**params)

    async def _download_async(
        self,
        url: str,
        checksum: str | None,
        checksum_type: str | None,
        content: str,
        name: str | None,
        verify_url: bool,
        discover_checksum: bool,
    ) -> Any:
        import asyncio

        if not name:
            meta = await self._prox.nodes(self.node)("query-url-metadata").get(url=url)
            name = self._metadata_name(meta, url)
        params = self._download_params(url, content, name, checksum, checksum_type)
        if "checksum" not in params and discover_checksum:
            params.update(await asyncio.to_thread(_discover_checksum, url, name, verify_url))
        return await self._storage()("download-url").post(**params)

    def _query_metadata_sync(self, url: str) -> Any:
        return self._prox.nodes(self.node)("query-url-metadata").get(url=url)

    @staticmethod
    def _metadata_name(meta: Any, url: str) -> str:
        name = meta.get("filename") if isinstance(meta, dict) else None
        if not name:
            raise ValueError(f"filename: cannot infer one from {url!r}; pass filename=")
        return str(name)

    @staticmethod
    def _download_params(
        url: str, content: str, name: str, checksum: str | None, checksum_type: str | None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"url": url, "content": content, "filename": name}
        if checksum:
            params["checksum"] = checksum
            params["checksum-algorithm"] = checksum_type or "sha256"
        return params

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
