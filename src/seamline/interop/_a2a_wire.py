"""What seamline puts on the A2A wire and reads back, for both ends of a seam.

A payload travels as one ``data`` part (``application/json``), the way A2A carries
structured content, so plain A2A agents read it too. The envelope travels beside it in the
message's metadata under the handoff-contract extension's URI, the spec's convention for
extension data. Both sides agree on these few rules here, once.

A ``data`` part is a ``google.protobuf.Value``, which keeps every number as a double: an
integer comes back as a float, and one beyond 2**53 comes back changed. seamline exists to
stop numbers being paraphrased at seams, so whole floats are read back as integers and an
integer that would not survive is refused before it is sent, naming where it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from a2a.helpers import new_data_part
from a2a.types import Part, TaskState
from google.protobuf import json_format  # type: ignore[import-untyped]  # protobuf ships no types
from pydantic import ValidationError

from seamline.contracts import payload_issues
from seamline.exceptions import Issue
from seamline.stores import WorkflowStatus

__all__ = [
    "HANDOFF_EXTENSION",
    "JSON",
    "TERMINAL",
    "WORKFLOW_STATES",
    "data_part",
    "exact",
    "extension_data",
    "issue_dicts",
    "issues_from",
    "struct_dict",
    "validation_issues",
]

HANDOFF_EXTENSION = "https://seamline.dev/a2a/handoff-contract/v1"
"""The seamline handoff-contract extension: its params in an agent card list the contracts
the agent accepts; its key in a message's metadata holds the seamline envelope."""

JSON = "application/json"

WORKFLOW_STATES = {
    WorkflowStatus.RUNNING: TaskState.TASK_STATE_WORKING,
    WorkflowStatus.WAITING: TaskState.TASK_STATE_INPUT_REQUIRED,
    WorkflowStatus.COMPLETED: TaskState.TASK_STATE_COMPLETED,
    WorkflowStatus.DEAD_LETTERED: TaskState.TASK_STATE_FAILED,
    WorkflowStatus.ESCALATED: TaskState.TASK_STATE_FAILED,
    WorkflowStatus.DISCARDED: TaskState.TASK_STATE_FAILED,
}
"""The A2A task state a workflow's status shows as. A handoff its contract refuses never
starts a workflow: that task is REJECTED."""

TERMINAL = frozenset(
    {
        TaskState.TASK_STATE_COMPLETED,
        TaskState.TASK_STATE_FAILED,
        TaskState.TASK_STATE_CANCELED,
        TaskState.TASK_STATE_REJECTED,
    }
)

_EXACT = 2**53
"""The largest integer a double holds exactly, and so the largest a data part carries."""


def data_part(value: Any) -> Part:
    """``value`` (JSON-compatible) as a data part; ValueError for an integer a double would
    change, naming where it is."""
    _refuse_inexact(value, "")
    return new_data_part(value, media_type=JSON)


def _refuse_inexact(value: Any, path: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _EXACT:
        raise ValueError(
            f"{path or 'the value'} is {value}, beyond 2**53: A2A data parts carry numbers as "
            "doubles and would change it; send it as a string"
        )
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_inexact(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_inexact(item, f"{path}[{index}]")


def exact(value: Any) -> Any:
    """A value read from protobuf with its whole numbers as integers again."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT:
        return int(value)
    if isinstance(value, dict):
        return {key: exact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [exact(item) for item in value]
    return value


def struct_dict(struct: Any) -> dict[str, Any]:
    """A protobuf ``Struct`` (metadata, an extension's params) as plain JSON values."""
    return dict(exact(json_format.MessageToDict(struct)))


def extension_data(metadata: Any) -> Any:
    """What a message, artifact or status carries under the extension's URI (None if
    nothing): ``metadata`` is the ``Struct`` of its metadata field."""
    return struct_dict(metadata).get(HANDOFF_EXTENSION)


def validation_issues(error: ValidationError, root: str) -> list[Issue]:
    """A pydantic error as the boundary words it, addressed from ``root`` instead of the
    payload (``reply.amount``)."""
    return [
        replace(issue, path=root + issue.path.removeprefix("payload"))
        for issue in payload_issues(error)
    ]


def issue_dicts(issues: Iterable[Issue]) -> list[dict[str, str]]:
    """Issues as the JSON objects the ledger and the extension's metadata hold."""
    return [{"path": i.path, "message": i.message, "code": i.code} for i in issues]


def issues_from(data: Any) -> list[Issue]:
    """Issues back from their JSON objects; anything malformed is skipped, not guessed."""
    if not isinstance(data, list):
        return []
    return [
        Issue(str(item["path"]), str(item["message"]), str(item["code"]))
        for item in data
        if isinstance(item, dict) and {"path", "message", "code"} <= item.keys()
    ]
