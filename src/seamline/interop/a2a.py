"""A2A: seamline's contracts on top of the Agent2Agent protocol (1.0), through the official
``a2a-sdk``.

A2A moves messages and tasks between agents; it does not say what a payload must hold. This
module puts a seamline contract on each side of an A2A seam.

**Serve a seamline agent.** :func:`a2a_app` is an ASGI app (Starlette) with the agent's
card at ``/.well-known/agent-card.json`` and both HTTP bindings, JSON-RPC (1.0, and 0.3 for
clients that send no ``A2A-Version``) and HTTP+JSON. The card's skill carries the agent's
capability tags, and it declares the handoff-contract extension (:data:`HANDOFF_EXTENSION`)
whose params list the contracts the agent accepts with their version ranges and schemas.
Each incoming message becomes the first handoff of a workflow on the agent's runtime, so it
is validated against the contract before the agent runs, recorded in the ledger, evaluated,
gated and dead-lettered like any other. The task shows the workflow: COMPLETED with the
result as a data artifact, REJECTED when the contract refused the payload (every issue in
the status), INPUT_REQUIRED while a human gate waits, FAILED when the workflow was
dead-lettered or escalated. The task id is the workflow id.

**Hand off to a remote agent.** :func:`remote_agent` reads a remote card into a seamline
:class:`~seamline.Agent` whose function calls it: the payload is validated before it is
sent, travels as a data part with the envelope in the extension's metadata and the
workflow's correlation id as the ``contextId``, and the reply is validated on return.

```python
refunds = await remote_agent("http://payments.internal:8040", reply=REFUND_DECISION)
runtime = Runtime(Registry(agents=[triage, refunds], contracts=[REFUND, REFUND_DECISION]),
                  SqliteStore("desk.db"))
uvicorn.run(a2a_app(runtime, "triage", url="http://desk.internal:8030"), port=8030)
```

Needs the ``a2a`` extra; importing this module without it raises MissingExtraError.
"""

from __future__ import annotations

from seamline.exceptions import MissingExtraError

try:
    import a2a  # noqa: F401  # the extra is there, or say which one to install
except ImportError as missing:
    raise MissingExtraError(feature="A2A interop (seamline.interop.a2a)", extra="a2a") from missing

from seamline.interop._a2a_remote import Binding, remote_agent
from seamline.interop._a2a_server import JSONRPC_PATH, REST_PATH, a2a_app, agent_card
from seamline.interop._a2a_wire import HANDOFF_EXTENSION

__all__ = [
    "HANDOFF_EXTENSION",
    "JSONRPC_PATH",
    "REST_PATH",
    "Binding",
    "a2a_app",
    "agent_card",
    "remote_agent",
]
