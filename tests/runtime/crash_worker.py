"""A runtime process for the crash test: ``start N`` workflows, or ``resume`` them all.

Each agent appends "workflow step" to a log file (flushed to disk) before it returns, so the
test can tell exactly which steps ran, and how often, across a SIGKILL. Each also reads the
previous step's memory artifact and writes its own, so the test can check that memory is
recorded exactly once per committed step too.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import anyio
from chain_fixtures import ORDER, ORDER_1, Order

from seamline import Agent, Context, Finish, HandOff, Outcome, Registry, Runtime, SqliteStore, agent

STEPS = 6


def _step(index: int, log: Path) -> Agent:
    @agent(name=f"s{index}", version="1.0.0", owner="crash", accepts=[ORDER], emits=[ORDER])
    def step(order: Order, ctx: Context) -> Outcome:
        with log.open("a") as out:
            out.write(f"{ctx.envelope.correlation_id} {index}\n")
            out.flush()
            os.fsync(out.fileno())
        if index:  # read what the previous step remembered, as a real agent would
            ctx.memory.get(f"step-{index - 1}")
        ctx.memory.put(f"step-{index}", {"step": index, "order": order.order_id})
        time.sleep(0.01)
        if index == STEPS - 1:
            return Finish({"steps": order.step})
        return HandOff(
            to=f"s{index + 1}", payload=order.model_copy(update={"step": order.step + 1})
        )

    return step


async def main(db: Path, log: Path, mode: str, count: int) -> None:
    runtime = Runtime(
        Registry(agents=[_step(i, log) for i in range(STEPS)], contracts=[ORDER]), SqliteStore(db)
    )
    if mode == "resume":
        await runtime.resume_all()
        return
    for number in range(count):
        await runtime.run("s0", ORDER_1, intent="crash me", workflow_id=f"wf-{number}")


if __name__ == "__main__":
    anyio.run(main, Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
