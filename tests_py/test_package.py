"""The installed package: cheap import, version, typing marker, stubs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import proxmox_sdk
import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_import_does_not_load_the_native_module() -> None:
    code = (
        "import sys, proxmox_sdk; "
        "assert 'proxmox_sdk._native' not in sys.modules, 'native loaded at import'; "
        "assert 'proxmox_sdk.schema' not in sys.modules; "
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_version_matches_cargo() -> None:
    # The workspace holds the version; the main crate and the module crate inherit it.
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    version = cargo["workspace"]["package"]["version"]
    assert cargo["package"]["version"] == {"workspace": True}
    native = tomllib.loads((ROOT / "native" / "Cargo.toml").read_text())
    assert native["package"]["version"] == {"workspace": True}
    assert proxmox_sdk.__version__ == version
    from proxmox_sdk import _native

    assert _native.__version__ == version


def test_lazy_names_and_errors() -> None:
    assert proxmox_sdk.schema.__name__ == "proxmox_sdk.schema"
    assert issubclass(proxmox_sdk.ValidationError, proxmox_sdk.ResourceException)
    assert issubclass(proxmox_sdk.ResourceException, proxmox_sdk.ProxmoxSDKError)
    try:
        proxmox_sdk.DoesNotExist  # noqa: B018
    except AttributeError as e:
        assert "DoesNotExist" in str(e)
    else:
        raise AssertionError("unknown attribute did not raise")
    assert "schema" in dir(proxmox_sdk)


def test_typed_package() -> None:
    pkg = Path(proxmox_sdk.__file__).parent
    assert (pkg / "py.typed").is_file()
    assert (pkg / "_native.pyi").is_file()


def test_resource_exception_format_and_pickle() -> None:
    import pickle

    from proxmox_sdk.sdk.exceptions import ResourceException, ValidationError

    e = ResourceException(500, "Internal Server Error", "boom", errors={"a": "b"}, exit_code=2)
    assert str(e) == "HTTP 500 Internal Server Error: boom"
    assert (e.status_code, e.status_message, e.content, e.errors, e.exit_code) == (
        500,
        "Internal Server Error",
        "boom",
        {"a": "b"},
        2,
    )
    back = pickle.loads(pickle.dumps(e))
    assert str(back) == str(e) and back.errors == {"a": "b"}
    v = ValidationError({"vmid": "value must have a minimum value of 100\n", "cores": "bad"})
    assert str(v) == (
        "HTTP 400 Parameter verification failed.: "
        "cores: bad; vmid: value must have a minimum value of 100"
    )
    assert pickle.loads(pickle.dumps(v)).errors == v.errors
