"""``proxmox`` / ``proxmox-cli`` / ``pbx``: the native command line (see ``proxmox --help``)."""

from __future__ import annotations

import os
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) its exit code."""
    from proxmox_sdk import _native

    args = list(sys.argv if argv is None else argv)
    if args:
        args[0] = os.path.basename(args[0]) or "proxmox"
    sys.stdout.flush()
    # The native code runs without the GIL: Python's SIGINT handler would only set a flag
    # it never sees, so Ctrl-C gets the default action (`proxmox mock` installs its own
    # handler for a graceful stop).
    previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        return _native.cli_main(args)
    finally:
        signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    sys.exit(main())
