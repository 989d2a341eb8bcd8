"""The ``seamline`` CLI against a real SQLite ledger made by the demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seamline import SqliteStore
from seamline.cli import app
from seamline.stores import DeadLetterStatus, WorkflowStatus

runner = CliRunner()


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Run the CLI in-process; returns exit code, stdout and stderr."""
    result = runner.invoke(app, list(args), input=stdin, env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def demo_store(tmp_path: Path) -> Path:
    """A ledger holding the demo's four workflows."""
    path = tmp_path / "demo.db"
    code, out, _ = invoke("demo", "--store", str(path))
    assert code == 0, out
    return path


def open_letter(path: Path) -> str:
    """The id of the demo's one open dead letter."""
    store = SqliteStore(path)
    letters = store.list_dead_letters(status=DeadLetterStatus.OPEN)
    store.close()
    assert len(letters) == 1
    return letters[0].id


def test_demo_shows_the_fixed_and_the_dead_lettered_handoff(tmp_path: Path) -> None:
    """The demo's timeline shows a rejection fixed by feedback, a dead letter and an escalation."""
    code, out, _ = invoke("demo", "--store", str(tmp_path / "d.db"))
    assert code == 0
    assert "✗ rejected (2)" in out and "re-run with 2 issue(s)" in out
    assert "tracked fact changed from '129.99' to '130'" in out
    assert "☠ dead letter: validation" in out
    assert "escalated" in out and "payments-oncall@example.com" in out
    assert out.count("completed") >= 2


def test_lists_and_shows(demo_store: Path) -> None:
    """workflows/handoffs/dlq list and show read the ledger and print readable tables."""
    store = ["--store", str(demo_store)]
    code, out, _ = invoke("workflows", "list", *store)
    assert code == 0 and out.count("ticket T-") == 4 and "dead_lettered" in out
    code, out, _ = invoke("workflows", "list", *store, "--status", "escalated")
    assert out.count("ticket T-") == 1
    letter = open_letter(demo_store)
    code, out, _ = invoke("dlq", "list", *store)
    assert code == 0 and letter in out
    code, out, _ = invoke("dlq", "show", letter, *store)
    assert code == 0 and "fact_changed" in out and "triage@2.1.0 -> refunds@3.1.0" in out
    code, out, _ = invoke("handoffs", "list", *store)
    assert code == 0 and "refund.request@1.2.0" in out
    sqlite = SqliteStore(demo_store)
    workflow = sqlite.get_dead_letter(letter)
    assert workflow is not None
    handoff = sqlite.entries(correlation_id=workflow.correlation_id)[0].handoff_id
    sqlite.close()
    code, out, _ = invoke("handoffs", "show", handoff, *store)
    assert code == 0 and '"intent"' in out and "validated" in out
    code, out, _ = invoke("handoffs", "list", *store, "--workflow", workflow.correlation_id)
    assert code == 0 and "external@0.0.0 -> intake@1.4.0" in out
    code, out, _ = invoke("workflows", "show", workflow.correlation_id, *store)
    assert code == 0 and "dead letter" in out


def test_replay_with_a_fixed_payload_completes_the_workflow(
    demo_store: Path, tmp_path: Path
) -> None:
    """dlq replay re-validates the fixed payload and finishes the workflow through the app."""
    letter = open_letter(demo_store)
    store = SqliteStore(demo_store)
    record = store.get_dead_letter(letter)
    store.close()
    assert record is not None
    payload = json.loads(record.envelope)["payload"]
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps({**payload, "order_value": "129.99"}))
    code, out, err = invoke(
        "dlq", "replay", letter, "--store", str(demo_store), "--payload", str(fixed)
    )
    assert code == 0, err
    assert "■ finished" in out and "RF-1003" in out
    store = SqliteStore(demo_store)
    workflow = store.get_workflow(record.correlation_id)
    store.close()
    assert workflow is not None and workflow.status is WorkflowStatus.COMPLETED


def test_replay_still_invalid_is_one_line_and_changes_nothing(demo_store: Path) -> None:
    """A replay that still breaks the contract exits 1 with one error line; the letter stays open.

    The deprecated version the letter was sent under is named once, in a warning line first.
    """
    letter = open_letter(demo_store)
    code, _, err = invoke("dlq", "replay", letter, "--store", str(demo_store))
    assert code == 1
    warning, error = err.strip().splitlines()
    assert warning.startswith("warning: refund.request@1.2.0 is deprecated and retires on")
    assert error.startswith("error: handoff rejected by contract refund.request@2.0.0")
    assert "payload.order_value" in error
    assert open_letter(demo_store) == letter


def test_discard_closes_the_dead_letter(demo_store: Path) -> None:
    """dlq discard records the reason and the letter leaves the open list."""
    letter = open_letter(demo_store)
    code, out, _ = invoke(
        "dlq", "discard", letter, "--store", str(demo_store), "--reason", "refunded by phone"
    )
    assert code == 0 and "refunded by phone" in out
    code, out, _ = invoke("dlq", "list", "--store", str(demo_store), "--status", "open")
    assert letter not in out


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        pytest.param(["dlq", "show", "nope"], "no dead letter 'nope'", id="unknown-dead-letter"),
        pytest.param(["handoffs", "show", "nope"], "no handoff 'nope'", id="unknown-handoff"),
        pytest.param(["workflows", "show", "nope"], "no workflow 'nope'", id="unknown-workflow"),
        pytest.param(
            ["workflows", "resume"], "name one workflow id, or pass --all", id="resume-no-target"
        ),
        pytest.param(
            ["dlq", "discard", "nope", "--reason", "x"], "no dead letter", id="discard-unknown"
        ),
    ],
)
def test_bad_ids_exit_one_with_one_line(demo_store: Path, args: list[str], phrase: str) -> None:
    """Unknown ids and missing arguments print one clear line and exit 1."""
    code, _, err = invoke(*args, "--store", str(demo_store))
    assert code == 1
    assert phrase in err and len(err.strip().splitlines()) == 1


def test_missing_store_and_corrupt_store_are_clear_errors(tmp_path: Path) -> None:
    """A store path that does not exist, or is not a seamline ledger, is named in the error."""
    code, _, err = invoke("workflows", "list", "--store", str(tmp_path / "none.db"))
    assert code == 1 and "no seamline store at" in err and "seamline demo" in err
    junk = tmp_path / "junk.db"
    junk.write_text("not a database at all" * 100)
    code, _, err = invoke("workflows", "list", "--store", str(junk))
    assert code == 1 and "is not a seamline store" in err


def test_store_path_comes_from_the_environment(demo_store: Path) -> None:
    """SEAMLINE_STORE stands in for --store."""
    env = {"SEAMLINE_STORE": str(demo_store), "COLUMNS": "200"}
    result = runner.invoke(app, ["workflows", "list"], env=env)
    assert result.exit_code == 0 and "ticket T-1" in result.stdout


@pytest.mark.parametrize(
    ("payload", "phrase"),
    [
        pytest.param("{not json", "is not valid JSON", id="not-json"),
        pytest.param("[1, 2]", "must hold a JSON object", id="not-an-object"),
    ],
)
def test_bad_replay_payload_files(
    demo_store: Path, tmp_path: Path, payload: str, phrase: str
) -> None:
    """A fix file that is not a JSON object is refused before anything is touched."""
    path = tmp_path / "fix.json"
    path.write_text(payload)
    letter = open_letter(demo_store)
    code, _, err = invoke(
        "dlq", "replay", letter, "--store", str(demo_store), "--payload", str(path)
    )
    assert code == 1 and phrase in err
    code, _, err = invoke(
        "dlq", "replay", letter, "--store", str(demo_store), "--payload", str(tmp_path / "x")
    )
    assert code == 1 and "cannot read --payload" in err


@pytest.mark.parametrize(
    ("app_ref", "phrase"),
    [
        pytest.param("nomodule_here:x", "cannot import 'nomodule_here'", id="bad-module"),
        pytest.param("seamline.demo:missing", "has no attribute 'missing'", id="bad-attribute"),
        pytest.param("seamline.demo", "must look like 'package.module:attribute'", id="no-colon"),
        pytest.param("seamline.demo:APP", "not a seamline Registry", id="not-a-registry"),
    ],
)
def test_bad_app_references(demo_store: Path, app_ref: str, phrase: str) -> None:
    """--app that cannot be loaded is a one-line error naming the problem."""
    letter = open_letter(demo_store)
    code, _, err = invoke("dlq", "replay", letter, "--store", str(demo_store), "--app", app_ref)
    assert code == 1 and phrase in err


def test_console_script_exits_nonzero_with_one_line(tmp_path: Path) -> None:
    """The installed entry point behaves the same as the in-process app."""
    done = subprocess.run(
        [sys.executable, "-m", "seamline", "dlq", "list", "--store", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: no seamline store at")


def test_replay_reads_the_fixed_payload_from_stdin(demo_store: Path) -> None:
    """--payload - takes the fixed payload from standard input."""
    letter = open_letter(demo_store)
    store = SqliteStore(demo_store)
    record = store.get_dead_letter(letter)
    store.close()
    assert record is not None
    fixed = {**json.loads(record.envelope)["payload"], "order_value": "129.99"}
    code, out, err = invoke(
        "dlq",
        "replay",
        letter,
        "--store",
        str(demo_store),
        "--payload",
        "-",
        stdin=json.dumps(fixed),
    )
    assert code == 0, err
    assert "■ finished" in out
