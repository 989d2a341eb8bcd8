"""The API served for real (uvicorn on loopback), on both stores, and only with its extra."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from pathlib import Path

import anyio
import httpx
import pytest
import uvicorn
from api_world import IBAN, World, build_world
from fastapi import FastAPI

from seamline.stores import SqliteStore, Store


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` on uvicorn on a free loopback port, in a thread; yields its base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        listener.close()


def test_a_real_server_serves_decides_and_escalates_overdue_gates(tmp_path: Path) -> None:
    """Over TCP: the schema, the gate inbox, its escalation past the deadline by the server's
    sweep, and the decision that finishes the workflow."""

    store = SqliteStore(tmp_path / "served.db")

    async def build() -> World:
        return await build_world(store, deadline=timedelta(milliseconds=1), escalate_every=0.05)

    world = anyio.run(build)
    with (
        closing(store),
        serving(world.app) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        assert client.get("/openapi.json").json()["info"]["title"] == "seamline"
        assert client.get("/api/gates").status_code == 401
        payments = world.auth("payments")
        waited = time.monotonic() + 10
        while (gate := client.get(f"/api/gates/{world.gate}", headers=payments).json())[
            "escalated_to"
        ] is None:
            assert time.monotonic() < waited, "the overdue gate was never escalated"
            time.sleep(0.05)
        assert gate["escalated_to"] == "payments-oncall@example.com"
        decided = client.post(
            f"/api/gates/{world.gate}/decision", json={"decision": "approve"}, headers=payments
        )
        assert decided.status_code == 200 and decided.json()["status"] == "completed"
        assert IBAN not in client.get(f"/api/handoffs/{world.gate}", headers=payments).text


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_api_on_each_store(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    """Reads, a gate decision, a discard and the audit log work the same on both stores."""
    store: Store = (
        request.getfixturevalue("pg_store")
        if backend == "postgres"
        else SqliteStore(tmp_path / "smoke.db")
    )

    async def scenario() -> None:
        world = await build_world(store)
        async with world.client("payments") as api:
            assert len((await api.get("/api/workflows")).json()) == 4
            decided = await api.post(
                f"/api/gates/{world.gate}/decision", json={"decision": "approve"}
            )
            assert decided.json()["status"] == "completed"
            discarded = await api.post(
                f"/api/dead-letters/{world.payments_letter}/discard", json={"reason": "dup"}
            )
            assert discarded.json()["status"] == "discarded"
            log = (await api.get("/api/audit-log")).json()
            assert [(e["action"], e["outcome"]) for e in log] == [
                ("dead_letter.discard", "ok"),
                ("gate.decide", "ok"),
            ]
        async with world.client("ops") as api:
            assert len((await api.get("/api/tokens")).json()) == 3

    anyio.run(scenario)


def python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_core_install_never_imports_the_server_stack() -> None:
    """Importing seamline, its CLI (serve and tokens included) and access loads no FastAPI,
    Starlette or uvicorn."""
    done = python(
        "import sys, seamline, seamline.cli, seamline.access, seamline.health\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'starlette', 'uvicorn')))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_the_extra_serve_names_it(tmp_path: Path) -> None:
    """Without FastAPI, importing the server and `seamline serve` say which extra to install."""
    SqliteStore(tmp_path / "s.db").close()
    done = python(
        "import sys\n"
        "sys.modules['fastapi'] = None\n"
        "from seamline.exceptions import MissingExtraError\n"
        "try:\n"
        "    import seamline.server\n"
        "except MissingExtraError as error:\n"
        "    print(error)\n"
        "from seamline.cli import main\n"
        f"sys.argv = ['seamline', 'serve', '--store', {str(tmp_path / 's.db')!r}, "
        "'--app', 'seamline.demo:build_registry']\n"
        "main()\n"
    )
    expected = (
        'the HTTP API (seamline serve) needs an optional dependency: pip install "seamline[server]"'
    )
    assert done.stdout.strip() == expected
    assert done.returncode == 1 and " ".join(done.stderr.split()) == f"error: {expected}"
