"""The state file (``--state-file``): an acknowledged write is on disk before its answer,
so SIGKILL at any moment loses nothing acknowledged; the file is its owner's only and
keeps secrets as PVE keeps them."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROUNDS = 20


def _start(state: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxmox_sdk.server", "--state-file", str(state), *extra],
        env={**os.environ, "PORT": "0", "PROXMOX_MOCK_PASSWORD": "state-pass"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline() if proc.stdout else ""
    assert "http://" in first, (first, proc.stderr.read() if proc.stderr else "")
    return proc, first.split(": ", 1)[1].split("/api2/json")[0].strip()


def _stop(proc: subprocess.Popen[str], sig: int) -> None:
    proc.send_signal(sig)
    proc.wait(timeout=30)
    proc.communicate(timeout=10)


def _check_round(
    c: httpx.Client, round_no: int, expected: dict[str, str | None], uncertain: set[str]
) -> dict[str, str | None]:
    """Asserts every acknowledged write survived; returns the state to continue from."""
    pools = {p["poolid"]: p.get("comment") for p in c.get("/api2/json/pools").json()["data"]}
    for pool, comment in expected.items():
        if pool in uncertain:
            continue
        assert pool in pools, (round_no, pool)
        if comment is not None:
            assert pools[pool] == comment, (round_no, pool, pools[pool], comment)
    for pool in set(pools) - set(expected) - uncertain:
        raise AssertionError(f"round {round_no}: {pool} came back after its acknowledged delete")
    return {p: expected.get(p) for p in pools}


class _Load:
    """Writers of one round: what they wrote with an acknowledgement, and what was in
    flight when the server died."""

    def __init__(self, round_no: int, expected: dict[str, str | None], uncertain: set[str]) -> None:
        self.round_no = round_no
        self.expected = expected
        self.uncertain = uncertain
        self.stop = threading.Event()
        self.acknowledged = 0

    def writer(self, n: int, client: httpx.Client) -> None:
        i = 0
        while not self.stop.is_set():
            pool = f"r{self.round_no}w{n}i{i}"
            i += 1
            self.uncertain.add(pool)
            try:
                if client.post("/api2/json/pools", data={"poolid": pool}).status_code == 200:
                    self.expected[pool] = None
                    self.acknowledged += 1
                if i % 3 == 0:
                    r = client.put(f"/api2/json/pools/{pool}", data={"comment": f"c{i}"})
                    if r.status_code == 200:
                        self.expected[pool] = f"c{i}"
                if i % 5 == 0 and client.delete(f"/api2/json/pools/{pool}").status_code == 200:
                    self.expected.pop(pool, None)
            except httpx.HTTPError:
                return  # the server is gone; `pool` stays uncertain
            self.uncertain.discard(pool)


def test_sigkill_under_writes_loses_nothing_acknowledged(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    rng = random.Random(1234)
    expected: dict[str, str | None] = {}  # pool -> comment set (None: none), acknowledged
    uncertain: set[str] = set()  # in flight when the server died
    acknowledged = 0
    for round_no in range(ROUNDS + 1):
        proc, url = _start(state, "--no-auth", "--namespace", f"kill-{round_no}")
        clients = [httpx.Client(base_url=url, timeout=10) for _ in range(4)]
        try:
            expected = _check_round(clients[0], round_no, expected, uncertain)
            uncertain = set()
            if round_no == ROUNDS:
                break
            load = _Load(round_no, expected, uncertain)
            threads = [
                threading.Thread(target=load.writer, args=(n, clients[n + 1])) for n in range(3)
            ]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.1, 0.5))
            proc.send_signal(signal.SIGKILL)
            load.stop.set()
            for t in threads:
                t.join(timeout=20)
            acknowledged += load.acknowledged
        finally:
            for client in clients:
                client.close()
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            proc.communicate(timeout=10)
    assert acknowledged > 50, "the load wrote something"


def test_state_file_is_private_and_keeps_secrets_as_pve(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    proc, url = _start(state)
    try:
        with httpx.Client(base_url=url) as c:
            login = c.post(
                "/api2/json/access/ticket",
                data={"username": "root@pam", "password": "state-pass"},
            ).json()["data"]
            c.cookies.set("PVEAuthCookie", login["ticket"])
            c.headers["CSRFPreventionToken"] = login["CSRFPreventionToken"]
            assert (
                c.post(
                    "/api2/json/access/users",
                    data={"userid": "alice@pve", "password": "Alice-Secret-77"},
                ).status_code
                == 200
            )
            r = c.post("/api2/json/nodes/pve1/qemu", data={"vmid": "100", "cipassword": "Ci-Pw-55"})
            assert r.status_code == 200
            # Acknowledged, so already on disk (before any clean stop).
            text = state.read_text()
            assert stat.S_IMODE(state.stat().st_mode) == 0o600
            assert "alice@pve" in text
            config = c.get("/api2/json/nodes/pve1/qemu/100/config").json()["data"]
            assert config["cipassword"] == "**********"
    finally:
        _stop(proc, signal.SIGTERM)
    text = state.read_text()
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    for secret in ("state-pass", "Alice-Secret-77", "Ci-Pw-55"):
        assert secret not in text, secret
    saved: Any = json.loads(text)
    dumped = json.dumps(saved)
    assert "$6$" in dumped and "$5$" in dumped  # sha512-crypt passwords, sha256-crypt cipassword
    # The hashed cloud-init password still reads back masked, and the user still logs in.
    proc, url = _start(state)
    try:
        r = httpx.post(
            f"{url}/api2/json/access/ticket",
            data={"username": "alice@pve", "password": "Alice-Secret-77"},
        )
        assert r.status_code == 200
    finally:
        _stop(proc, signal.SIGTERM)
