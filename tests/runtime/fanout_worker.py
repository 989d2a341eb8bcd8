"""A runtime process for the fan-out crash test: ``start`` a supervisor, or ``resume`` it.

Each leg appends its index to a log file (flushed to disk) as it runs, so the test can tell
which legs ran, and how often, across a SIGKILL.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import anyio
from pydantic import BaseModel

from seamline import Context, Contract, Finish, Leg, Outcome, Registry, Runtime, SqliteStore, agent

LEGS = 12


class Part(BaseModel):
    """One subtask, or the whole task (n = -1)."""

    n: int


PART = Contract(model=Part, name="part", version="1.0.0", owner="crash")


def build(log: Path) -> Registry:
    """A supervisor fanning LEGS slow legs out, two at a time."""

    @agent(name="boss", version="1.0.0", owner="crash", accepts=[PART], emits=[PART])
    async def boss(part: Part, ctx: Context) -> Outcome:
        legs = [Leg(to="leg", payload=Part(n=i)) for i in range(LEGS)]
        results = await ctx.fan_out(legs, concurrency=2)
        return Finish({"sum": sum(r.result["n"] for r in results)})

    @agent(name="leg", version="1.0.0", owner="crash", accepts=[PART], threaded=True)
    def leg(part: Part, ctx: Context) -> Outcome:
        with log.open("a") as out:
            out.write(f"{part.n}\n")
            out.flush()
            os.fsync(out.fileno())
        time.sleep(0.05)
        return Finish({"n": part.n})

    return Registry(agents=[boss, leg], contracts=[PART])


async def main(db: Path, log: Path, mode: str) -> None:
    runtime = Runtime(build(log), SqliteStore(db))
    if mode == "resume":
        await runtime.resume_all()
        return
    await runtime.run("boss", Part(n=-1), intent="fan out", workflow_id="boss")


if __name__ == "__main__":
    anyio.run(main, Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
