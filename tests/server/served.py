"""seamline serving on loopback in a child process, the way people run it, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    """A loopback TCP port nobody listens on now (the child binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass(frozen=True, slots=True)
class Child:
    """The running command and where its output goes."""

    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def printed(self) -> str:
        """Everything it has printed on stdout so far."""
        return self.stdout.read_text(encoding="utf-8")


@contextmanager
def seamline(
    *args: str, cwd: Path, ready: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> Iterator[Child]:
    """Run ``python -m seamline ARGS`` in ``cwd`` until the URL ``ready`` answers, yield it,
    then stop it with SIGTERM (its return code is then the process's)."""
    stdout, stderr = cwd / "stdout.txt", cwd / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "seamline", *args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=err,
        )
    child = Child(process, stdout, stderr)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(ready, timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None, stderr.read_text(encoding="utf-8")
                assert time.monotonic() < deadline, f"nothing answered at {ready}"
                time.sleep(0.1)
        yield child
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
