"""`seamline contracts list|export|check` on the demo project in examples/support-desk."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from seamline.cli import app
from seamline.governance import Snapshot

runner = CliRunner()
EXAMPLE = Path(__file__).parents[2] / "examples" / "support-desk"


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; returns exit code, stdout and stderr."""
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def project(tmp_path: Path, extra: str = "") -> Path:
    """A copy of the demo project (file and committed export) in a temporary directory."""
    for name in ("seamline.toml", "seamline-registry.json"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    if extra:
        with (tmp_path / "seamline.toml").open("a") as file:
            file.write(extra)
    return tmp_path / "seamline.toml"


def test_list_shows_every_version_with_its_stage() -> None:
    """Both refund.request versions appear, the old one deprecated with its date."""
    code, out, _ = invoke("contracts", "list", "--project", str(EXAMPLE / "seamline.toml"))
    assert code == 0
    line = next(line for line in out.splitlines() if "1.2.0" in line)
    assert "refund.request" in line and "deprecated" in line and "BACKWARD_TRANSITIVE" in line
    assert "seamline.rejected-handoff" not in out


def test_export_writes_the_snapshot_and_one_schema_per_version(tmp_path: Path) -> None:
    """The snapshot reloads; each schema file is the contract's JSON Schema with metadata."""
    file = project(tmp_path)
    code, out, _ = invoke("contracts", "export", "--project", str(file))
    assert code == 0 and "schemas in" in out
    snapshot = Snapshot.loads((tmp_path / "seamline-registry.json").read_text(), source="x")
    assert [c.version for c in snapshot.versions("refund.request")] == ["1.2.0", "2.0.0"]
    schema = json.loads(
        (tmp_path / "contracts" / "refund.request" / "2.0.0.schema.json").read_text()
    )
    assert schema["x-seamline"]["owner"] == "payments"
    assert "refund" in schema["properties"]


def test_check_against_the_committed_export_passes_with_warnings() -> None:
    """The v1 -> v2 change is a major bump with a migration: no breaking change."""
    file = EXAMPLE / "seamline.toml"
    against = EXAMPLE / "seamline-registry.json"
    code, out, _ = invoke("contracts", "check", "--project", str(file), "--against", str(against))
    assert code == 0, out
    assert "VERSION_DEPRECATED" in out and "triage@2.1.0 still emits it" in out
    assert "no breaking changes; 1 warning(s)" in out


def test_check_fails_on_a_breaking_change_with_rule_and_path(tmp_path: Path) -> None:
    """A published version whose schema differs from the base is edited in place: exit 1."""
    file = project(tmp_path)
    snapshot = json.loads((tmp_path / "seamline-registry.json").read_text())
    for entry in snapshot["contracts"]:
        if entry["name"] == "fulfillment.order":
            entry["schema"]["properties"]["amount"] = {"type": "integer"}
    (tmp_path / "seamline-registry.json").write_text(json.dumps(snapshot))
    code, out, _ = invoke(
        "contracts",
        "check",
        "--project",
        str(file),
        "--against",
        str(tmp_path / "seamline-registry.json"),
    )
    assert code == 1
    assert "VERSION_EDITED_IN_PLACE" in out and "/properties/amount" in out
    assert "1 breaking change(s)" in out


def test_check_defaults_to_the_projects_export_file(tmp_path: Path) -> None:
    """Without --against, the committed export next to seamline.toml is the base."""
    file = project(tmp_path)
    snapshot = json.loads((tmp_path / "seamline-registry.json").read_text())
    snapshot["contracts"] = [c for c in snapshot["contracts"] if c["version"] != "2.0.0"]
    snapshot["contracts"].append({**snapshot["contracts"][0], "version": "0.9.0"})
    (tmp_path / "seamline-registry.json").write_text(json.dumps(snapshot))
    code, out, _ = invoke("contracts", "check", "--project", str(file))
    assert code == 0 and "VERSION_REMOVED" in out and "against" in out
    (tmp_path / "seamline-registry.json").unlink()
    code, out, _ = invoke("contracts", "check", "--project", str(file))
    assert code == 0 and "VERSION_REMOVED" not in out


def test_check_json_output_lists_findings(tmp_path: Path) -> None:
    """--json prints one object with the error count and every finding."""
    file = project(tmp_path)
    code, out, _ = invoke(
        "contracts",
        "check",
        "--project",
        str(file),
        "--against",
        str(tmp_path / "seamline-registry.json"),
        "--json",
    )
    assert code == 0
    report = json.loads(out)
    assert report["errors"] == 0
    assert [f["rule"] for f in report["findings"]] == ["VERSION_DEPRECATED"]


def test_check_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    """A missing project, an unknown ref and a broken project file each exit 1 in one line."""
    code, _, err = invoke("contracts", "check", "--project", str(tmp_path / "nope.toml"))
    assert code == 1 and err.startswith("error: project file") and len(err.splitlines()) == 1
    file = project(tmp_path)
    code, _, err = invoke("contracts", "check", "--project", str(file), "--against", "no-such-ref")
    assert code == 1 and "is not a file and" in err and "not in a git repository" in err
    file.write_text(file.read_text() + "\n[agents.refunds]\nhealth = 3\n")
    code, _, err = invoke("contracts", "check", "--project", str(file))
    assert code == 1 and "seamline.toml:" in err and len(err.splitlines()) == 1
