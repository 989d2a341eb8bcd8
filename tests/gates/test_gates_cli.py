"""`seamline gates` on a real SQLite ledger: list, show, approve, reject, edit, escalate."""

from __future__ import annotations

import json
from pathlib import Path

from test_gates import IBAN, registry, start
from typer.testing import CliRunner

from seamline import Runtime, SqliteStore
from seamline.cli import app
from seamline.stores import WorkflowStatus

runner = CliRunner()
APP = "test_gates:registry"


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Run the CLI in-process; exit code, stdout, stderr."""
    result = runner.invoke(app, list(args), input=stdin, env={"COLUMNS": "120"})
    return result.exit_code, result.stdout, result.stderr


def waiting(path: Path, count: int = 1) -> list[str]:
    """Start ``count`` claims that stop at the gate; their gate ids."""
    store = SqliteStore(path)
    runtime = Runtime(registry(), store, app=APP)
    for _ in range(count):
        start(runtime)
    ids = [gate.id for gate in runtime.gates()]
    store.close()
    return ids


def test_list_show_and_approve(tmp_path: Path) -> None:
    """The open gate is listed and shown masked; approving runs the workflow to its end."""
    path = tmp_path / "l.db"
    [gate] = waiting(path)
    store = ["--store", str(path)]
    code, out, _ = invoke("gates", "list", *store)
    assert code == 0 and gate[-12:] in out and "payments" in out and "open" in out
    code, out, _ = invoke("gates", "show", gate, *store)
    assert code == 0 and "Decision requested from payments" in out and IBAN not in out
    assert json.loads(invoke("gates", "show", gate, *store, "--json")[1])["status"] == "open"
    code, out, err = invoke("gates", "approve", gate, *store, "--by", "alice")
    assert code == 0, err
    assert f"{gate}: approved by alice" in out and "completed" in out
    code, out, err = invoke("gates", "approve", gate, *store, "--by", "bob")
    assert code == 1 and "already approved by alice" in err and err.count("\n") == 1
    code, out, _ = invoke(
        "workflows",
        "show",
        json.loads(invoke("gates", "list", *store, "--status", "all", "--json")[1])["gates"][0][
            "workflow_id"
        ],
        *store,
    )
    assert "waiting for payments" in out and "approved by alice" in out


def test_reject_and_edit(tmp_path: Path) -> None:
    """Reject needs a reason and dead-letters; edit reads the payload from stdin."""
    path = tmp_path / "l.db"
    first, second = waiting(path, 2)
    store = ["--store", str(path)]
    code, _, err = invoke("gates", "reject", first, *store)
    assert code == 2 and "--reason" in err  # typer: a required option
    code, out, err = invoke("gates", "reject", first, *store, "--reason", "duplicate")
    assert code == 0 and "rejected by" in out and "dead_lettered" in out, err
    edited = {"claim_id": "C-7", "amount": "99.00", "iban": IBAN, "note": "capped"}
    code, out, err = invoke("gates", "edit", second, *store, "--payload", "-",
                            stdin=json.dumps(edited))  # fmt: skip
    assert code == 0 and "edited by" in out and "completed" in out, err
    code, _, err = invoke("gates", "edit", second, *store, "--payload", "-", stdin="[1]")
    assert code == 1 and "must hold a JSON object" in err
    code, _, err = invoke("gates", "show", "nope", *store)
    assert code == 1 and "no gate 'nope'" in err


def test_escalate_past_deadline(tmp_path: Path) -> None:
    """Nothing is past its four-hour deadline yet; escalate says so."""
    path = tmp_path / "l.db"
    waiting(path)
    code, out, err = invoke("gates", "escalate", "--store", str(path))
    assert code == 0 and "none of 1 open gate(s) is past its deadline" in out, err
    store = SqliteStore(path)
    assert store.list_workflows()[0].status is WorkflowStatus.WAITING
    store.close()
