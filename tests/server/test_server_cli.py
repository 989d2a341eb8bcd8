"""``seamline tokens`` and ``seamline serve`` from the command line."""

from __future__ import annotations

import signal
from contextlib import closing
from pathlib import Path

import anyio
import httpx
from api_world import build_world
from served import free_port, seamline
from typer.testing import CliRunner

from seamline.access import Access
from seamline.cli import app
from seamline.stores import SqliteStore

HERE = Path(__file__).parent


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process: exit code, stdout, stderr."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_tokens_create_list_and_revoke(tmp_path: Path) -> None:
    """create prints the secret alone on stdout (and what it is on stderr); list shows the
    token without it; revoke refuses it from then on; all three are in the audit log."""
    db = str(tmp_path / "t.db")
    code, out, err = invoke("tokens", "create", "--store", db, "--team", "payments", "--admin")
    assert code == 0, err
    secret = out.strip()
    assert secret.startswith("sl_") and "\n" not in secret
    assert "for team payments, admin; its secret follows and is not shown again" in err
    code, out, _ = invoke("tokens", "list", "--store", db)
    assert code == 0 and "payments" in out and "active" in out and secret not in out
    name = next(line.split()[1] for line in out.splitlines() if "payments-" in line)
    code, out, _ = invoke("tokens", "revoke", name, "--store", db)
    assert code == 0 and f"revoked {name}" in out
    code, _, err = invoke("tokens", "revoke", name, "--store", db)
    assert code == 1 and "already revoked" in err
    store = SqliteStore(db)
    try:
        log = Access(store).store.list_audit()
        assert [(r.action, r.outcome, r.team) for r in log] == [
            ("token.revoke", "conflict", None),
            ("token.revoke", "ok", None),
            ("token.issue", "ok", None),
        ]
        assert log[0].actor.startswith("cli:")
    finally:
        store.close()


def test_a_bad_team_is_one_line(tmp_path: Path) -> None:
    """A blank team is refused in one line, exit 1, and nothing is issued."""
    code, out, err = invoke("tokens", "create", "--store", str(tmp_path / "t.db"), "--team", " ")
    assert code == 1 and out == "" and err.startswith("error: team ' ' is not allowed")


def test_serve_runs_the_api_and_the_console_until_sigterm(tmp_path: Path) -> None:
    """`seamline serve` serves the project's store on the port asked for (the API and the
    console, whose URLs it prints), and shuts down cleanly on SIGTERM (uvicorn then ends the
    process by that signal, as it should)."""
    db = tmp_path / "served.db"
    with closing(SqliteStore(db)) as store:
        world = anyio.run(build_world, store)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = ("serve", "--store", str(db), "--port", str(port), "--app", "api_world:build_registry")
    importable = {"PYTHONPATH": str(HERE)}  # for api_world
    with seamline(*serve, cwd=tmp_path, ready=f"{url}/login", env=importable) as child:
        me = httpx.get(f"{url}/api/me", headers=world.auth("support"))
        assert me.json() == {"team": "support", "name": "support-bot", "admin": False}
        assert 'name="token"' in httpx.get(f"{url}/login").text
    assert child.process.returncode == -signal.SIGTERM
    assert f"the console at {url}/, the API at {url}/api" in child.printed()
