"""A scenario runner for the differential test against fakepve (test_differential.py).

A scenario is a list of steps, each one API call; the runner plays it against a server
and records, per step, what a client can notice: the status code, the reason phrase
(PVE's message), the names of the parameters a 400 blames, the shape of ``data`` (its
JSON types and keys, never its values) and, when the call starts a task, the task's
exit status. Two recordings are compared step by step.

Steps may use ``{name}`` placeholders filled from values saved by earlier steps
(``save={"name": "data.value"}``) and act as another identity (``as_="alice"``: a
ticket saved by a ``login`` step, or a token saved by a token step; ``as_=None``: no
credentials at all).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx


@contextmanager
def our_server(settings: dict[str, str]) -> Iterator[str]:
    """Our mock server (`python -m proxmox_sdk.server`) on a free port with these
    environment settings and no data file; gives ``https://host:port``, stops it after."""
    env = {**os.environ, "PORT": "0", **settings}
    env.pop("PROXMOX_MOCK_DATA_PATH", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxmox_sdk.server"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "/api2/json" in line, line
        yield line.split(": ", 1)[1].split("/api2/json")[0]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)


def sigint_default() -> None:
    """``preexec_fn`` for a Python server stopped with SIGINT (fakepve): SIGINT back to its
    default, for a test run started where it is ignored (`nohup cmd &`, a background job
    without job control), since an ignored signal stays ignored across exec and Python then
    installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


Shape = Any


@dataclass
class Step:
    name: str
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    as_: str | None = "root"
    # saved name -> where in the answer: "data", "data.<key>", "login" (ticket + CSRF),
    # "token" (data.full-tokenid and data.value as a token header)
    save: dict[str, str] = field(default_factory=dict)
    # the shape of data is not compared (values the two servers invent differently)
    shape: bool = True


def step(
    name: str, method: str, path: str, params: dict[str, Any] | None = None, **kw: Any
) -> Step:
    return Step(name, method, path, params or {}, **kw)


_UPID = re.compile(r"UPID:[^\s'\"]+")
_HEX = re.compile(r"\b[0-9a-f]{40,64}\b")


def normalize(text: str) -> str:
    """A message with what legitimately differs between servers (task ids, digests,
    trailing newlines) replaced by placeholders."""
    return _HEX.sub("<digest>", _UPID.sub("<upid>", text)).strip()


def shape(value: Any) -> Shape:
    """The JSON shape of a value: scalars by type, objects by key, lists by the union of
    their members' shapes."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    merged: Shape = None
    for item in value:
        merged = _merge(merged, shape(item))
    return ["list", merged]


def _merge(a: Shape, b: Shape) -> Shape:
    if a is None:
        return b
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = _merge(out.get(k), v)
        return out
    if isinstance(a, list) and isinstance(b, list):
        return ["list", _merge(a[1], b[1])]
    return a if a == b else "mixed"


def _lookup(answer: dict[str, Any], where: str) -> Any:
    value: Any = answer
    for part in where.split("."):
        value = value[part] if isinstance(value, dict) else None
    return value


class Player:
    """Plays steps against one server (``base`` = ``https://host:port``)."""

    def __init__(self, base: str, password: str, node: str) -> None:
        self.http = httpx.Client(base_url=f"{base}/api2/json", verify=False, timeout=30)
        self.node = node
        self.saved: dict[str, Any] = {"node": node}
        self.identities: dict[str, dict[str, str]] = {}
        self.identities["root"] = self._login("root@pam", password)

    def close(self) -> None:
        self.http.close()

    def _login(self, user: str, password: str) -> dict[str, str]:
        r = self.http.post("/access/ticket", data={"username": user, "password": password})
        r.raise_for_status()
        data = r.json()["data"]
        return {
            "Cookie": f"PVEAuthCookie={data['ticket']}",
            "CSRFPreventionToken": data["CSRFPreventionToken"],
        }

    def _fill(self, value: Any) -> Any:
        if isinstance(value, str):
            return re.sub(r"\{(\w+)\}", lambda m: str(self.saved[m.group(1)]), value)
        return value

    def send(self, s: Step) -> httpx.Response:
        path = self._fill(s.path)
        params = {k: self._fill(v) for k, v in s.params.items()}
        # an identity whose login failed sends no credentials (and the step shows it)
        headers = dict(self.identities.get(s.as_, {})) if s.as_ else {}
        if s.method in ("GET", "DELETE"):
            # PVE reads GET and DELETE parameters from the query string only
            return self.http.request(s.method, path, params=params, headers=headers)
        return self.http.request(s.method, path, data=params, headers=headers)

    def wait(self, upid: str) -> str:
        node = upid.split(":")[1]
        headers = self.identities["root"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            r = self.http.get(f"/nodes/{node}/tasks/{upid}/status", headers=headers)
            data = r.json().get("data") or {}
            if data.get("status") == "stopped":
                return normalize(str(data.get("exitstatus")))
            time.sleep(0.05)
        return "<still running>"

    def play(self, s: Step) -> dict[str, Any]:
        r = self.send(s)
        try:
            answer = r.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        data = answer.get("data")
        record: dict[str, Any] = {
            "status": r.status_code,
            "message": normalize(r.reason_phrase),
            "errors": {k: normalize(str(v)) for k, v in (answer.get("errors") or {}).items()},
        }
        if s.shape:
            record["shape"] = shape(data)
        if r.status_code == 200 and isinstance(data, str) and data.startswith("UPID:"):
            record["task"] = self.wait(data)
        if r.status_code == 200:
            for name, where in s.save.items():
                if where == "login":
                    self.identities[name] = {
                        "Cookie": f"PVEAuthCookie={data['ticket']}",
                        "CSRFPreventionToken": data["CSRFPreventionToken"],
                    }
                elif where == "token":
                    self.identities[name] = {
                        "Authorization": f"PVEAPIToken={data['full-tokenid']}={data['value']}"
                    }
                else:
                    self.saved[name] = _lookup(answer, where)
        return record


def differences(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """What a client could notice between two recordings of one step."""
    out = []
    for key in ("status", "message", "errors", "task"):
        if ours.get(key) != theirs.get(key):
            out.append(f"{key}: ours {ours.get(key)!r}, fakepve {theirs.get(key)!r}")
    if "shape" in ours:
        _diff_shape(ours["shape"], theirs["shape"], "data", out)
    return out


def _diff_shape(a: Shape, b: Shape, where: str, out: list[str]) -> None:
    if isinstance(a, list) and isinstance(b, list):
        if a[1] is not None and b[1] is not None:
            _diff_shape(a[1], b[1], where + "[]", out)
        return
    if isinstance(a, dict) and isinstance(b, dict):
        missing = sorted(set(b) - set(a))
        extra = sorted(set(a) - set(b))
        if missing:
            out.append(f"{where}: ours lacks {', '.join(missing)}")
        if extra:
            out.append(f"{where}: only ours has {', '.join(extra)}")
        for k in sorted(set(a) & set(b)):
            _diff_shape(a[k], b[k], f"{where}.{k}", out)
        return
    if a != b and "mixed" not in (a, b):
        out.append(f"{where}: ours {_kind(a)}, fakepve {_kind(b)}")


def _kind(s: Shape) -> str:
    if isinstance(s, dict):
        return "object"
    if isinstance(s, list):
        return "list"
    return str(s)
