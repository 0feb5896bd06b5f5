"""The asyncio side of native async calls (see ``src/python/bridge.rs``)."""

from __future__ import annotations

import weakref
from typing import Any

# One native mailbox per event loop: workers queue answers there and wake the loop once
# per batch. Weak keys: a closed loop goes away with its mailbox.
MAILBOXES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
