"""Registry snapshots: exported, read back from files and from git refs, and their seams."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from seamline import ConfigurationError, RegistryError
from seamline.demo import build_registry
from seamline.governance import Snapshot
from seamline.governance.sources import snapshot_from
from seamline.project import load_project


def test_snapshot_round_trips_through_its_json() -> None:
    """dumps() then loads() gives the same snapshot; the text is stable and sorted."""
    snapshot = Snapshot.of(build_registry())
    text = snapshot.dumps()
    assert Snapshot.loads(text, source="x") == snapshot
    assert text == Snapshot.of(build_registry()).dumps() and text.endswith("}\n")
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_snapshot_keeps_metadata_and_migrations_but_no_code() -> None:
    """Owners, lifecycle dates, health and migration edges survive; functions do not."""
    snapshot = Snapshot.of(build_registry())
    old = snapshot.contract("refund.request", "1.2.0")
    assert old.retires is not None and old.owner == "payments"
    assert [(m.source, m.target) for m in snapshot.migrations] == [("1.2.0", "2.0.0")]
    assert snapshot.agent("refunds").accepts == {"refund.request": "^2"}
    assert snapshot.project == "support-desk"


def test_edges_include_entry_points_and_upcasts() -> None:
    """Each seam of the demo, with the version each receiver reads."""
    edges = {e.label: e for e in Snapshot.of(build_registry()).edges()}
    assert set(edges) == {
        "external → intake (support.ticket)",
        "intake → triage (support.case)",
        "triage → refunds (refund.request)",
        "refunds → fulfillment (fulfillment.order)",
    }
    upcast = edges["triage → refunds (refund.request)"]
    assert (upcast.emitted, upcast.reads, upcast.works) == ("1.2.0", "2.0.0", True)
    assert upcast.migrations == ("refund.request 1.2.0 -> 2.0.0",)
    assert edges["external → intake (support.ticket)"].sender is None


def test_lookups_name_what_exists() -> None:
    """Unknown contracts, versions and agents are registry errors listing the known ones."""
    snapshot = Snapshot.of(build_registry())
    with pytest.raises(RegistryError, match=r"no contract named 'nope' \(known: fulfillment"):
        snapshot.versions("nope")
    with pytest.raises(RegistryError, match=r"has no version 9\.0\.0 \(registered: 1\.2\.0"):
        snapshot.contract("refund.request", "9")
    with pytest.raises(RegistryError, match=r"no agent named 'ghost' \(known: fulfillment"):
        snapshot.agent("ghost")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", r"bad\.json: not JSON"),
        ('{"format": 7}', r"snapshot format 7 is not 1"),
        ('{"agents": [{"name": 1}]}', r"not a seamline registry snapshot \(agents\.0"),
        ("[1, 2]", r"not a seamline registry snapshot"),
    ],
)
def test_broken_snapshot_files_say_how_to_regenerate(text: str, expected: str) -> None:
    """A file that is not a snapshot fails with its name and the export command."""
    with pytest.raises(ConfigurationError, match=expected) as caught:
        Snapshot.loads(text, source="bad.json")
    assert "seamline contracts export" in str(caught.value) or "export it again" in str(
        caught.value
    )


def git(cwd: Path, *args: str) -> None:
    """Run git in a temporary repository."""
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose main branch holds a project and its committed export."""
    (tmp_path / "seamline.toml").write_text(
        '[project]\napp = "seamline.demo:build_registry"\nexport = "reg/snapshot.json"\n'
    )
    (tmp_path / "reg").mkdir()
    (tmp_path / "reg" / "snapshot.json").write_text(Snapshot.of(build_registry()).dumps())
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "-c", "user.email=t@e", "-c", "user.name=t", "add", ".")
    git(tmp_path, "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", "export")
    return tmp_path


def test_against_a_git_ref_reads_the_export_committed_there(repo: Path) -> None:
    """--against main reads reg/snapshot.json as committed, not as on disk."""
    (repo / "reg" / "snapshot.json").write_text("{broken")
    project = load_project(repo / "seamline.toml")
    assert snapshot_from("main", project) == Snapshot.of(build_registry())
    assert snapshot_from("HEAD", project).project == "support-desk"


def test_against_a_file_path_reads_that_file(repo: Path) -> None:
    """An existing path wins over a ref of the same name."""
    project = load_project(repo / "seamline.toml")
    path = repo / "reg" / "snapshot.json"
    assert snapshot_from(str(path), project).project == "support-desk"


def test_bad_git_sources_explain_themselves(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Unknown ref, no export at the ref, no repository: each error says what to do."""
    project = load_project(repo / "seamline.toml")
    with pytest.raises(ConfigurationError, match="neither a file nor a git ref"):
        snapshot_from("no-such-branch", project)
    git(repo, "rm", "-q", "reg/snapshot.json")
    git(repo, "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", "drop")
    with pytest.raises(ConfigurationError, match=r"reg/snapshot\.json does not exist at HEAD"):
        snapshot_from("HEAD", project)
    elsewhere = tmp_path_factory.mktemp("plain")
    (elsewhere / "seamline.toml").write_text('[project]\napp = "seamline.demo:build_registry"\n')
    lonely = load_project(elsewhere / "seamline.toml")
    with pytest.raises(ConfigurationError, match="is not in a git repository"):
        snapshot_from("main", lonely)
