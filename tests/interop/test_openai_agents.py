"""OpenAI Agents SDK handoffs travel as seamline handoffs: validated, recorded, gated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from agents import Agent, Runner, function_tool
from agents.testing import ScriptedModel, function_call
from agents_desk import OFFLINE, answer, desk, transfer
from fresh_process import load_example, python
from pydantic import BaseModel
from refunds import REFUND, RefundRequest, refund_contract

import seamline.interop.openai_agents
from seamline import Contract, Registry, Runtime, SqliteStore
from seamline.contracts import Gate
from seamline.exceptions import ConfigurationError
from seamline.interop.openai_agents import PROMPT, AgentTeam, contracted_handoff, run
from seamline.stores import WorkflowStatus

ASK = "My lamp arrived broken, refund order ORD-1"
HERE = Path(__file__).parent


def delivered(model: ScriptedModel) -> dict[str, Any]:
    """The handoff a receiving SDK agent was given: its one input message, parsed."""
    call = model.first_call
    assert call is not None
    (message,) = call.input
    assert message["role"] == "user"
    parsed: dict[str, Any] = json.loads(message["content"])
    return parsed


def test_a_valid_handoff_is_recorded_and_becomes_the_receivers_input(tmp_path: Path) -> None:
    """The ledger holds both hops; refunds reads the validated payload, not triage's chat."""
    run_ = desk(
        tmp_path / "l.db",
        [transfer(order_id="ORD-1", amount=129.99)],
        [answer("Refunded 129.99 on ORD-1")],
    )
    result = anyio.run(lambda: run(run_.runtime, run_.triage, ASK))
    assert result.status is WorkflowStatus.COMPLETED
    assert result.result == "Refunded 129.99 on ORD-1"
    prompt, refund = run_.runtime.ledger.handoffs(result.workflow_id)
    assert (prompt.route, prompt.contract) == ("external@0.0.0 -> triage@1.0.0", PROMPT.ref)
    assert (refund.route, refund.contract) == ("triage@1.0.0 -> refunds@1.0.0", REFUND.ref)
    kinds = [entry.kind for entry in refund.entries]
    assert kinds == ["proposed", "evaluated", "validated", "delivered", "completed"]
    assert refund.envelope.payload == {"order_id": "ORD-1", "amount": 129.99}  # as sent
    assert refund.envelope.intent.text == ASK
    first = run_.triage_model.first_call
    assert first is not None and first.input == [{"role": "user", "content": ASK}]
    assert delivered(run_.refunds_model) == {
        "intent": ASK,
        "from": "triage@1.0.0",
        "contract": "refund.request@1.0.0",
        "input": {"order_id": "ORD-1", "amount": "129.99"},
    }


def test_the_module_exports_exactly_its_api() -> None:
    """The adapter's public names, pinned."""
    assert sorted(seamline.interop.openai_agents.__all__) == [
        "AgentTeam",
        "PROMPT",
        "Prompt",
        "contracted_handoff",
        "run",
    ]


def test_the_handoff_tool_offers_the_contract_as_its_arguments() -> None:
    """The model sees the contract's schema, strict unless a free-form map forbids it."""
    refunds = Agent(name="refunds")
    handoff = contracted_handoff(refunds, REFUND)
    assert handoff.tool_name == "transfer_to_refunds" and handoff.strict_json_schema
    assert handoff.input_json_schema["required"] == ["order_id", "amount"]
    assert handoff.input_json_schema["additionalProperties"] is False
    assert "refund.request@1.0.0" in handoff.tool_description

    class Note(BaseModel):
        fields: dict[str, Any]

    loose = Contract(model=Note, name="note", version="1.0.0", owner="tests")
    renamed = contracted_handoff(refunds, loose, tool_name_override="leave_note")
    assert renamed.tool_name == "leave_note" and not renamed.strict_json_schema


def test_a_rejected_handoff_goes_back_to_the_senders_model_with_every_issue(
    tmp_path: Path,
) -> None:
    """triage runs again on its input plus the issues, and its fixed handoff goes through."""
    run_ = desk(
        tmp_path / "l.db",
        [transfer(order_id="ORD-1", amount=-129.99), transfer(order_id="ORD-1", amount=129.99)],
        [answer("Refunded")],
    )
    result = anyio.run(lambda: run(run_.runtime, run_.triage, ASK))
    assert result.status is WorkflowStatus.COMPLETED
    _, rejected, accepted = run_.runtime.ledger.handoffs(result.workflow_id)
    assert rejected.status == "rejected" and accepted.status == "completed"
    assert rejected.envelope.payload["amount"] == -129.99
    _, retry = run_.triage_model.calls
    assert retry.input[0] == {"role": "user", "content": ASK}
    feedback = retry.input[1]["content"]
    assert "rejected by the receiving agent's contract" in feedback
    assert "payload.amount: Input should be greater than 0 [greater_than]" in feedback
    assert delivered(run_.refunds_model)["input"]["amount"] == "129.99"


def test_a_handoff_that_never_fits_is_dead_lettered_whole_and_replays(tmp_path: Path) -> None:
    """After the last feedback round nothing reaches refunds; a fixed replay runs it."""
    run_ = desk(
        tmp_path / "l.db",
        [transfer(order_id="ORD-1", amount=-1), transfer(order_id="ORD-1", amount=-2)],
        [answer("Refunded 5.00")],
    )
    runtime = run_.runtime
    result = anyio.run(lambda: run(runtime, run_.triage, ASK))
    assert result.status is WorkflowStatus.DEAD_LETTERED and result.dead_letter_id
    assert run_.refunds_model.calls == ()
    letter = runtime.ledger.dead_letter(result.dead_letter_id)
    assert letter.reason == "validation"
    assert json.loads(letter.envelope)["payload"] == {"order_id": "ORD-1", "amount": -2}
    assert [issue["code"] for issue in json.loads(letter.issues)] == ["greater_than"]
    fixed = {"order_id": "ORD-1", "amount": "5.00"}
    replayed = anyio.run(lambda: runtime.replay(result.dead_letter_id or "", payload=fixed))
    assert replayed.status is WorkflowStatus.COMPLETED and replayed.result == "Refunded 5.00"
    assert delivered(run_.refunds_model)["input"] == fixed


def test_a_gated_handoff_waits_and_the_decision_runs_the_receiver(tmp_path: Path) -> None:
    """The run stops waiting (no SDK run open); an edit runs refunds on the edited payload."""
    gated = refund_contract(gate=Gate(when=lambda refund: refund.amount > 100))
    run_ = desk(
        tmp_path / "l.db",
        [transfer(order_id="ORD-1", amount=129.99)],
        [answer("Refunded 99.00")],
        contract=gated,
    )
    runtime = run_.runtime
    result = anyio.run(lambda: run(runtime, run_.triage, ASK))
    assert result.status is WorkflowStatus.WAITING
    assert run_.refunds_model.calls == ()
    (gate,) = runtime.gates()
    assert gate.workflow_id == result.workflow_id and gate.route == "triage → refunds"
    edit = {"order_id": "ORD-1", "amount": "99.00"}
    decided = anyio.run(lambda: runtime.decide(gate.id, "edit", by="alice", payload=edit))
    assert decided.status is WorkflowStatus.COMPLETED and decided.result == "Refunded 99.00"
    assert delivered(run_.refunds_model)["input"] == edit


def test_arguments_that_are_not_a_json_object_fail_the_senders_step(tmp_path: Path) -> None:
    """The sender's model misbehaved: its own step is dead-lettered, saying why."""
    broken = [function_call("transfer_to_refunds", "[1, 2]", call_id="call-1")]
    run_ = desk(tmp_path / "l.db", [broken])
    result = anyio.run(lambda: run(run_.runtime, run_.triage, ASK))
    assert result.status is WorkflowStatus.DEAD_LETTERED and result.dead_letter_id
    letter = run_.runtime.ledger.dead_letter(result.dead_letter_id)
    assert letter.reason == "agent_error"
    assert "triage's model called transfer_to_refunds with arguments that are not a JSON " in (
        letter.message
    )
    assert "a list" in letter.message


def test_a_tool_approval_inside_an_agent_escalates_the_workflow(tmp_path: Path) -> None:
    """seamline cannot resume an SDK interruption, so a person is asked, by name."""

    @function_tool(needs_approval=True)
    def pay(order_id: str) -> str:
        """Pay the refund."""
        return "paid"

    model = ScriptedModel([[function_call("pay", {"order_id": "ORD-1"}, call_id="call-pay")]])
    cashier = Agent(name="cashier", model=model, tools=[pay])
    team = AgentTeam(cashier, owner="payments", version="1.0.0", run_config=OFFLINE)
    runtime = Runtime(
        Registry(agents=team.agents, contracts=team.contracts), SqliteStore(tmp_path / "l.db")
    )
    result = anyio.run(lambda: run(runtime, cashier, "pay ORD-1 back"))
    assert result.status is WorkflowStatus.ESCALATED
    assert result.result["owner"] == "payments"
    assert "cashier stopped for approval of pay" in result.result["reason"]


def test_a_team_refuses_handoffs_without_a_contract_and_clashing_names() -> None:
    """A plain handoff would switch agents where seamline cannot see it."""
    billing = Agent(name="billing")
    with pytest.raises(ConfigurationError, match=r"contracted_handoff\(billing, contract\)"):
        AgentTeam(Agent(name="triage", handoffs=[billing]), owner="support", version="1.0.0")
    twin = Agent(name="triage", handoffs=[contracted_handoff(Agent(name="triage"), REFUND)])
    with pytest.raises(ConfigurationError, match="two different SDK agents are named 'triage'"):
        AgentTeam(twin, owner="support", version="1.0.0")
    with pytest.raises(ConfigurationError, match="at least one entry"):
        AgentTeam(owner="support", version="1.0.0")


def test_a_team_derives_each_agents_card_from_its_handoffs() -> None:
    """Entries accept the prompt; receivers accept what is handed to them; senders emit it."""
    refunds = Agent(name="refunds")
    triage = Agent(name="triage", handoffs=[contracted_handoff(refunds, REFUND)])
    team = AgentTeam(triage, owner="support", version="2.1.0")
    cards = {member.name: member.card for member in team.agents}
    assert str(cards["triage"].accepts["openai-agents.prompt"]) == "^1.0.0"
    assert str(cards["refunds"].accepts["refund.request"]) == "^1.0.0"
    assert {name: str(v) for name, v in cards["triage"].emits.items()} == {
        "refund.request": "1.0.0"
    }
    assert cards["refunds"].ref == "refunds@2.1.0" and cards["refunds"].owner == "support"
    assert cards["refunds"].description == "OpenAI Agents SDK agent refunds"
    assert [c.ref for c in team.contracts] == [PROMPT.ref, REFUND.ref]
    older = Contract(model=RefundRequest, name="refund.request", version="0.9.0", owner="pay")
    split = Agent(
        name="triage",
        handoffs=[contracted_handoff(refunds, REFUND), contracted_handoff(refunds, older)],
    )
    with pytest.raises(ConfigurationError, match=r"triage hands off refund\.request@1\.0\.0 and"):
        AgentTeam(split, owner="support", version="1.0.0")


def test_running_the_agents_outside_seamline_says_how_to_run_them() -> None:
    """Runner.run would switch agents unchecked; the handoff refuses and names the fix."""
    model = ScriptedModel([transfer(order_id="ORD-1", amount=1)])
    triage = Agent(
        name="triage", model=model, handoffs=[contracted_handoff(Agent(name="refunds"), REFUND)]
    )
    with pytest.raises(ConfigurationError, match=r"seamline.interop.openai_agents.run\(runtime"):
        anyio.run(lambda: Runner.run(triage, ASK, run_config=OFFLINE))


def test_handoffs_are_traced_like_any_other(tmp_path: Path) -> None:
    """With an exporter configured, the run is one workflow span holding both agents and the
    handoff span (in a fresh process: OpenTelemetry allows one provider per process)."""
    code = f"""
import json, sys
sys.path.insert(0, {str(HERE)!r})
import anyio
from seamline.telemetry import configure
from seamline.interop.openai_agents import run
from fresh_process import load_example, python
from refunds import REFUND, RefundRequest, refund_contract
from agents_desk import answer, desk, transfer

provider = configure("memory")
run_ = desk({str(tmp_path / "l.db")!r}, [transfer(order_id="ORD-1", amount=129.99)],
            [answer("Refunded")])
anyio.run(lambda: run(run_.runtime, run_.triage, "refund ORD-1"))
spans = {{s.name: dict(s.attributes or {{}}) for s in provider.exporter.get_finished_spans()}}
print(json.dumps(spans))
"""
    done = python(code)
    assert done.returncode == 0, done.stderr
    spans = json.loads(done.stdout)
    assert {"invoke_agent triage", "invoke_agent refunds"} <= spans.keys()
    assert any(name.startswith("invoke_workflow") for name in spans)
    handoff = spans["handoff triage -> refunds"]
    assert handoff["seamline.handoff.contract"] == "refund.request@1.0.0"
    assert handoff["seamline.handoff.outcome"] == "validated"


def test_without_the_extra_the_import_names_it() -> None:
    """No SDK installed: importing the adapter raises MissingExtraError naming the extra."""
    code = (
        "import sys\nsys.modules['agents'] = None  # as if openai-agents were not installed\n"
        "from seamline.exceptions import MissingExtraError\n"
        "try:\n    import seamline.interop.openai_agents\n"
        "except MissingExtraError as error:\n    print(error)\n"
    )
    done = python(code)
    assert done.returncode == 0, done.stderr
    assert 'pip install "seamline[openai-agents]"' in done.stdout


def test_the_example_runs_its_three_tickets(tmp_path: Path) -> None:
    """The clean refund, the prose amount fixed after feedback, the approved large one."""
    example = load_example(HERE.parents[1] / "examples" / "openai_agents" / "refund_desk.py")
    ended = anyio.run(example.main, str(tmp_path / "desk.db"))
    assert [outcome["status"] for outcome in ended.values()] == ["completed"] * 3
    late = ended["ORD-2 came a week late, refund the shipping"]
    assert late["hops"][1] == (
        "triage → refunds (refund.request@1.0.0): rejected: payload.amount decimal_parsing"
    )
