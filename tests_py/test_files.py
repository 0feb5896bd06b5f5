"""The Files tool: downloads through PVE (URL guard, file name, checksum discovery from a
real HTTP server on 127.0.0.1) and uploads (content inference, checksums) on the mock."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from proxmox_sdk import Files, ProxmoxSDK
from proxmox_sdk.sdk.api import isolated_namespace
from proxmox_sdk.sdk.tools.files import parse_checksum_file


@pytest.fixture
def px() -> Any:
    return ProxmoxSDK.sync_mock(mock_namespace=isolated_namespace("files"))


@pytest.fixture
def sums_server(tmp_path: Path) -> Iterator[str]:
    """Serves ``tmp_path`` over HTTP on 127.0.0.1."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def last_post(px: Any, suffix: str) -> dict[str, Any]:
    posts = [r for r in px.mock_store.requests() if r["path"].endswith(suffix)]
    return posts[-1]["params"]


def test_url_guard(px: Any) -> None:
    files = Files(px, "pve1", "local")
    for bad in (
        "ftp://example.com/a.iso",
        "file:///etc/passwd",
        "http://127.0.0.1/a.iso",
        "http://10.1.2.3/a.iso",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/a.iso",
    ):
        with pytest.raises(ValueError, match="url:"):
            files.download_file_to_storage(bad)
    with pytest.raises(ValueError, match="node and storage"):
        Files(px, "", "local")


def test_checksum_discovery_and_names(px: Any, sums_server: str, tmp_path: Path) -> None:
    digest = hashlib.sha256(b"debian").hexdigest()
    (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64}  other.iso\n{digest} *debian-13.iso\n")
    files = Files(px, "pve1", "local")
    upid = files.download_file_to_storage(f"{sums_server}/debian-13.iso", verify_url=False)
    assert upid.startswith("UPID:pve1:")
    sent = last_post(px, "/download-url")
    assert sent["filename"] == "debian-13.iso"
    assert (sent["checksum"], sent["checksum-algorithm"]) == (digest, "sha256")
    # No sums file for this one: no checksum is sent.
    files.download_file_to_storage(f"{sums_server}/sub/none.iso", verify_url=False)
    assert "checksum" not in last_post(px, "/download-url")
    # An explicit checksum wins and discovery is skipped.
    files.download_file_to_storage(
        f"{sums_server}/debian-13.iso", checksum="ab" * 32, verify_url=False
    )
    assert last_post(px, "/download-url")["checksum"] == "ab" * 32
    # A URL without a file name asks PVE (query-url-metadata); no name there: an error.
    with pytest.raises(ValueError, match="filename: cannot infer"):
        files.download_file_to_storage(f"{sums_server}/", verify_url=False)
    px.mock_store.set_object(
        "/api2/json/nodes/pve1/query-url-metadata",
        {"filename": "from-metadata.iso", "size": 6, "mimetype": "application/x-iso9660-image"},
    )
    files.download_file_to_storage(f"{sums_server}/", verify_url=False, discover_checksum=False)
    assert last_post(px, "/download-url")["filename"] == "from-metadata.iso"


def test_async_download(sums_server: str, tmp_path: Path) -> None:
    digest = hashlib.sha512(b"x").hexdigest()
    (tmp_path / "SHA512SUMS").write_text(f"SHA512 (x.iso) = {digest}\n")

    async def go() -> None:
        apx = ProxmoxSDK.mock(mock_namespace=isolated_namespace("files"))
        upid = await Files(apx, "pve1", "local").download_file_to_storage(
            f"{sums_server}/x.iso", verify_url=False
        )
        assert upid.startswith("UPID:")
        sent = last_post(apx, "/download-url")
        assert (sent["checksum"], sent["checksum-algorithm"]) == (digest, "sha512")

    asyncio.run(go())


def test_parse_checksum_file() -> None:
    h = "a" * 64
    assert parse_checksum_file(f"{h}  a.iso\n", "a.iso") == h
    assert parse_checksum_file(f"{h.upper()} *a.iso\n", "a.iso") == h
    assert parse_checksum_file(f"SHA256 (a.iso) = {h}\n", "a.iso") == h
    assert parse_checksum_file(f"{h}  b.iso\n", "a.iso") is None
    assert parse_checksum_file("garbage\n", "a.iso") is None


def test_uploads_on_the_mock(px: Any, tmp_path: Path) -> None:
    files = Files(px, "pve1", "local")
    tmpl = tmp_path / "debian-13-standard.tar.zst"
    tmpl.write_bytes(b"template bytes")
    upid = files.upload_local_file_to_storage(tmpl)
    status = px.nodes("pve1").tasks(upid).status.get()
    assert status["exitstatus"] == "OK"
    content = px.nodes("pve1").storage("local").content.get(content="vztmpl")
    assert [(c["volid"], c["size"]) for c in content] == [
        ("local:vztmpl/debian-13-standard.tar.zst", len(b"template bytes"))
    ]
    sent = last_post(px, "/upload")
    assert sent["checksum"] == hashlib.sha256(b"template bytes").hexdigest()
    # A wrong expected digest fails the task as PVE does.
    upid = files.upload_local_file_to_storage(tmpl, checksum="0" * 64, remote_filename="b.tar.zst")
    assert px.nodes("pve1").tasks(upid).status.get()["exitstatus"].startswith("checksum mismatch")
    with pytest.raises(ValueError, match="content: cannot infer"):
        files.upload_local_file_to_storage(
            tmp_path / "debian-13-standard.tar.zst", remote_filename="x.bin"
        )
    with pytest.raises(ValueError, match="not a readable file"):
        files.upload_local_file_to_storage(tmp_path / "missing.iso")
