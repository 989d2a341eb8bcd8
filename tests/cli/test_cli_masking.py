"""Sensitive fields through a real chain: the receiver reads them, every view shows MASK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from typer.testing import CliRunner

from seamline import (
    Context,
    Contract,
    FailurePolicy,
    Finish,
    HandOff,
    Outcome,
    Registry,
    RejectedHandoff,
    RunResult,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.cli import app
from seamline.contracts import MASK, migration
from seamline.ledger import Ledger

runner = CliRunner()
IBAN = "DE89370400440532013000"
OTHER_IBAN = "GB33BUKB20201555555555"


class Payout(BaseModel):
    """Money to send to a customer's bank account."""

    order_id: str
    iban: str


def build_registry(
    seen: list[str] | None = None, *, paraphrase: bool = False, fallback: str | None = None
) -> Registry:
    """intake -> payouts under a contract whose tracked IBAN is sensitive; repair can fix it.

    ``seen`` collects the IBANs the receivers were given; ``paraphrase`` makes intake hand on
    a different IBAN (a changed tracked fact); ``fallback`` names the contract's fallback.
    """
    received = [] if seen is None else seen
    payout = Contract(
        model=Payout,
        name="payout",
        version="1.0.0",
        owner="billing",
        sensitive=("iban",),
        tracked=("order_id", "iban"),
        policy=FailurePolicy(feedback_retries=0, fallback_agent=fallback),
    )

    @agent(name="intake", version="1.0.0", owner="support", accepts=[payout], emits=[payout])
    def intake(request: Payout, ctx: Context) -> Outcome:
        sent = request.model_copy(update={"iban": OTHER_IBAN}) if paraphrase else request
        return HandOff(to="payouts", payload=sent)

    @agent(name="payouts", version="1.0.0", owner="billing", accepts=[payout])
    def payouts(request: Payout, ctx: Context) -> Outcome:
        received.extend([request.iban, ctx.envelope.payload["iban"]])
        return Finish({"paid": request.order_id})

    @agent(
        name="repair", version="1.0.0", owner="billing", accepts={"seamline.rejected-handoff": "^1"}
    )
    def repair(rejected: RejectedHandoff, ctx: Context) -> Outcome:
        received.append(rejected.payload["iban"])
        return Finish("repaired")

    return Registry(agents=[intake, payouts, repair], contracts=[payout])


def run(path: Path, registry: Registry) -> RunResult:
    """One payout of IBAN for order A-1, on a SQLite ledger at ``path``."""
    store = SqliteStore(path)
    try:
        runtime = Runtime(registry, store)
        return runtime.run_sync(
            "intake", Payout(order_id="A-1", iban=IBAN), intent="refund A-1 to my account"
        )
    finally:
        store.close()


def invoke(*args: str) -> str:
    """Run the CLI in-process, assert it succeeded, and return its stdout."""
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def handoff_ids(path: Path, workflow_id: str) -> list[str]:
    """The workflow's handoff ids in chain order."""
    store = SqliteStore(path)
    try:
        return [view.id for view in Ledger(store).handoffs(workflow_id)]
    finally:
        store.close()


def assert_masked(out: str, *values: str) -> None:
    """None of ``values`` is printed, and the mask marker is."""
    assert MASK in out
    for value in values:
        assert value not in out


def test_the_receiver_reads_the_value_and_the_ledger_view_masks_it(tmp_path: Path) -> None:
    """payouts gets the real IBAN (payload and ctx.envelope); the ledger's view shows MASK."""
    seen: list[str] = []
    result = run(tmp_path / "l.db", build_registry(seen))
    assert result.result == {"paid": "A-1"}
    assert seen == [IBAN, IBAN]
    delivered = handoff_ids(tmp_path / "l.db", result.workflow_id)[-1]
    store = SqliteStore(tmp_path / "l.db")
    try:
        view = Ledger(store).handoff(delivered)
    finally:
        store.close()
    assert view.envelope.sensitive == ("iban",)
    assert view.envelope.payload["iban"] == IBAN
    masked = json.loads(view.masked_envelope_json)
    assert masked["payload"] == {"order_id": "A-1", "iban": MASK}
    assert masked["facts"] == {"order_id": "A-1", "iban": MASK}


def test_handoffs_show_never_prints_the_value(tmp_path: Path) -> None:
    """`handoffs show` of every handoff masks the IBAN and keeps the order id readable."""
    path = tmp_path / "l.db"
    result = run(path, build_registry())
    for handoff_id in handoff_ids(path, result.workflow_id):
        out = invoke("handoffs", "show", handoff_id, "--store", str(path))
        assert_masked(out, IBAN)
        assert '"order_id": "A-1"' in out


def test_a_changed_sensitive_fact_is_dead_lettered_without_its_values(tmp_path: Path) -> None:
    """`dlq show`, `workflows show` and `handoffs show` report fact_changed but no IBAN."""
    path = tmp_path / "l.db"
    result = run(path, build_registry(paraphrase=True))
    assert result.dead_letter_id is not None
    store = ["--store", str(path)]
    out = invoke("dlq", "show", result.dead_letter_id, *store)
    assert_masked(out, IBAN, OTHER_IBAN)
    assert "fact_changed" in out
    out = invoke("workflows", "show", result.workflow_id, *store)
    assert f"tracked fact changed from {MASK} to {MASK}" in out
    assert IBAN not in out and OTHER_IBAN not in out
    for handoff_id in handoff_ids(path, result.workflow_id):
        assert_masked(invoke("handoffs", "show", handoff_id, *store), IBAN, OTHER_IBAN)


def test_the_fallback_repairs_with_the_real_value_that_views_mask(tmp_path: Path) -> None:
    """The fallback agent gets the rejected IBAN; the wrapper's envelope masks it in views."""
    seen: list[str] = []
    path = tmp_path / "l.db"
    result = run(path, build_registry(seen, paraphrase=True, fallback="repair"))
    assert result.result == "repaired"
    assert seen == [OTHER_IBAN]
    wrapper = handoff_ids(path, result.workflow_id)[-1]
    out = invoke("handoffs", "show", wrapper, "--store", str(path))
    assert "seamline.rejected-handoff" in out
    assert_masked(out, IBAN, OTHER_IBAN)


def test_contracts_export_writes_no_payloads(tmp_path: Path) -> None:
    """Export writes schemas and metadata only: no value from the ledger beside it leaks."""
    run(tmp_path / "seamline.db", build_registry())
    project = tmp_path / "seamline.toml"
    project.write_text(f'[project]\nname = "payouts"\napp = "{__name__}:build_registry"\n')
    invoke("contracts", "export", "--project", str(project))
    written = [tmp_path / "seamline-registry.json", *(tmp_path / "contracts").rglob("*.json")]
    assert len(written) > 1
    for file in written:
        assert IBAN not in file.read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(
        (tmp_path / "contracts" / "payout" / "1.0.0.schema.json").read_text(encoding="utf-8")
    )
    assert schema["x-seamline"]["sensitive"] == ["iban"]


class PayoutV2(BaseModel):
    """The bank account split out: IBAN and account holder."""

    order_id: str
    iban: str
    holder: str


@migration("payout", "1.0.0", "2.0.0")
def add_holder(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 payouts name no holder; the bank accepts the order id as a reference."""
    return {**payload, "holder": f"ref {payload['order_id']}"}


def test_an_upcast_envelope_masks_the_sensitive_fields_of_both_versions(tmp_path: Path) -> None:
    """A v1 payout upcast to a v2 reader keeps v1's sensitive IBAN and adds v2's holder."""
    v1 = Contract(
        model=Payout, name="payout", version="1.0.0", owner="billing", sensitive=("iban",)
    )
    v2 = Contract(
        model=PayoutV2, name="payout", version="2.0.0", owner="billing", sensitive=("holder",)
    )

    @agent(name="intake", version="1.0.0", owner="support", accepts={"payout": "^1"}, emits=[v1])
    def intake(request: Payout, ctx: Context) -> Outcome:
        return HandOff(to="payouts", payload=request, contract="payout")

    @agent(name="payouts", version="2.0.0", owner="billing", accepts={"payout": "^2"})
    def payouts(request: PayoutV2, ctx: Context) -> Outcome:
        return Finish({"paid": request.order_id})

    registry = Registry(agents=[intake, payouts], contracts=[v1, v2], migrations=[add_holder])
    path = tmp_path / "l.db"
    result = run(path, registry)
    assert result.result == {"paid": "A-1"}
    delivered = handoff_ids(path, result.workflow_id)[-1]
    out = invoke("handoffs", "show", delivered, "--store", str(path))
    assert '"version": "2.0.0"' in out and '"sensitive": [' in out
    assert_masked(out, IBAN, "ref A-1")


def test_an_agent_error_quoting_the_value_is_masked_everywhere(tmp_path: Path) -> None:
    """A receiver that raises with the IBAN in its message: the dead letter, its issues, the
    failed row and every view show the mask instead."""
    payout = Contract(
        model=Payout, name="payout", version="1.0.0", owner="billing", sensitive=("iban",)
    )

    @agent(name="intake", version="1.0.0", owner="support", accepts=[payout], emits=[payout])
    def intake(request: Payout, ctx: Context) -> Outcome:
        return HandOff(to="payouts", payload=request)

    @agent(name="payouts", version="1.0.0", owner="billing", accepts=[payout])
    def payouts(request: Payout, ctx: Context) -> Outcome:
        raise ValueError(f"bank refused account {request.iban}")

    path = tmp_path / "l.db"
    result = run(path, Registry(agents=[intake, payouts], contracts=[payout]))
    assert result.dead_letter_id is not None
    store = SqliteStore(path)
    try:
        letter = store.get_dead_letter(result.dead_letter_id)
        rows = [e.data or "" for e in store.entries(correlation_id=result.workflow_id)]
    finally:
        store.close()
    assert letter is not None and f"bank refused account {MASK}" in letter.message
    assert IBAN not in letter.message + letter.issues
    assert not [row for row in rows if "bank refused" in row and IBAN in row]
    shown = invoke("dlq", "show", result.dead_letter_id, "--store", str(path))
    shown += invoke("workflows", "show", result.workflow_id, "--store", str(path))
    shown += invoke("trace", result.workflow_id, "--store", str(path))
    assert_masked(shown, IBAN)
