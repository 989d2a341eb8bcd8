"""Step-level evaluation of every handoff, the report over them, traces and the rot meter.

Evaluators check each handoff beyond its schema, blocking (before delivery) or flagging
(while the receiver runs); their results go into the ledger and out as
``gen_ai.evaluation.result`` span events. See :mod:`seamline.evals.evaluation`;
:class:`EvaluationReport` counts them across a store, and :class:`WorkflowTrace` lays one
workflow out as a tree of its seams with their evaluations.
"""

from seamline.evals._running import blocking_issues, run_evaluators
from seamline.evals.builtin import DEFAULT_EVALUATORS, boundary, required_fields, value_range
from seamline.evals.evaluation import (
    Check,
    Evaluation,
    Evaluator,
    Label,
    Mode,
    Subject,
    Verdict,
    dumps,
    evaluator,
    loads,
)
from seamline.evals.report import EvaluationReport, EvaluatorTally, FailedEvaluation, Tally
from seamline.evals.rot import Change, Divergence, HopRot, RotReport, context_rot
from seamline.evals.trace import TraceStep, WorkflowTrace

__all__ = [
    "DEFAULT_EVALUATORS",
    "Change",
    "Check",
    "Divergence",
    "Evaluation",
    "EvaluationReport",
    "Evaluator",
    "EvaluatorTally",
    "FailedEvaluation",
    "HopRot",
    "Label",
    "Mode",
    "RotReport",
    "Subject",
    "Tally",
    "TraceStep",
    "Verdict",
    "WorkflowTrace",
    "blocking_issues",
    "boundary",
    "context_rot",
    "dumps",
    "evaluator",
    "loads",
    "required_fields",
    "run_evaluators",
    "value_range",
]
