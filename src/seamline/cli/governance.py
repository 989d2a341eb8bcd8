"""``seamline impact``, ``can-i-deploy``, ``audit`` and ``runbook``: the registry's questions.

Each command loads the project, asks one pure function of :mod:`seamline.governance`, and
renders its answer as tables (or, with ``--json``, as one JSON object for CI). The exit code
carries the verdict where there is one: can-i-deploy exits 1 for "no", audit for a score
under its threshold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter
from rich.table import Table
from rich.text import Text

from seamline.cli._common import ProjectOption, RegistryAppOption, console, open_project
from seamline.contracts import Version
from seamline.exceptions import ConfigurationError, VersionError
from seamline.governance import deploy, impact_analysis, runbooks, scorecard
from seamline.governance.evidence import gather_evidence
from seamline.governance.snapshot import Snapshot
from seamline.governance.sources import snapshot_from

__all__ = ["audit", "can_i_deploy", "impact", "runbook"]

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object instead of tables.")
]
_PROJECT = Path("seamline.toml")
_MARK = {
    scorecard.Status.PASS: Text("✓", style="green"),
    scorecard.Status.FAIL: Text("✗", style="red"),
    scorecard.Status.NOT_APPLICABLE: Text("–", style="dim"),
}


def impact(
    ref: Annotated[
        str, typer.Argument(metavar="CONTRACT@VERSION", help="e.g. refund.request@2.0.0")
    ],
    project: ProjectOption = _PROJECT,
    app_: RegistryAppOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who a contract version reaches, who it breaks, and whom to tell before changing it."""
    name, version = _split(ref, "CONTRACT@VERSION", "refund.request@2.0.0")
    snapshot = Snapshot.of(open_project(project, app_).registry)
    report = impact_analysis.impact(snapshot, name, version)
    if as_json:
        _print_json(report)
        return
    state = "registered" if report.registered else "proposed, not registered"
    console.print(
        Text.assemble(
            (f"{report.contract}@{report.version}", "bold"),
            f" ({state}) · owner {report.owner} · mode {report.compatibility}",
        )
    )
    console.print(_receivers_table(report), _senders_table(report), _seams_table(report))
    notify = _table("notify", "who", "why")
    for contact in report.notify:
        notify.add_row(contact.who, ", ".join(contact.roles))
    console.print(notify)
    broken = ", ".join(r.agent for r in report.breaking)
    subject = f"{report.contract}@{report.version}"
    console.print(
        Text(f"{subject} would break {broken}", style="bold red")
        if broken
        else Text(f"every receiver of {report.contract} can read {subject}", style="green")
    )


def _receivers_table(report: impact_analysis.ImpactReport) -> Table:
    table = _table(
        "receivers", "agent", "owner", "escalation", "accepts", f"reads {report.version}?"
    )
    for one in report.receivers:
        if one.reads is None:
            reading = Text("✗ breaks", style="red")
        elif one.migrations:
            reading = Text(f"✓ as {one.reads} via {', '.join(one.migrations)}", style="green")
        else:
            reading = Text("✓", style="green")
        table.add_row(
            f"{one.agent}@{one.version}", one.owner, one.escalation or "", one.accepts, reading
        )
    return table


def _senders_table(report: impact_analysis.ImpactReport) -> Table:
    table = _table("senders", "agent", "owner", "escalation", "emits", "read by every receiver")
    for one in report.senders:
        read = (
            Text(f"✗ not by {', '.join(one.unread_by)}", style="red")
            if one.unread_by
            else Text("✓", style="green")
        )
        table.add_row(
            f"{one.agent}@{one.version}", one.owner, one.escalation or "", one.emits, read
        )
    return table


def _seams_table(report: impact_analysis.ImpactReport) -> Table:
    table = _table("seams", "seam", "today", f"carries {report.version}", f"with {report.version}")
    for one in report.edges:
        edge = one.edge
        today = f"{edge.emitted or 'any'} → {edge.reads or 'rejected'}"
        table.add_row(
            edge.label,
            today,
            "yes" if one.carries else "",
            Text("✗ breaks", style="red") if one.breaks else Text("✓", style="green"),
        )
    return table


def can_i_deploy(
    ref: Annotated[str, typer.Argument(metavar="AGENT@VERSION", help="e.g. triage@2.2.0")],
    against: Annotated[
        str | None,
        typer.Option(
            help="What is live: an exported snapshot file or a git ref "
            "(default: the project's export file)."
        ),
    ] = None,
    project: ProjectOption = _PROJECT,
    app_: RegistryAppOption = None,
    as_json: JsonOption = False,
) -> None:
    """Whether an agent version can go live next to the agents that are live (exit 1: no)."""
    name, version = _split(ref, "AGENT@VERSION", "triage@2.2.0")
    loaded = open_project(project, app_)
    if against is None:
        export = loaded.settings.export
        if not export.is_file():
            raise ConfigurationError(
                f"no live snapshot at {export}; export the deployed registry with `seamline "
                "contracts export`, or pass --against FILE_OR_GIT_REF"
            )
        against = str(export)
    live = snapshot_from(against, loaded)
    verdict = deploy.can_i_deploy(Snapshot.of(loaded.registry), live, name, version)
    if as_json:
        _print_json(verdict, answer=verdict.answer)
    else:
        _print_verdict(verdict, against)
    if not verdict.ok:
        raise typer.Exit(1)


def _print_verdict(verdict: deploy.DeployVerdict, against: str) -> None:
    # A list, not a table: the reasons are sentences and must stay readable at 80 columns.
    console.print(Text(f"{verdict.agent}@{verdict.version} against {against}", style="bold"))
    for check in verdict.checks:
        reading = f" → {check.reads}" if check.reads not in (None, check.emitted) else ""
        console.print(
            Text.assemble(
                ("✓ " if check.ok else "✗ ", "green" if check.ok else "red"),
                f"{check.direction} {check.partner}@{check.partner_version}  ",
                (f"{check.contract}@{check.emitted}{reading}", "cyan"),
            )
        )
        for reason in check.reasons:
            console.print(Text(f"    {reason}", style="dim"))
    failed = sum(not c.ok for c in verdict.checks)
    if verdict.ok:
        partners = f"{len(verdict.checks)} seam(s) checked" if verdict.checks else "no live partner"
        console.print(Text(f"yes: {partners}", style="bold green"))
    else:
        console.print(
            Text(f"no: {failed} of {len(verdict.checks)} seam(s) would break", style="bold red")
        )


def audit(
    min_score: Annotated[
        float | None,
        typer.Option(
            "--min-score",
            help="Exit 1 when the score is under this (default: [audit] threshold, 80).",
        ),
    ] = None,
    project: ProjectOption = _PROJECT,
    app_: RegistryAppOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score every handoff seam against the production checklist (exit 1 under the threshold)."""
    loaded = open_project(project, app_)
    threshold = loaded.settings.audit_threshold if min_score is None else min_score
    if not 0 <= threshold <= 100:
        raise ConfigurationError(f"--min-score must be between 0 and 100, got {threshold:g}")
    report = scorecard.audit(Snapshot.of(loaded.registry), gather_evidence(loaded))
    passed = report.score >= threshold
    if as_json:
        _print_json(report, threshold=threshold, passed=passed)
    else:
        _print_audit(report)
        verdict = f"score {report.score:g} against a threshold of {threshold:g}"
        console.print(
            Text(f"pass: {verdict}", style="bold green")
            if passed
            else Text(
                f"fail: {verdict}; fix the failures above or lower [audit] threshold",
                style="bold red",
            )
        )
    if not passed:
        raise typer.Exit(1)


_SHORT = {
    scorecard.Check.DOCUMENTED: "doc",
    scorecard.Check.VERSIONED: "ver",
    scorecard.Check.OWNED: "own",
    scorecard.Check.FALLBACK_OWNER: "fbo",
    scorecard.Check.FAILURE_PATH: "fail",
    scorecard.Check.GATED: "gate",
    scorecard.Check.INSTRUMENTED: "otel",
    scorecard.Check.CONTRACT_TESTS: "test",
}
"""Column headers short enough for the whole checklist to fit 80 columns; a legend follows."""


def _print_audit(report: scorecard.AuditReport) -> None:
    table = _table(f"audit of {report.project or 'the registry'}", "seam")
    for check in scorecard.Check:
        table.add_column(_SHORT[check], justify="center")
    table.add_column("score", justify="right")
    for one in report.edges:
        marks = [_MARK[result.status] for result in one.results]
        seam = Text.assemble(one.edge.label.split(" (")[0], "\n", (one.contract, "dim"))
        table.add_row(seam, *marks, f"{one.score:g}")
    console.print(table)
    legend = " · ".join(f"{_SHORT[check]} {check.value}" for check in scorecard.Check)
    console.print(Text(legend, style="dim"))
    for one in report.edges:
        if one.failures:
            console.print(Text(one.edge.label, style="bold"))
        for failure in one.failures:
            console.print(
                Text.assemble(("  ✗ ", "red"), (failure.check, "bold"), ": ", failure.reason)
            )


def runbook(
    output: Annotated[
        Path | None,
        typer.Option(help="Directory to write into (default: [project] runbooks, runbooks/)."),
    ] = None,
    project: ProjectOption = _PROJECT,
    app_: RegistryAppOption = None,
) -> None:
    """Write one Markdown runbook per handoff seam: owners, versions, failure policy, alerts."""
    loaded = open_project(project, app_)
    folder = output or loaded.settings.runbooks
    written = runbooks.write_runbooks(Snapshot.of(loaded.registry), folder)
    for path in written:
        console.print(str(path), soft_wrap=True)
    console.print(f"wrote {len(written)} runbook(s) to {folder}")


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    return table


def _split(text: str, shape: str, example: str) -> tuple[str, str]:
    """``NAME@VERSION`` into its parts, the version normalized (``2`` becomes ``2.0.0``)."""
    name, at, version = text.rpartition("@")
    if not (at and name and version):
        raise ConfigurationError(f"{text!r} is not {shape}; write e.g. {example}")
    try:
        return name, str(Version.parse(version))
    except VersionError as error:
        raise ConfigurationError(f"{text!r} is not {shape}: {error}") from None


def _print_json(report: object, **extra: Any) -> None:
    data = TypeAdapter(type(report)).dump_python(report, mode="json")
    typer.echo(json.dumps({**data, **extra}, indent=2, ensure_ascii=False))
