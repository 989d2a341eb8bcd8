"""Where a snapshot to compare against comes from: a file, or the export at a git ref.

CI checks a pull request against ``main`` by reading the committed export as it was at that
ref (``git show REF:path``), so yesterday's code never has to be imported.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from seamline.exceptions import ConfigurationError
from seamline.governance.snapshot import Snapshot
from seamline.project import Project

__all__ = ["snapshot_from"]


def snapshot_from(against: str, project: Project) -> Snapshot:
    """Load ``against``: an exported snapshot file if one exists there, else a git ref."""
    path = Path(against)
    if path.is_file():
        return Snapshot.loads(path.read_text(encoding="utf-8"), source=str(path))
    top = _git(project.root, "rev-parse", "--show-toplevel", what=(
        f"--against {against!r} is not a file and {project.root} is not in a git repository; "
        "pass an exported snapshot file"
    )).strip()  # fmt: skip
    export = project.settings.export.resolve()
    try:
        relative = export.relative_to(Path(top).resolve()).as_posix()
    except ValueError:
        raise ConfigurationError(
            f"the export file {export} is outside the git repository {top}; "
            "point [project] export inside it"
        ) from None
    _git(top, "rev-parse", "--verify", "--quiet", f"{against}^{{commit}}", what=(
        f"--against {against!r} is neither a file nor a git ref of {top}; pass an exported "
        "snapshot file or a ref such as origin/main"
    ))  # fmt: skip
    text = _git(top, "show", f"{against}:{relative}", what=(
        f"{relative} does not exist at {against}; run `seamline contracts export` on that "
        "branch and commit the file"
    ))  # fmt: skip
    return Snapshot.loads(text, source=f"{against}:{relative}")


def _git(cwd: Path | str, *args: str, what: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise ConfigurationError(f"{what}: git is not installed") from None
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise ConfigurationError(f"{what} (git: {detail[0]})")
    return done.stdout
