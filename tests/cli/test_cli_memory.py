"""``seamline memory`` against a real ledger (SQLite and PostgreSQL) whose agents wrote and read
memory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import anyio
import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from seamline import Context, Contract, Finish, HandOff, Outcome, Registry, Runtime
from seamline import agent as agent_card
from seamline.cli import app
from seamline.stores import WorkflowStatus, open_store

runner = CliRunner()


class Ticket(BaseModel):
    """What intake hands to refunds."""

    text: str


TICKET = Contract(model=Ticket, name="ticket", version="1.0.0", owner="support")


@agent_card(name="intake", version="1.4.0", owner="support", accepts=[TICKET], emits=[TICKET])
def intake(ticket: Ticket, ctx: Context) -> Outcome:
    """Looks the order up twice (it changed), notes the ticket, hands on."""
    order = {"order_id": "ORD-1001", "status": "shipped", "value": "129.99", "items": 1}
    ctx.memory.put("order", order, kind="tool_output")
    ctx.memory.put("order", {**order, "status": "delivered"}, kind="tool_output")
    ctx.memory.put("ticket", ticket.text)
    return HandOff(to="refunds", payload=ticket)


@agent_card(name="refunds", version="3.0.0", owner="payments", accepts=[TICKET])
def refunds(ticket: Ticket, ctx: Context) -> Outcome:
    """Reads the order and searches the ticket before deciding."""
    order = ctx.memory.get("order").value
    ctx.memory.search("lamp broken")
    decision = {"approved": True, "amount": 129.99, "order_id": order["order_id"]}
    ctx.memory.put("refund_decision", decision, kind="decision")
    return Finish(decision)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def ledger(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, str]:
    """The --store of a SQLite file or a PostgreSQL schema, and the id of one finished
    intake -> refunds workflow in it."""
    if request.param == "postgres":
        target = f"{request.getfixturevalue('pg_url')}?schema="
        target += request.getfixturevalue("new_pg_schema")()
    else:
        target = str(tmp_path_factory.mktemp("memory") / "ledger.db")
    store = open_store(target, migrate=True)
    runtime = Runtime(Registry(agents=[intake, refunds], contracts=[TICKET]), store)
    first = Ticket(text="My lamp arrived broken, I want a refund")
    result = anyio.run(lambda: runtime.run("intake", first, intent="refund the broken lamp"))
    store.close()
    assert result.status is WorkflowStatus.COMPLETED
    return target, result.workflow_id


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; returns exit code, stdout and stderr."""
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def memory(ledger: tuple[str, str], command: str, *args: str) -> tuple[int, str, str]:
    """``seamline memory COMMAND WORKFLOW ARGS --store LEDGER``."""
    store, workflow = ledger
    return invoke("memory", command, workflow, *args, "--store", store)


REF = re.compile(r"^(?: *\d+\. )?([\w.:/-]+@\d+) ", re.MULTILINE)


def refs(out: str) -> list[str]:
    """The ``key@version`` each listed artifact (or ranked hit) starts its line with."""
    return REF.findall(out)


def test_list_shows_the_newest_version_of_each_key_with_provenance(
    ledger: tuple[str, str],
) -> None:
    """Without filters, list shows each key's newest version, its producer, step and a preview."""
    code, out, _ = memory(ledger, "list")
    assert code == 0
    assert refs(out) == ["refund_decision@1", "ticket@1", "order@2"]
    assert "3 artifacts, newest version of each key" in out
    assert "decision · refunds@3.0.0 · step 1" in out
    assert "My lamp arrived broken, I want a refund" in out
    assert '"status": "delivered"' in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--kind", "decision"], ["refund_decision@1"]),
        (["--producer", "intake"], ["ticket@1", "order@2"]),
        (["--step", "1"], ["refund_decision@1"]),
        (["--all-versions"], ["refund_decision@1", "ticket@1", "order@2", "order@1"]),
        (["--all-versions", "--where", "status=shipped"], ["order@1"]),
        (["--where", 'status="delivered"'], ["order@2"]),
        (["--where", "approved=true"], ["refund_decision@1"]),
        (["--where", "amount=129.99", "--where", "order_id=ORD-1001"], ["refund_decision@1"]),
        (["--where", 'value="129.99"'], ["order@2"]),
        (["--where", "value=129.99"], []),
        (["--where", "items=1", "--kind", "tool_output"], ["order@2"]),
        (["--where", "missing=null", "--producer", "refunds"], ["refund_decision@1"]),
    ],
)
def test_list_filters(ledger: tuple[str, str], args: list[str], expected: list[str]) -> None:
    """Kind, producer, step, versions and --where values parsed as JSON, else text, all combine."""
    code, out, err = memory(ledger, "list", *args)
    assert code == 0, err
    assert refs(out) == expected
    if not expected:
        assert "no artifacts in workflow" in out


def test_list_limit_says_when_more_exist_and_json_is_one_object(ledger: tuple[str, str]) -> None:
    """--limit cuts the newest first and says so; --json holds every field of each artifact."""
    code, out, _ = memory(ledger, "list", "--limit", "1")
    assert code == 0 and refs(out) == ["refund_decision@1"]
    assert "raise --limit" in out
    code, out, _ = memory(ledger, "list", "--all-versions", "--json")
    data = json.loads(out)
    assert data["workflow"] == ledger[1]
    order = next(a for a in data["artifacts"] if a["ref"] == "order@1")
    assert order["value"]["status"] == "shipped" and order["kind"] == "tool_output"
    assert (order["producer"], order["producer_version"], order["step"]) == ("intake", "1.4.0", 0)
    assert order["contract"] == "ticket@1.0.0" and order["handoff_id"]


def test_get_prints_the_whole_value_with_provenance(ledger: tuple[str, str]) -> None:
    """get shows key@version, kind, producer@version, step, handoff, contract, time and value."""
    code, out, _ = memory(ledger, "get", "order")
    assert code == 0
    assert out.splitlines()[0] == "order@2"
    for label in ("kind", "producer", "step", "handoff", "contract", "written", "id"):
        assert f"\n{label} " in out
    assert "intake@1.4.0" in out and "ticket@1.0.0" in out
    assert '"status": "delivered"' in out
    code, out, _ = memory(ledger, "get", "order", "--version", "1")
    assert code == 0 and out.startswith("order@1") and '"status": "shipped"' in out


def test_get_json_is_the_artifact(ledger: tuple[str, str]) -> None:
    """get --json prints the artifact as one object, value decoded."""
    code, out, _ = memory(ledger, "get", "refund_decision", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["ref"] == "refund_decision@1" and data["kind"] == "decision"
    assert data["value"] == {"approved": True, "amount": 129.99, "order_id": "ORD-1001"}
    assert (data["producer"], data["step"], data["correlation_id"]) == ("refunds", 1, ledger[1])


def test_search_shows_rank_score_rankings_and_preview(ledger: tuple[str, str]) -> None:
    """Hybrid search ranks the ticket first, found by both rankings, with its text."""
    code, out, _ = memory(ledger, "search", "lamp arrived broken")
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith(" 1. ticket@1  score 0.0")
    assert "lexical #1 · semantic #1" in first
    assert "My lamp arrived broken" in out.splitlines()[1]


@pytest.mark.parametrize("mode", ["lexical", "semantic"])
def test_search_modes_use_one_ranking(ledger: tuple[str, str], mode: str) -> None:
    """--mode lexical or semantic names only that ranking; --limit caps the hits."""
    code, out, _ = memory(ledger, "search", "refund lamp", "--mode", mode, "--limit", "2")
    assert code == 0
    assert 1 <= len(refs(out)) <= 2
    other = "semantic" if mode == "lexical" else "lexical"
    assert f"{mode} #1" in out and other not in out


def test_search_json_carries_both_ranks(ledger: tuple[str, str]) -> None:
    """search --json lists hits with rank, score, both ranks and the artifact."""
    code, out, _ = memory(ledger, "search", "order delivered", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["workflow"], data["text"], data["mode"]) == (
        ledger[1],
        "order delivered",
        "hybrid",
    )
    top = data["hits"][0]
    assert top["rank"] == 1 and top["artifact"]["ref"] == "order@2"
    assert top["lexical_rank"] == 1 and top["semantic_rank"] is not None and top["score"] > 0


@pytest.mark.parametrize("text", ['"NEAR(', "refun*", "'; DROP TABLE artifacts; --"])
def test_search_treats_fts_syntax_as_text(ledger: tuple[str, str], text: str) -> None:
    """FTS5 operators and SQL are searched for as words: no error, no prefix match."""
    code, out, err = memory(ledger, "search", text, "--mode", "lexical")
    assert (code, err) == (0, "")
    assert "nothing in workflow" in out
    assert memory(ledger, "list")[0] == 0  # and the table is still there


def test_audit_shows_who_read_what(ledger: tuple[str, str]) -> None:
    """audit lists each agent read: agent@version, operation, query, returned refs, handoff."""
    code, out, _ = memory(ledger, "audit")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith("refunds@3.0.0  get")
    assert '"key": "order"' in lines[1]
    assert lines[2].split()[:2] == ["returned", "order@2"]
    assert "handoff" in lines[3]
    # The span id, or "not traced" when no SDK is installed (a provider is process-global,
    # so which one this shows depends on whether a tracing test ran first in this process).
    span = lines[4].split()
    assert span[0] == "span"
    assert span[1:3] == ["not", "traced"] or re.fullmatch("[0-9a-f]{16}", span[1])
    assert lines[5].endswith("refunds@3.0.0  search") and '"text": "lamp broken"' in out
    code, out, _ = memory(ledger, "audit", "--agent", "intake")
    assert code == 0 and "no memory reads by agent intake" in out


def test_audit_json_and_operator_reads_are_not_audited(ledger: tuple[str, str]) -> None:
    """audit --json decodes query and ids; the CLI's own reads never join the audit."""
    code, out, _ = memory(ledger, "audit", "--agent", "refunds", "--json")
    assert code == 0
    reads = json.loads(out)["reads"]
    assert [r["operation"] for r in reads] == ["get", "search"]
    assert reads[0]["query"] == {"key": "order", "version": None}
    assert reads[0]["agent"] == "refunds" and reads[0]["agent_version"] == "3.0.0"
    assert len(reads[0]["returned"]) == 1 and reads[0]["handoff_id"]
    order = json.loads(memory(ledger, "get", "order", "--json")[1])
    assert reads[0]["returned"] == [order["id"]]
    memory(ledger, "search", "lamp")
    assert json.loads(memory(ledger, "audit", "--json")[1])["reads"] == reads


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "no-such-workflow"], "no workflow 'no-such-workflow'"),
        (["get", "no-such-workflow", "order"], "no workflow 'no-such-workflow'"),
        (["search", "no-such-workflow", "lamp"], "no workflow 'no-such-workflow'"),
        (["audit", "no-such-workflow"], "no workflow 'no-such-workflow'"),
        (["get", "{wf}", "receipt"], "no memory key 'receipt'"),
        (["get", "{wf}", "order", "--version", "7"], "no version 7 of memory key 'order'"),
        (["get", "{wf}", "bad key!"], "memory key 'bad key!' is invalid"),
        (["list", "{wf}", "--where", "status"], "--where 'status' is not PATH=VALUE"),
        (["list", "{wf}", "--where", "a=1", "--where", "a=2"], "names 'a' twice"),
        (["list", "{wf}", "--where", "order=[1]"], "compares an object or list"),
        (["list", "{wf}", "--where", "a..b=1"], "bad memory filter"),
        (["list", "{wf}", "--step", "-1"], "bad memory filter: step"),
        (["list", "{wf}", "--limit", "0"], "bad memory filter: limit"),
        (["list", "{wf}", "--limit", "1001"], "bad memory filter: limit"),
        (["search", "{wf}", "lamp", "--mode", "fuzzy"], "--mode 'fuzzy' is not one of hybrid"),
        (["search", "{wf}", "lamp", "--limit", "0"], "search limit must be between 1 and 100"),
        (["search", "{wf}", "lamp", "--limit", "101"], "search limit must be between 1 and 100"),
        (["search", "{wf}", "***"], "has no words to look for"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    ledger: tuple[str, str], args: list[str], message: str
) -> None:
    """Unknown ids, keys, versions and malformed options print one error line and exit 1."""
    store, workflow = ledger
    command = [arg.replace("{wf}", workflow) for arg in args]
    code, out, err = invoke("memory", *command, "--store", store)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert message in err


def test_missing_store_is_one_line(tmp_path: Path) -> None:
    """A store path that does not exist is one error line, and no file is created."""
    code, _, err = invoke("memory", "list", "wf", "--store", str(tmp_path / "none.db"))
    assert code == 1 and err.startswith("error: no seamline store")
    assert not (tmp_path / "none.db").exists()
