"""Small fakes of the Ceph services the direct providers talk to, served on 127.0.0.1 by
the standard library's HTTP server: the Manager Dashboard REST API (JWT login, versioned
media types) and the RGW Admin Ops API (requests checked against S3 v2 signatures computed
here, independently of the client). Each records what it was asked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

DASHBOARD_TOKEN = "jwt-abc.def.ghi"


class _Base(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, *_: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw else None

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def _route(self, method: str) -> None:
        raise NotImplementedError


class DashboardHandler(_Base):
    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        state = self.server.state
        body = self._body()
        state["requests"].append((method, url.path, self.headers.get("Accept"), url.query))
        if url.path == "/api/auth" and method == "POST":
            if body == {"username": "admin", "password": "dash-pw"}:
                self._send(201, {"token": DASHBOARD_TOKEN, "username": "admin"})
            else:
                self._send(401, {"detail": "Invalid credentials"})
            return
        if self.headers.get("Authorization") != f"Bearer {DASHBOARD_TOKEN}":
            self._send(401, {"detail": "No token"})
            return
        version = "2.0" if url.path.startswith("/api/block/image") else "1.0"
        if self.headers.get("Accept") != f"application/vnd.ceph.api.v{version}+json":
            self._send(415, {"detail": "Unsupported media type"})
            return
        pools = state["pools"]
        if url.path == "/api/summary":
            self._send(
                200, {"version": "ceph version 19.2.3 squid (stable)", "health_status": "HEALTH_OK"}
            )
        elif url.path == "/api/health/minimal":
            self._send(200, {"health": {"status": "HEALTH_OK", "checks": []}})
        elif url.path == "/api/host":
            self._send(200, [{"hostname": "ceph1", "addr": "10.0.0.11", "labels": ["_admin"]}])
        elif url.path == "/api/osd":
            self._send(200, [{"osd": 0, "up": 1, "in": 1, "host": {"name": "ceph1"}}])
        elif url.path == "/api/pool" and method == "GET":
            assert parse_qs(url.query).get("stats") == ["true"]
            self._send(
                200, [{"pool_name": n, "pool": i, **p} for i, (n, p) in enumerate(pools.items())]
            )
        elif url.path == "/api/pool" and method == "POST":
            pools[body["pool"]] = {"size": body.get("size", 3)}
            self._send(202, None)
        elif url.path.startswith("/api/pool/") and method == "DELETE":
            pools.pop(unquote(url.path.rsplit("/", 1)[1]), None)
            self._send(204, None)
        elif url.path == "/api/block/image" and method == "GET":
            self._send(200, [{"pool_name": "rbd", "value": state["images"]}])
        elif url.path == "/api/block/image" and method == "POST":
            state["images"].append(
                {"name": body["name"], "pool_name": body["pool_name"], "size": body["size"]}
            )
            self._send(201, None)
        elif url.path.startswith("/api/block/image/") and method == "PUT":
            spec = unquote(url.path.split("/api/block/image/", 1)[1])
            state["edits"].append((spec, body))
            self._send(200, None)
        else:
            self._send(404, {"detail": f"no route {method} {url.path}"})


class RGWHandler(_Base):
    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        state = self.server.state
        date = self.headers.get("Date", "")
        resource = url.path
        query = parse_qs(url.query, keep_blank_values=True)
        if "quota" in query:
            resource += "?quota"
        expected = base64.b64encode(
            hmac.new(
                state["secret"].encode(), f"{method}\n\n\n{date}\n{resource}".encode(), hashlib.sha1
            ).digest()
        ).decode()
        auth = self.headers.get("Authorization", "")
        state["requests"].append((method, url.path, url.query, auth))
        if auth != f"AWS {state['access']}:{expected}":
            self._send(403, {"Code": "SignatureDoesNotMatch"})
            return
        if query.get("format") != ["json"]:
            self._send(400, {"Code": "InvalidArgument"})
            return
        users = state["users"]
        if url.path == "/admin/metadata/user":
            self._send(200, sorted(users))
        elif url.path == "/admin/user" and method == "GET":
            uid = query["uid"][0]
            if uid not in users:
                self._send(404, {"Code": "NoSuchUser"})
            else:
                self._send(200, {**users[uid], "keys": [{"access_key": "AK", "secret_key": "SK"}]})
        elif url.path == "/admin/user" and method == "PUT" and "quota" in query:
            state["quotas"].append({k: v[0] for k, v in query.items()})
            self._send(200, None)
        elif url.path == "/admin/user" and method == "PUT":
            uid = query["uid"][0]
            users[uid] = {"user_id": uid, "display_name": query["display-name"][0], "suspended": 0}
            self._send(200, users[uid])
        elif url.path == "/admin/user" and method == "POST":
            uid = query["uid"][0]
            if "suspended" in query:
                users[uid]["suspended"] = 1 if query["suspended"][0] == "true" else 0
            self._send(200, users[uid])
        elif url.path == "/admin/user" and method == "DELETE":
            users.pop(query["uid"][0], None)
            self._send(200, None)
        elif url.path == "/admin/bucket" and method == "GET" and "bucket" in query:
            self._send(200, {"bucket": query["bucket"][0], "owner": "alice", "num_objects": 3})
        elif url.path == "/admin/bucket" and method == "GET":
            self._send(200, ["photos", "logs"])
        elif url.path == "/admin/usage":
            self._send(200, {"entries": [], "summary": [{"user": "alice", "total": {"ops": 7}}]})
        else:
            self._send(404, {"Code": f"no route {method} {url.path}"})


class FakeService:
    """A fake service running in a thread: ``url``, ``state``, ``stop()``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], state: dict[str, Any]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.state = state  # type: ignore[attr-defined]
        self.state = state
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def dashboard() -> FakeService:
    return FakeService(
        DashboardHandler,
        {"requests": [], "pools": {"rbd": {"size": 3}}, "images": [], "edits": []},
    )


def rgw(access: str, secret: str) -> FakeService:
    return FakeService(
        RGWHandler,
        {
            "requests": [],
            "access": access,
            "secret": secret,
            "quotas": [],
            "users": {"alice": {"user_id": "alice", "display_name": "Alice", "suspended": 0}},
        },
    )
