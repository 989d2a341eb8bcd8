"""Step-level evaluation of every handoff, the report over them, and the context-rot meter.

Evaluators check each handoff beyond its schema, blocking (before delivery) or flagging
(while the receiver runs); their results go into the ledger and out as
``gen_ai.evaluation.result`` span events. See :mod:`seamline.evals.evaluation`;
:class:`EvaluationReport` counts them across a store.
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
    "Verdict",
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
