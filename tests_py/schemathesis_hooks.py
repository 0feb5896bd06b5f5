"""schemathesis checks for the strict server run (``SCHEMATHESIS_HOOKS``): a 5xx passes
only as PVE answers it, a refusal in PVE's envelope with PVE's wording (``500`` for a
state PVE refuses, ``501`` for what it does not implement, ``595`` for an offline node),
never a crash, an internal error or a body that is not PVE's."""

from __future__ import annotations

from typing import Any

import schemathesis

PVE_STATUSES = {500, 501, 595}


@schemathesis.check
def pve_refusals_only(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code < 500:
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} without PVE's JSON envelope") from None
    message = body.get("message") if isinstance(body, dict) else None
    if response.status_code not in PVE_STATUSES:
        raise AssertionError(f"status {response.status_code} is none PVE answers with")
    if not isinstance(message, str) or not message.strip():
        raise AssertionError(f"{response.status_code} without PVE's message")
    # The native core's own failures (PVE's messages may quote the caller's input, so
    # only how a message starts tells).
    lowered = message.lower()
    if lowered.startswith(("internal error", "thread '")) or " panicked at " in lowered:
        raise AssertionError(f"{response.status_code}: {message.strip()}")
    return None
