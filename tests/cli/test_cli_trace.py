"""``seamline trace`` and ``seamline evals report`` against real SQLite ledgers.

The demo gives a clean run, a rejection fixed by feedback, a dead letter and an escalation;
a small chain adds evaluators that fail, flag and raise, a retried receiver and a sensitive
field; a supervisor adds fan-out legs.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from seamline import (
    Context,
    Contract,
    FailurePolicy,
    Finish,
    HandOff,
    Leg,
    Outcome,
    Registry,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.cli import app
from seamline.cli.trace import _duration
from seamline.contracts import MASK
from seamline.evals import EvaluationReport, Subject, Verdict, evaluator, value_range
from seamline.ledger import Ledger

runner = CliRunner()
IBAN = "DE89370400440532013000"


def invoke(*args: str, columns: int = 200) -> tuple[int, str, str]:
    """Run the CLI in-process; returns exit code, stdout and stderr."""
    result = runner.invoke(app, list(args), env={"COLUMNS": str(columns)})
    return result.exit_code, result.stdout, result.stderr


def make_demo(path: Path) -> dict[str, str]:
    """Run the demo into ``path``; its workflow ids by name (``ticket T-1`` ...)."""
    code, out, _ = invoke("demo", "--store", str(path))
    assert code == 0, out
    store = SqliteStore(path)
    try:
        return {workflow.name: workflow.id for workflow in store.list_workflows()}
    finally:
        store.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A demo ledger shared by the tests that only read it, and its workflow ids."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    return path, make_demo(path)


def trace(path: Path, workflow_id: str, *, columns: int = 200) -> str:
    """``seamline trace`` output, asserting success."""
    code, out, err = invoke("trace", workflow_id, "--store", str(path), columns=columns)
    assert code == 0, err
    return out


def trace_json(path: Path, workflow_id: str) -> dict[str, Any]:
    """``seamline trace --json`` output, parsed."""
    code, out, err = invoke("trace", workflow_id, "--store", str(path), "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def node_lines(out: str) -> list[str]:
    """The handoff nodes (``#hop source → destination ...``), tree guides stripped."""
    return [re.sub(r"^[│├└─\s]+", "", line) for line in out.splitlines() if "#" in line]


# -- trace on the demo --------------------------------------------------------------------


def test_a_feedback_round_shows_the_rejection_under_its_seam(
    demo: tuple[Path, dict[str, str]],
) -> None:
    """T-2: five handoffs in order, the rejected one with its issues and evaluator mark."""
    path, ids = demo
    out = trace(path, ids["ticket T-2"])
    assert out.splitlines()[0].startswith("ticket T-2  completed  ")
    assert out.splitlines()[1] == ids["ticket T-2"]
    nodes = node_lines(out)
    assert [" ".join(node.split()[:4]) for node in nodes] == [
        "#0 external → intake",
        "#1 intake → triage",
        "#2 triage → refunds",
        "#2 triage → refunds",
        "#3 refunds → fulfillment",
    ]
    assert "refund.request@1.2.0  rejected  ✗ schema_valid" in nodes[2]
    for node in (nodes[0], nodes[1], nodes[3], nodes[4]):
        assert re.search(r"  completed  \d+\.\d ms  ✓ 6/6$", node), node
    assert "↺ triage re-run with 2 issue(s)" in out
    assert "✗ payload.amount: Input should be a valid decimal [decimal_parsing]" in out
    assert "[literal_error]" in out
    assert "⇡ upcast 1.2.0 → 2.0.0" in out and "! warning deprecated: refund.request@1.2.0" in out


def test_a_dead_letter_and_an_escalation_say_how_the_workflow_ended(
    demo: tuple[Path, dict[str, str]],
) -> None:
    """T-3 ends in the dead-letter queue with the command to inspect it; T-4 with its owner."""
    path, ids = demo
    out = trace(path, ids["ticket T-3"])
    nodes = node_lines(out)
    assert [node.split("  ")[2] for node in nodes[2:]] == [
        "rejected", "rejected", "dead_lettered",
    ]  # fmt: skip
    assert all(node.endswith("✗ facts_unchanged") for node in nodes[2:])
    assert out.count("↺ triage re-run with 1 issue(s)") == 2
    assert "tracked fact changed from '129.99' to '130'" in out
    assert "☠ dead letter: validation" in out
    letter = trace_json(path, ids["ticket T-3"])["handoffs"][-1]["id"]
    assert f"after every feedback round; inspect with: seamline dlq show {letter}" in out
    out = trace(path, ids["ticket T-4"])
    assert "⚑ escalated payments-oncall@example.com" in out
    assert "waiting on payments-oncall@example.com: refund of 899.00 USD exceeds" in out


def test_the_tree_fits_80_columns(demo: tuple[Path, dict[str, str]]) -> None:
    """Long issues and warnings wrap inside the tree instead of running off the edge."""
    path, ids = demo
    for name in ("ticket T-2", "ticket T-3"):
        out = trace(path, ids[name], columns=80)
        assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
        assert "#2 triage → refunds" in out


def test_json_has_the_same_tree_with_timings(demo: tuple[Path, dict[str, str]]) -> None:
    """One object: the workflow, then each handoff with timings, issues, evaluations, notes."""
    path, ids = demo
    data = trace_json(path, ids["ticket T-2"])
    assert data["id"] == ids["ticket T-2"]
    assert (data["name"], data["status"]) == ("ticket T-2", "completed")
    assert data["duration_ms"] > 0
    handoffs = data["handoffs"]
    assert [(h["source"], h["destination"], h["status"]) for h in handoffs] == [
        ("external", "intake", "completed"),
        ("intake", "triage", "completed"),
        ("triage", "refunds", "rejected"),
        ("triage", "refunds", "completed"),
        ("refunds", "fulfillment", "completed"),
    ]
    rejected, accepted = handoffs[2], handoffs[3]
    assert rejected["duration_ms"] is None and rejected["started_at"] is None
    assert [i["code"] for i in rejected["issues"]] == ["decimal_parsing", "literal_error"]
    assert [(e["name"], e["label"]) for e in rejected["evaluations"]] == [("schema_valid", "fail")]
    assert accepted["duration_ms"] > 0 and accepted["contract"] == "refund.request@2.0.0"
    assert [n["kind"] for n in accepted["notes"]] == ["warning", "upcast"]
    assert accepted["notes"][1]["data"]["from"] == "1.2.0"
    assert len(accepted["evaluations"]) == 6 and accepted["legs"] == []
    retried = handoffs[1]["notes"][0]
    assert retried["kind"] == "retried" and len(retried["data"]) == 2


def test_a_replayed_dead_letter_continues_in_the_same_tree(tmp_path: Path) -> None:
    """After `dlq replay` with a fixed payload, the dead letter says what it was replayed as."""
    path = tmp_path / "demo.db"
    ids = make_demo(path)
    store = SqliteStore(path)
    [letter] = [d for d in store.list_dead_letters() if d.correlation_id == ids["ticket T-3"]]
    store.close()
    fixed = tmp_path / "fixed.json"
    payload = json.loads(letter.envelope)["payload"]
    fixed.write_text(json.dumps({**payload, "order_value": "129.99"}))
    code, _, err = invoke("dlq", "replay", letter.id, "--store", str(path), "--payload", str(fixed))
    assert code == 0, err
    out = trace(path, ids["ticket T-3"])
    assert out.startswith("ticket T-3  completed")
    [replayed] = [
        note["data"]["as"]
        for handoff in trace_json(path, ids["ticket T-3"])["handoffs"]
        for note in handoff["notes"]
        if note["kind"] == "replayed"
    ]
    assert f"replayed as {replayed[-12:]}" in out
    nodes = node_lines(out)
    assert nodes[-1].startswith("#3 refunds → fulfillment") and "completed" in nodes[-1]


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        pytest.param(["trace", "nope"], "no workflow 'nope'", id="unknown-workflow"),
        pytest.param(["trace", "nope", "--json"], "no workflow 'nope'", id="unknown-json"),
    ],
)
def test_unknown_ids_are_one_line(
    demo: tuple[Path, dict[str, str]], args: list[str], phrase: str
) -> None:
    """An unknown correlation id exits 1 with one line on stderr and nothing on stdout."""
    code, out, err = invoke(*args, "--store", str(demo[0]))
    assert code == 1 and out == ""
    assert phrase in err and len(err.strip().splitlines()) == 1


def test_a_missing_store_is_one_line(tmp_path: Path) -> None:
    """No ledger at --store: exit 1, saying how to make one."""
    for args in (["trace", "x"], ["evals", "report"]):
        code, _, err = invoke(*args, "--store", str(tmp_path / "none.db"))
        assert code == 1 and err.startswith("error: no seamline store at")
        assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("took", "shown"),
    [
        (timedelta(microseconds=420), "0.4 ms"),
        (timedelta(milliseconds=12.34), "12.3 ms"),
        (timedelta(seconds=1.516), "1.52 s"),
        (timedelta(minutes=4, seconds=5), "4 min 05 s"),
        (timedelta(hours=26, minutes=3), "26 h 03 min"),
    ],
)
def test_durations_read_for_people(took: timedelta, shown: str) -> None:
    """Milliseconds under a second, then seconds, minutes and hours."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert _duration(start, start + took) == shown


# -- trace of evaluators, retries and a sensitive field -----------------------------------


class Payout(BaseModel):
    """Money to an account; the IBAN is sensitive."""

    order_id: str
    amount: Decimal
    iban: str


def payout_chain(path: Path) -> str:
    """p0 -> p1 -> p2 under a cap (blocking), a judge (flagging) and a raising check.

    p0 first asks for 900 and is sent back by the cap; p1 loses its connection once and is
    retried; the judge flags the hop to p2, quoting the IBAN (which must come out masked).
    """
    payout = Contract(
        model=Payout, name="payout", version="1.0.0", owner="billing", sensitive=("iban",),
        tracked=("iban",), policy=FailurePolicy(feedback_retries=1, retries=1, backoff=0.001),
    )  # fmt: skip
    calls: list[str] = []

    @agent(name="p0", version="1.0.0", owner="t", accepts=[payout], emits=[payout])
    def p0(request: Payout, ctx: Context) -> Outcome:
        amount = Decimal("90" if ctx.feedback else "900")
        return HandOff(to="p1", payload=request.model_copy(update={"amount": amount}))

    @agent(name="p1", version="1.0.0", owner="t", accepts=[payout], emits=[payout])
    def p1(request: Payout, ctx: Context) -> Outcome:
        calls.append("p1")
        if len(calls) == 1:
            raise ConnectionError("bank unreachable")
        return HandOff(to="p2", payload=request)

    @agent(name="p2", version="1.0.0", owner="t", accepts=[payout])
    def p2(request: Payout, ctx: Context) -> Outcome:
        return Finish("paid")

    @evaluator("judge", mode="flagging")
    def judge(handoff: Subject) -> Verdict:
        iban = handoff.envelope.payload["iban"]
        ok = handoff.receiver != "p2"
        return Verdict(ok, score=0.2, explanation=f"is {iban} the customer's own account?")

    @evaluator("boom")
    def boom(handoff: Subject) -> bool:
        raise RuntimeError("judge unavailable")

    evaluators = [value_range("amount", le=500), judge, boom]
    registry = Registry(agents=[p0, p1, p2], contracts=[payout])
    store = SqliteStore(path)
    try:
        runtime = Runtime(registry, store, evaluators=evaluators)
        request = Payout(order_id="A-1", amount=Decimal(5), iban=IBAN)
        return runtime.run_sync("p0", request, intent="pay back A-1").workflow_id
    finally:
        store.close()


def test_failed_flagged_and_erred_evaluations_are_marked_and_listed(tmp_path: Path) -> None:
    """Each node's mark names what did not pass; the children say why, once."""
    path = tmp_path / "payout.db"
    workflow_id = payout_chain(path)
    out = trace(path, workflow_id)
    nodes = node_lines(out)
    assert [node.split("  ")[0] for node in nodes] == [
        "#0 external → p0", "#1 p0 → p1", "#1 p0 → p1", "#2 p1 → p2",
    ]  # fmt: skip
    assert re.search(r"completed  \d+\.\d ms  ! error: boom$", nodes[0])
    assert nodes[1].endswith("rejected  ✗ value_range:amount  ! error: boom")
    assert nodes[3].endswith("⚑ flagged: judge  ! error: boom")
    # The cap's failure is one of the rejection's issues: listed once, as the issue.
    assert out.count("value_range:amount failed") == 1
    assert "outside the range <= 500 [evaluation_failed]" in out
    assert out.count("! boom (blocking error, RuntimeError): raised: judge unavailable") == 4
    assert "⚑ judge (flagging fail, score 0.2)" in out
    assert "↻ p1 re-run 1 after agent_error, backoff" in out
    assert "p1 raised ConnectionError: bank unreachable" in out


def test_a_sensitive_value_is_never_printed(tmp_path: Path) -> None:
    """The judge quoted the IBAN; the tree and the JSON show the mask instead."""
    path = tmp_path / "payout.db"
    workflow_id = payout_chain(path)
    out = trace(path, workflow_id)
    raw = invoke("trace", workflow_id, "--store", str(path), "--json")[1]
    for shown in (out, raw):
        assert IBAN not in shown
        assert f"is {MASK} the customer's own account?" in shown
    report = invoke("evals", "report", "--store", str(path))[1]
    assert IBAN not in report and MASK in report


# -- trace of a supervisor's fan-out --------------------------------------------------------


class Topic(BaseModel):
    """What the supervisor researches."""

    topic: str


class Question(BaseModel):
    """One leg's question."""

    ask: str


def supervisor(path: Path) -> str:
    """lead fans out two questions; each leg is analyst -> reviewer."""
    topic = Contract(model=Topic, name="topic", version="1.0.0", owner="t")
    question = Contract(model=Question, name="question", version="1.0.0", owner="t")

    @agent(name="lead", version="1.0.0", owner="t", accepts=[topic], emits=[question])
    async def lead(task: Topic, ctx: Context) -> Outcome:
        legs = [Leg(to="analyst", payload=Question(ask=f"{task.topic} {n}")) for n in (1, 2)]
        results = await ctx.fan_out(legs, concurrency=2)
        return Finish({"answers": [result.ok for result in results]})

    @agent(name="analyst", version="1.0.0", owner="t", accepts=[question], emits=[question])
    def analyst(asked: Question, ctx: Context) -> Outcome:
        return HandOff(to="reviewer", payload=asked)

    @agent(name="reviewer", version="1.0.0", owner="t", accepts=[question])
    def reviewer(asked: Question, ctx: Context) -> Outcome:
        return Finish(asked.ask)

    store = SqliteStore(path)
    try:
        registry = Registry(agents=[lead, analyst, reviewer], contracts=[topic, question])
        run = functools.partial(
            Runtime(registry, store).run, "lead", Topic(topic="solar"), intent="brief me",
            name="research",
        )  # fmt: skip
        return anyio.run(run).workflow_id
    finally:
        store.close()


def test_fan_out_legs_hang_under_the_supervisor_step(tmp_path: Path) -> None:
    """Each leg is a subtree of its own, below the handoff that fanned out."""
    path = tmp_path / "lead.db"
    lead_id = supervisor(path)
    out = trace(path, lead_id)
    lines = out.splitlines()
    fan = next(i for i, line in enumerate(lines) if "⑃ fan-out to 2 leg(s)" in line)
    assert "#0 external → lead" in lines[fan - 1]
    depth = len(lines[fan]) - len(lines[fan].lstrip("│├└─ "))
    for index in range(2):
        at = lines.index(next(line for line in lines if line.endswith(f"{lead_id}.0.{index}")))
        assert "research / analyst  completed" in lines[at - 1]
        assert len(lines[at - 1]) - len(lines[at - 1].lstrip("│├└─ ")) > depth
        assert "#0 lead → analyst" in lines[at + 1] and "#1 analyst → reviewer" in lines[at + 2]
    data = trace_json(path, lead_id)
    legs = data["handoffs"][0]["legs"]
    assert [leg["id"] for leg in legs] == [f"{lead_id}.0.0", f"{lead_id}.0.1"]
    for leg in legs:
        assert leg["status"] == "completed"
        assert [(h["source"], h["destination"]) for h in leg["handoffs"]] == [
            ("lead", "analyst"), ("analyst", "reviewer"),
        ]  # fmt: skip


# -- evals report ---------------------------------------------------------------------------


def test_report_tables_on_the_demo(demo: tuple[Path, dict[str, str]]) -> None:
    """Totals, the evaluator table, the failing contract and agent, the latest failures."""
    path, ids = demo
    code, out, err = invoke("evals", "report", "--store", str(path), columns=80)
    assert code == 0, err
    assert out.startswith("82 evaluations of 17 handoffs in 4 workflow(s): 4 failed, 0 erred")
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    assert re.search(r"facts_unchanged\s+│ blocking │\s+16 │\s+13 │\s+3 │\s+0 │\s+18\.8%", out)
    assert re.search(r"refund\.request@1\.2\.0 │\s+22 │\s+4 │\s+0 │ facts_unchanged ×3", out)
    assert re.search(r"triage\s+│\s+22 │\s+4 │\s+0 │ refunds ×4", out)
    assert "support.case@1.0.0" not in out  # clean contracts stay out of the text tables
    assert f"workflow {ids['ticket T-3']}" in out and f"workflow {ids['ticket T-2']}" in out
    assert "✗ facts_unchanged (blocking fail)" in out


def test_report_json_is_the_collected_report(demo: tuple[Path, dict[str, str]]) -> None:
    """--json prints EvaluationReport.as_dict of the same workflows, clean rows included."""
    path, _ = demo
    code, out, _ = invoke("evals", "report", "--store", str(path), "--json", "--workflows", "2")
    assert code == 0
    store = SqliteStore(path)
    try:
        expected = EvaluationReport.collect(Ledger(store), workflows=2).as_dict()
    finally:
        store.close()
    assert json.loads(out) == expected
    assert expected["workflows"] == 2 and expected["failures"] == 3


def test_report_without_evaluations_is_a_friendly_line(tmp_path: Path) -> None:
    """An empty ledger: one sentence and exit 0."""
    path = tmp_path / "empty.db"
    SqliteStore(path).close()
    code, out, err = invoke("evals", "report", "--store", str(path))
    assert (code, err) == (0, "")
    assert out.startswith(f"no evaluations in {path} yet (0 workflow(s) read)")
