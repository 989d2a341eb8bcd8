"""``seamline demo --serve``: the gated demo, served with the console at a printed URL."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import httpx
from served import free_port, seamline

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def test_demo_serve_prints_the_console_and_demo_tokens_then_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    """The demo runs the tickets with the refund gate on, prints the console's URL and a
    payments and an admin token, serves the login page there, lets payments in to two
    waiting refunds, and stops on SIGTERM."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = ("demo", "--serve", "--port", str(port), "--store", str(tmp_path / "demo.db"))
    with seamline(*command, cwd=tmp_path, ready=f"{url}login") as child:
        printed = child.printed()
        assert url in printed and "demo tokens" in printed
        assert re.search(r"T-2\s+waiting", printed) and re.search(r"T-3\s+dead_lettered", printed)
        tokens = dict(re.findall(r"(payments|admin)\b.*?(sl_[\w-]+)", printed))
        assert tokens.keys() == {"payments", "admin"}
        with httpx.Client(base_url=url, timeout=10) as browser:
            login = browser.get("/login")
            assert login.status_code == 200 and 'name="token"' in login.text
            csrf = _CSRF.search(login.text)
            assert csrf is not None
            browser.post("/login", data={"csrf": csrf[1], "token": tokens["payments"]})
            inbox = browser.get("/gates")
        assert inbox.status_code == 200 and inbox.text.count('value="approve"') == 2
    assert child.process.returncode == -signal.SIGTERM
