"""A research-style supervisor: one lead fans a brief out to analysts, then synthesizes.

Two of the sources misbehave the way real ones do. "markets" is slow on its first try: the
contract's timeout cancels the analyst and the retry policy runs it again. "patents" is down
for good: its connection errors are retried twice with backoff, then the contract's
fallback agent answers from a cached summary, marked stale. Every attempt is in the ledger,
and the lead gets one typed answer per leg either way.

Run it: ``python examples/research-supervisor/research.py [ledger.db]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
from pydantic import BaseModel

from seamline import (
    Context,
    Contract,
    FailurePolicy,
    Finish,
    Leg,
    Outcome,
    Registry,
    RejectedHandoff,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.registry import REJECTED_HANDOFF


class Brief(BaseModel):
    """What the lead is asked to research."""

    topic: str


class Question(BaseModel):
    """One scoped subtask: a topic and the source to consult."""

    topic: str
    source: str


class Finding(BaseModel):
    """A typed answer from one source."""

    source: str
    summary: str
    fresh: bool


BRIEF = Contract(model=Brief, name="research.brief", version="1.0.0", owner="research")
QUESTION = Contract(
    model=Question, name="research.question", version="1.0.0", owner="research",
    fallback_owner="research-oncall@example.com",
    policy=FailurePolicy(feedback_retries=0, retries=2, backoff=0.05, timeout=0.5,
                         fallback_agent="cache"),
)  # fmt: skip
SOURCES = ("papers", "markets", "patents")
_slow_once = {"markets"}


@agent(name="lead", version="1.0.0", owner="research", accepts=[BRIEF], emits=[QUESTION])
async def lead(brief: Brief, ctx: Context) -> Outcome:
    """Fan the brief out to one analyst per source, three at a time, then synthesize."""
    legs = [Leg(to="analyst", payload=Question(topic=brief.topic, source=s)) for s in SOURCES]
    results = await ctx.fan_out(legs, concurrency=3)
    findings = [r.value(Finding) for r in results if r.ok]
    return Finish(
        {
            "topic": brief.topic,
            "findings": [f.model_dump() for f in findings],
            "stale": [f.source for f in findings if not f.fresh],
            "missing": [r.workflow_id for r in results if not r.ok],
        }
    )


@agent(name="analyst", version="1.0.0", owner="research", accepts=[QUESTION])
async def analyst(question: Question, ctx: Context) -> Outcome:
    """Consult one source; "markets" is slow once, "patents" is down."""
    if question.source in _slow_once:
        _slow_once.discard(question.source)
        await anyio.sleep(5)  # cancelled by the contract's 0.5 s timeout, then retried
    if question.source == "patents":
        raise ConnectionError("patents API unreachable")
    summary = f"{question.source}: three points on {question.topic}"
    return Finish(Finding(source=question.source, summary=summary, fresh=True))


@agent(name="cache", version="1.0.0", owner="research", accepts=[REJECTED_HANDOFF])
def cache(rejected: RejectedHandoff, ctx: Context) -> Outcome:
    """The fallback: last week's cached summary, marked stale."""
    source = str(rejected.payload.get("source"))
    return Finish(Finding(source=source, summary=f"{source}: cached summary", fresh=False))


def build_registry() -> Registry:
    """The research team."""
    return Registry(agents=[lead, analyst, cache], contracts=[BRIEF, QUESTION])


async def main(path: str = ":memory:") -> dict[str, object]:
    """Run one brief and return the lead's synthesis."""
    runtime = Runtime(build_registry(), SqliteStore(path))
    result = await runtime.run("lead", Brief(topic="grid storage"), intent="brief me")
    return dict(result.result)


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else str(Path("research.db"))
    print(anyio.run(main, target))
