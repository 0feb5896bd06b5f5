"""``proxmox-sdk-codegen``: PVE apidoc -> ``generated/proxmox/<tag>/`` (native)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the codegen with ``argv`` (defaults to ``sys.argv``); returns the exit code."""
    from proxmox_sdk import _native

    args = list(sys.argv if argv is None else ["proxmox-sdk-codegen", *argv])
    code = _native.codegen_main(args)
    if argv is None:
        raise SystemExit(code)
    return code


if __name__ == "__main__":
    main()
