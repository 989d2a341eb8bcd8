"""``seamline impact``, ``can-i-deploy``, ``audit`` and ``runbook`` on a real project."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seamline.cli import app
from seamline.demo import build_registry
from seamline.governance import Snapshot

runner = CliRunner()
ENV: dict[str, str | None] = {
    "COLUMNS": "200",
    "OTEL_EXPORTER_OTLP_ENDPOINT": None,
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": None,
    "SEAMLINE_APP": None,
    "SEAMLINE_PROJECT": None,
}


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; returns exit code, stdout and stderr."""
    result = runner.invoke(app, list(args), env=ENV)
    return result.exit_code, result.stdout, result.stderr


def desk(root: Path, extra: str = "") -> str:
    """A demo project under ``root`` whose export is the demo as deployed; its file's path."""
    (root / "seamline-registry.json").write_text(
        Snapshot.of(build_registry()).dumps(), encoding="utf-8"
    )
    file = root / "seamline.toml"
    file.write_text(
        '[project]\nname = "desk"\napp = "seamline.demo:build_registry"\n' + textwrap.dedent(extra),
        encoding="utf-8",
    )
    return str(file)


def one_line_error(code: int, out: str, err: str) -> str:
    """Assert a command failed with exactly one error line on stderr; return that line."""
    assert code == 1 and out == "", out
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_impact_of_a_registered_version_prints_receivers_senders_and_contacts(
    tmp_path: Path,
) -> None:
    """The tables name the receiver, the sender, the seam and everyone to notify."""
    code, out, _ = invoke("impact", "refund.request@1.2.0", "--project", desk(tmp_path))
    assert code == 0, out
    assert "refund.request@1.2.0 (registered) · owner payments" in out
    assert "refunds@3.1.0" in out and "✓ as 2.0.0 via refund.request 1.2.0 -> 2.0.0" in out
    assert "triage@2.1.0" in out and "triage → refunds (refund.request)" in out
    assert "payments-oncall@example.com" in out and "owner of sender triage" in out
    assert "every receiver of refund.request can read refund.request@1.2.0" in out


def test_impact_json_of_a_proposed_major(tmp_path: Path) -> None:
    """--json prints one object: a proposed 3.0.0 is unregistered and breaks refunds."""
    code, out, _ = invoke("impact", "refund.request@3", "--json", "--project", desk(tmp_path))
    assert code == 0
    report = json.loads(out)
    assert report["version"] == "3.0.0" and report["registered"] is False
    assert [(r["agent"], r["reads"]) for r in report["receivers"]] == [("refunds", None)]
    assert report["edges"][0]["breaks"] is True
    code, out, _ = invoke("impact", "refund.request@3", "--project", desk(tmp_path))
    assert "refund.request@3.0.0 would break refunds" in out


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("refund.request", "'refund.request' is not CONTRACT@VERSION; write e.g. "),
        ("@1.0.0", "'@1.0.0' is not CONTRACT@VERSION"),
        ("refund.request@two", "is not CONTRACT@VERSION: 'two' is not a semantic version"),
        ("refunds.request@1.0.0", "no contract named 'refunds.request' (known: "),
    ],
)
def test_impact_bad_input_is_one_line(tmp_path: Path, ref: str, message: str) -> None:
    """A malformed reference or an unknown contract: one line on stderr, exit 1."""
    assert message in one_line_error(*invoke("impact", ref, "--project", desk(tmp_path)))


def test_can_i_deploy_says_yes_against_the_project_export(tmp_path: Path) -> None:
    """Against the default export (what is live), today's triage may deploy: exit 0."""
    code, out, _ = invoke("can-i-deploy", "triage@2.1.0", "--project", desk(tmp_path))
    assert code == 0, out
    assert "emits to" in out and "refunds@3.1.0" in out and "receives from" in out
    assert out.rstrip().endswith("yes: 2 seam(s) checked")


def test_can_i_deploy_says_no_with_reasons_and_exit_1(tmp_path: Path) -> None:
    """refunds moving to ^3 strands what live triage emits: a no, in tables and in JSON."""
    project = desk(
        tmp_path,
        """
        [agents.refunds]
        version = "3.2.0"
        accepts = {"refund.request" = "^3"}
        """,
    )
    against = str(tmp_path / "seamline-registry.json")
    code, out, _ = invoke(
        "can-i-deploy", "refunds@3.2.0", "--against", against, "--project", project
    )
    assert code == 1
    assert "triage@2.1.0 emits refund.request@1.2.0, which refunds@3.2.0 no longer accepts" in out
    assert out.rstrip().endswith("no: 1 of 2 seam(s) would break")
    code, out, _ = invoke("can-i-deploy", "refunds@3.2.0", "--json", "--project", project)
    verdict = json.loads(out)
    assert code == 1 and verdict["answer"] == "no" and verdict["ok"] is False
    failing = [c for c in verdict["checks"] if not c["ok"]]
    assert [(c["direction"], c["partner"]) for c in failing] == [("receives from", "triage")]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("triage", "'triage' is not AGENT@VERSION; write e.g. triage@2.2.0"),
        ("ghost@1.0.0", "no agent named 'ghost'"),
        ("triage@9.9.9", "the code declares triage@2.1.0, not triage@9.9.9"),
    ],
)
def test_can_i_deploy_bad_input_is_one_line(tmp_path: Path, ref: str, message: str) -> None:
    """A malformed reference, an unknown agent or a version the code does not declare."""
    assert message in one_line_error(*invoke("can-i-deploy", ref, "--project", desk(tmp_path)))


def test_can_i_deploy_needs_a_live_snapshot(tmp_path: Path) -> None:
    """No export file, or an --against file that is not a snapshot: one line saying what to do."""
    project = desk(tmp_path)
    (tmp_path / "seamline-registry.json").unlink()
    err = one_line_error(*invoke("can-i-deploy", "triage@2.1.0", "--project", project))
    assert "no live snapshot at" in err and "--against FILE_OR_GIT_REF" in err
    garbage = tmp_path / "live.json"
    garbage.write_text("{not json", encoding="utf-8")
    args = ("can-i-deploy", "triage@2.1.0", "--against", str(garbage), "--project", project)
    assert "live.json: not JSON" in one_line_error(*invoke(*args))


def test_audit_table_and_threshold_exit_code(tmp_path: Path) -> None:
    """The table marks every check per seam; under the threshold (80 by default) exits 1."""
    project = desk(tmp_path, '[contracts."refund.request"]\nconsequential = true\n')
    code, out, _ = invoke("audit", "--project", project)
    assert code == 1
    assert "audit of desk" in out and "triage → refunds" in out
    failures = out[out.index("triage → refunds (refund.request)\n") :]
    assert (
        failures.splitlines()[1].strip()
        == "✗ gated: consequential but no human gate (gates: issue 8)"
    )
    assert "doc documented · ver versioned" in out
    assert "fail: score" in out and "against a threshold of 80" in out
    code, out, _ = invoke("audit", "--min-score", "0", "--project", project)
    assert code == 0 and "pass: score" in out


def test_audit_json_reads_the_projects_evidence(tmp_path: Path) -> None:
    """Declared tracing and a contract test file count; the JSON carries scores and threshold."""
    project = desk(tmp_path, '[tracing]\nexporter = "console"\n[audit]\nthreshold = 20\n')
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_contracts.py").write_text('contract_tests("refund.request")\n', encoding="utf-8")
    code, out, _ = invoke("audit", "--json", "--project", project)
    report = json.loads(out)
    assert code == 0 and report["threshold"] == 20 and report["passed"] is True
    assert report["project"] == "desk" and len(report["edges"]) == 4
    refund = next(e for e in report["edges"] if e["edge"]["contract"] == "refund.request")
    statuses = {r["check"]: r["status"] for r in refund["results"]}
    assert statuses["instrumented"] == statuses["contract tests"] == "pass"


def test_audit_rejects_an_impossible_threshold(tmp_path: Path) -> None:
    """--min-score outside 0-100 is one line, exit 1."""
    err = one_line_error(*invoke("audit", "--min-score", "150", "--project", desk(tmp_path)))
    assert "--min-score must be between 0 and 100, got 150" in err


def test_runbook_writes_pages_and_lists_them(tmp_path: Path) -> None:
    """runbook writes to [project] runbooks by default, or to --output."""
    project = desk(tmp_path)
    code, out, _ = invoke("runbook", "--project", project)
    assert code == 0 and "wrote 4 runbook(s)" in out
    assert (tmp_path / "runbooks" / "triage--refunds--refund.request.md").is_file()
    code, out, _ = invoke("runbook", "--output", str(tmp_path / "out"), "--project", project)
    assert code == 0 and str(tmp_path / "out" / "external--intake--support.ticket.md") in out


def test_python_dash_m_can_i_deploy(tmp_path: Path) -> None:
    """The real entry point answers can-i-deploy in JSON with the exit code to match."""
    done = subprocess.run(
        [sys.executable, "-m", "seamline", "can-i-deploy", "triage@2.1.0", "--json",
         "--project", desk(tmp_path)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["answer"] == "yes"
