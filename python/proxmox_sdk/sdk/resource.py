"""``ProxmoxResource``: a node of the API tree, implemented natively.

``r.name`` and ``r(x)`` build paths with no I/O; ``get/post/put/patch/delete/create/set``
and ``get_bounded`` send requests (awaitable on the async SDK, blocking on the sync one).
"""

from proxmox_sdk._native import ProxmoxCall, ProxmoxResource

__all__ = ["ProxmoxResource", "ProxmoxCall"]
