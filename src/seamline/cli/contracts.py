"""``seamline contracts``: list, export and check the contracts of a project."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from seamline.cli._common import ProjectOption, RegistryAppOption, console, open_project
from seamline.exceptions import ConfigurationError
from seamline.governance import Snapshot
from seamline.governance.check import Severity, check_contracts
from seamline.governance.sources import snapshot_from

app = typer.Typer(help="Versioned handoff contracts: list, export, check.", no_args_is_help=True)

_STAGE_STYLE = {"active": "green", "deprecated": "yellow", "retired": "red"}


@app.command("list")
def list_(project: ProjectOption = Path("seamline.toml"), app_: RegistryAppOption = None) -> None:
    """Every contract version with its owner, mode and place on the calendar."""
    snapshot = Snapshot.of(open_project(project, app_).registry)
    table = Table(title="Contracts", title_justify="left")
    for column in ("contract", "version", "owner", "mode", "stage", "retires", "changelog"):
        table.add_column(column)
    for entry in snapshot.contracts:
        if entry.builtin:
            continue
        stage = entry.lifecycle().value
        table.add_row(
            entry.name,
            entry.version,
            entry.owner,
            entry.compatibility,
            Text(stage, style=_STAGE_STYLE[stage]),
            str(entry.retires or ""),
            entry.changelog,
        )
    console.print(table)


@app.command()
def export(
    project: ProjectOption = Path("seamline.toml"),
    app_: RegistryAppOption = None,
    output: Annotated[
        Path | None,
        typer.Option(help="Snapshot file (default: [project] export, seamline-registry.json)."),
    ] = None,
    schemas: Annotated[
        Path | None,
        typer.Option(
            help="Directory for one JSON Schema per version (default: [project] schemas)."
        ),
    ] = None,
) -> None:
    """Write the registry snapshot CI compares against, and every contract's JSON Schema."""
    loaded = open_project(project, app_)
    snapshot = Snapshot.of(loaded.registry)
    target = output or loaded.settings.export
    folder = schemas or loaded.settings.schemas
    written = [_write(target, snapshot.dumps())]
    for entry in snapshot.contracts:
        text = json.dumps(entry.json_schema, indent=2, sort_keys=True, ensure_ascii=False)
        written.append(_write(folder / entry.name / f"{entry.version}.schema.json", text + "\n"))
    console.print(
        f"wrote {len(written)} files: {written[0]} and {len(written) - 1} schemas in {folder}"
    )


def _write(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(f"cannot write {path}: {error.strerror}") from None
    return path


@app.command()
def check(
    project: ProjectOption = Path("seamline.toml"),
    app_: RegistryAppOption = None,
    against: Annotated[
        str | None,
        typer.Option(
            help="Base to compare with: an exported snapshot file or a git ref (e.g. origin/main); "
            "default: the project's export file when it exists."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Fail (exit 1) on breaking contract changes; print every finding with its rule and path."""
    loaded = open_project(project, app_)
    current = Snapshot.of(loaded.registry)
    if against is None and loaded.settings.export.is_file():
        against = str(loaded.settings.export)
    base = snapshot_from(against, loaded) if against else None
    findings = check_contracts(current, base)
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    if as_json:
        rows = [asdict(f) for f in findings]
        console.print_json(json.dumps({"against": against, "errors": errors, "findings": rows}))
    else:
        # A list, not a table: messages are sentences and must stay readable at 80 columns.
        console.print(Text(f"contracts check against {against or 'itself'}", style="bold"))
        for f in findings:
            error = f.severity is Severity.ERROR
            where = f" at {f.path}" if f.path else ""
            console.print(
                Text.assemble(
                    ("✗ " if error else "! ", "red" if error else "yellow"),
                    (f.contract, "cyan"),
                    f"  {f.rule}{where}",
                )
            )
            console.print(Text(f"    {f.message}", style="dim"))
    verdict = f"{errors} breaking change(s)" if errors else "no breaking changes"
    if not as_json:
        console.print(f"{verdict}; {len(findings) - errors} warning(s)")
    if errors:
        raise typer.Exit(1)
