"""``proxmox`` / ``proxmox-cli`` / ``pbx``: the native command line (see ``proxmox --help``)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) its exit code."""
    from proxmox_sdk import _native

    args = list(sys.argv if argv is None else argv)
    if args:
        args[0] = os.path.basename(args[0]) or "proxmox"
    if len(args) > 1 and "mock" in args[1:] and _first_command(args[1:]) == "mock":
        # The native server handles SIGINT/SIGTERM itself (graceful stop, exit 0).
        from proxmox_sdk.server import main as server_main

        rest = args[args.index("mock", 1) + 1 :]
        return server_main(rest)
    try:
        sys.stdout.flush()
        return _native.cli_main(args)
    except KeyboardInterrupt:
        return 130


def _first_command(args: list[str]) -> str | None:
    """The first word that is not an option (nor an option's value)."""
    with_value = {
        "-b",
        "-H",
        "-U",
        "-S",
        "-o",
        "--backend",
        "--host",
        "--user",
        "--service",
        "--output",
        "--token-name",
        "--token-value",
        "--port",
        "--profile",
        "--fingerprint",
        "--schema-version",
        "--password",
        "-P",
    }
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in with_value:
            skip = True
            continue
        if a.startswith("-"):
            continue
        return a
    return None


if __name__ == "__main__":
    sys.exit(main())
