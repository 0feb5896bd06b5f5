"""Optional OpenTelemetry tracing: one CLIENT span per SDK request.

Off unless asked for: ``ProxmoxSDK(otel_enabled=True)`` or ``PROXMOX_OTEL_ENABLED=true``
(``OTEL_SDK_DISABLED=true`` wins over both). With it on and the ``otel`` extra installed
(``pip install proxmox-sdk[otel]``), every request runs in a span named
``proxmox {METHOD}`` with the attributes ``http.request.method``, ``url.path``,
``proxmox.backend`` and ``proxmox.service``; a failure is recorded on the span by its
exception type only (``ResourceException: Proxmox request failed``), so no parameter,
credential or server message ends up in a trace. Without OpenTelemetry installed it is a
silent no-op, and nothing from OpenTelemetry is imported while tracing is off.

When no tracer provider is configured, the first traced request installs one that exports
over OTLP/HTTP (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_SERVICE_NAME``), as the original
package did; an application that configures its own provider keeps it.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Awaitable
from typing import Any

from proxmox_sdk.sdk.backends.base import AbstractBackend

__all__ = ["TracingBackend", "instrument_fastapi_app", "is_enabled"]

_TRUE_VALUES = frozenset({"1", "true", "yes", "on"})
_TRACER: Any | None = None
_OTEL: dict[str, Any] | None = None
_OTEL_IMPORT_FAILED = False
_BOOTSTRAP_LOCK = threading.Lock()


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE_VALUES


def is_enabled(config: Any | None = None) -> bool:
    """Whether tracing is on: ``config`` (a bool, or anything with ``otel_enabled``) or
    ``PROXMOX_OTEL_ENABLED``; ``OTEL_SDK_DISABLED`` turns it off whatever they say."""
    if _truthy(os.environ.get("OTEL_SDK_DISABLED")):
        return False
    if isinstance(config, bool):
        enabled = config
    else:
        enabled = bool(getattr(config, "otel_enabled", False))
    return enabled or _truthy(os.environ.get("PROXMOX_OTEL_ENABLED"))


def _load_otel() -> dict[str, Any] | None:
    """The OpenTelemetry names tracing needs, imported once (``None`` when not installed)."""
    global _OTEL, _OTEL_IMPORT_FAILED
    if _OTEL is not None or _OTEL_IMPORT_FAILED:
        return _OTEL
    try:
        from opentelemetry import trace
        from opentelemetry.trace import SpanKind, Status, StatusCode
    except ImportError:
        _OTEL_IMPORT_FAILED = True
        return None
    _OTEL = {
        "trace": trace,
        "SpanKind": SpanKind,
        "Status": Status,
        "StatusCode": StatusCode,
    }
    return _OTEL


def _provider_is_default_proxy(provider: Any) -> bool:
    kind = type(provider)
    return kind.__name__ == "ProxyTracerProvider" and kind.__module__ == "opentelemetry.trace"


def _traces_exporter_enabled() -> bool:
    configured = os.environ.get("OTEL_TRACES_EXPORTER")
    if not configured:
        return True
    exporters = {part.strip().lower() for part in configured.split(",") if part.strip()}
    return "none" not in exporters and "otlp" in exporters


def _otlp_http_protocol_enabled() -> bool:
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    return protocol.strip().lower() == "http/protobuf"


def _install_default_provider(trace: Any) -> None:
    """An OTLP/HTTP exporting provider, when the application configured none (needs the
    SDK and the OTLP exporter; without them spans stay no-ops)."""
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        return
    from proxmox_sdk import __version__

    resource = Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME") or "proxmox-sdk",
            "service.version": __version__,
            "service.instance.id": f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4()}",
        }
    )
    provider = TracerProvider(resource=resource)
    if _traces_exporter_enabled() and _otlp_http_protocol_enabled():
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            pass
        else:
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def _ensure_tracer(config: Any | None = None) -> Any | None:
    """The package's tracer, set up on first use (``None`` when tracing is off or
    OpenTelemetry is missing)."""
    global _TRACER
    if not is_enabled(config):
        return None
    if _TRACER is not None:
        return _TRACER
    with _BOOTSTRAP_LOCK:
        if _TRACER is not None:
            return _TRACER
        otel = _load_otel()
        if otel is None:
            return None
        from proxmox_sdk import __version__

        trace = otel["trace"]
        try:
            if _provider_is_default_proxy(trace.get_tracer_provider()):
                _install_default_provider(trace)
            _TRACER = trace.get_tracer("proxmox_sdk", __version__)
        except Exception:
            return None
        return _TRACER


def _safe_error(exc: BaseException) -> Exception:
    """What a span records of a failure: the type only (messages can carry secrets)."""
    return Exception(f"{type(exc).__name__}: Proxmox request failed")


class _Span:
    """One request's span, as the native core drives it (``end(exception_or_None)``)."""

    __slots__ = ("_span",)

    def __init__(self, span: Any) -> None:
        self._span = span

    def end(self, exc: BaseException | None) -> None:
        otel = _OTEL
        if exc is not None and otel is not None:
            self._span.record_exception(_safe_error(exc))
            self._span.set_status(
                otel["Status"](
                    otel["StatusCode"].ERROR, f"{type(exc).__name__}: Proxmox request failed"
                )
            )
        self._span.end()


class _ClientTracer:
    """What the SDK attaches to its native client: ``start(method, path)`` for each
    request. Spans take the caller's current context as parent."""

    __slots__ = ("_backend", "_config", "_service")

    def __init__(self, backend: str, service: str, config: Any | None) -> None:
        self._backend = backend
        self._service = service
        self._config = config

    def start(self, method: str, path: str) -> _Span | None:
        tracer = _ensure_tracer(self._config)
        otel = _OTEL
        if tracer is None or otel is None:
            return None
        method = method.upper()
        span = tracer.start_span(
            f"proxmox {method}",
            kind=otel["SpanKind"].CLIENT,
            attributes={
                "http.request.method": method,
                "url.path": path,
                "proxmox.backend": self._backend,
                "proxmox.service": self._service,
            },
            record_exception=False,
            set_status_on_exception=False,
        )
        return _Span(span)


def client_tracer(backend: str, service: str, config: Any | None) -> _ClientTracer | None:
    """The tracer for one SDK (``None`` when tracing is off or OpenTelemetry is missing)."""
    if _ensure_tracer(config) is None:
        return None
    return _ClientTracer(backend, service, config)


class TracingBackend(AbstractBackend):
    """A backend wrapper that traces each ``request`` of ``inner`` (the original's
    decorator, for code that composes its own backends)."""

    def __init__(
        self,
        inner: AbstractBackend,
        *,
        backend_name: str,
        service_name: str,
        otel_enabled: bool | None = None,
    ) -> None:
        self._inner = inner
        self._tracer = _ClientTracer(backend_name, service_name, otel_enabled)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._inner, name)

    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Any:
        return await self._traced(method, path, self._inner.request(method, path, params, data))

    async def _traced(self, method: str, path: str, dispatch: Awaitable[Any]) -> Any:
        span = self._tracer.start(method, path)
        try:
            result = await dispatch
        except BaseException as exc:
            if span is not None:
                span.end(exc)
            raise
        if span is not None:
            span.end(None)
        return result

    async def close(self) -> None:
        await self._inner.close()

    async def get_tokens(self) -> tuple[str, str]:
        return await self._inner.get_tokens()


def instrument_fastapi_app(app: Any, config: Any | None = None) -> Any:
    """Instruments a FastAPI app when tracing is on and
    ``opentelemetry-instrumentation-fastapi`` is installed; returns the app either way."""
    if not is_enabled(config) or _ensure_tracer(config) is None:
        return app
    try:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    except ImportError:
        return app
    state = getattr(app, "state", None)
    if state is not None and getattr(state, "_proxmox_otel_instrumented", False):
        return app
    try:
        FastAPIInstrumentor().instrument_app(app)
    except Exception:
        return app
    if state is not None:
        state._proxmox_otel_instrumented = True
    return app
