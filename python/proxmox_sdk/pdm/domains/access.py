"""``/access``: users, ACL entries, second factors, API tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from proxmox_sdk._response_utils import normalize_list, unwrap_data
from proxmox_sdk.pdm import models as m

if TYPE_CHECKING:
    from proxmox_sdk.sdk.api import ProxmoxSDK

__all__ = ["AccessDomain"]


class _UsersOps:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    async def list(self) -> list[m.PDMUser]:
        return [
            m.PDMUser.model_validate(i) for i in normalize_list(await self._sdk.access.users.get())
        ]

    async def get(self, userid: str) -> m.PDMUser:
        data = unwrap_data(await self._sdk.access.users(userid).get())
        return m.PDMUser.model_validate(
            {"userid": userid, **(data if isinstance(data, dict) else {})}
        )

    async def create(self, *, userid: str, **fields: Any) -> Any:
        return unwrap_data(await self._sdk.access.users.post(userid=userid, **fields))

    async def update(self, userid: str, **changes: Any) -> Any:
        return unwrap_data(await self._sdk.access.users(userid).put(**changes))

    async def delete(self, userid: str) -> Any:
        return unwrap_data(await self._sdk.access.users(userid).delete())

    async def passwd(self, userid: str, password: str) -> Any:
        """PDM changes a password through the user (it has no ``/access/password``)."""
        return unwrap_data(await self._sdk.access.users(userid).put(password=password))


def _acl_target(users: str | None, groups: str | None) -> dict[str, Any]:
    if users is not None and groups is not None:
        raise ValueError("users and groups: give one (PDM takes one auth-id or group per entry)")
    if users is not None:
        return {"auth-id": users}
    if groups is not None:
        return {"group": groups}
    raise ValueError("users or groups is required")


class _ACLOps:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    async def list(self) -> list[m.PDMACLEntry]:
        out = []
        for e in normalize_list(await self._sdk.access.acl.get()):
            out.append(m.PDMACLEntry.model_validate({"type": e.get("ugid_type"), **e}))
        return out

    async def update(
        self,
        *,
        path: str,
        roles: str,
        users: str | None = None,
        groups: str | None = None,
        propagate: bool | None = None,
    ) -> Any:
        """Grants ``roles`` (one role, as PDM takes it) on ``path`` to a user or token
        (``users``) or a group."""
        params: dict[str, Any] = {"path": path, "role": roles, **_acl_target(users, groups)}
        if propagate is not None:
            params["propagate"] = propagate
        return unwrap_data(await self._sdk.access.acl.put(**params))

    async def delete(
        self, *, path: str, roles: str, users: str | None = None, groups: str | None = None
    ) -> Any:
        params = {"path": path, "role": roles, "delete": True, **_acl_target(users, groups)}
        return unwrap_data(await self._sdk.access.acl.put(**params))


class _TFAOps:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    async def list(self, userid: str) -> list[m.PDMTFAEntry]:
        data = await self._sdk.access.tfa(userid).get()
        return [m.PDMTFAEntry.model_validate(i) for i in normalize_list(data)]

    async def add(self, userid: str, **payload: Any) -> Any:
        return unwrap_data(await self._sdk.access.tfa(userid).post(**payload))

    async def delete(self, userid: str, tfa_id: str) -> Any:
        return unwrap_data(await self._sdk.access.tfa(userid)(tfa_id).delete())


class _TokenOps:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    async def list(self, userid: str) -> list[m.PDMAPIToken]:
        data = await self._sdk.access.users(userid).token.get()
        return [m.PDMAPIToken.model_validate(i) for i in normalize_list(data)]

    async def create(self, userid: str, tokenid: str, **fields: Any) -> Any:
        """A new token; the answer carries its secret (``value``) this once."""
        return unwrap_data(await self._sdk.access.users(userid).token(tokenid).post(**fields))

    async def update(self, userid: str, tokenid: str, **changes: Any) -> Any:
        return unwrap_data(await self._sdk.access.users(userid).token(tokenid).put(**changes))

    async def delete(self, userid: str, tokenid: str) -> Any:
        return unwrap_data(await self._sdk.access.users(userid).token(tokenid).delete())


class AccessDomain:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk
        self.users = _UsersOps(sdk)
        self.acl = _ACLOps(sdk)
        self.tfa = _TFAOps(sdk)
        self.tokens = _TokenOps(sdk)
