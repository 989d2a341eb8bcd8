"""seamline.toml: the registry declared in a reviewable file, with file:line errors."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from seamline import ConfigurationError, Registry
from seamline.contracts import Compatibility
from seamline.project import load_project
from seamline.registry import Health

DEMO = 'app = "seamline.demo:build_registry"'


def write(tmp_path: Path, body: str) -> Path:
    """A project file in a temporary directory."""
    path = tmp_path / "seamline.toml"
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


def test_file_governs_a_python_registry(tmp_path: Path) -> None:
    """Owners, modes, dates, escalation and health from the file win over the code's."""
    project = load_project(
        write(
            tmp_path,
            f"""
            [project]
            name = "desk"
            {DEMO}
            runbooks = "docs/runbooks"

            [audit]
            threshold = 90

            [tracing]
            exporter = "otlp"

            [contracts."support.case"]
            owner = "case-team"
            compatibility = "FULL"
            consequential = true

            [contracts."support.case".versions."1.0.0"]
            deprecated = 2026-01-01
            retires = 2099-01-01
            changelog = "first cut"

            [agents.refunds]
            escalation = "pager:payments"
            capabilities = ["refunds", "money"]
            health = "degraded"
            """,
        )
    )
    case = project.registry.contract("support.case", "1.0.0")
    assert case.owner == "case-team"
    assert case.compatibility is Compatibility.FULL and case.consequential
    assert (case.deprecated, case.retires) == (date(2026, 1, 1), date(2099, 1, 1))
    assert case.changelog == "first cut"
    assert case.tracked == {"order_id", "order_value"}  # untouched fields keep the code's values
    refunds = project.registry.agent("refunds").card
    assert refunds.escalation == "pager:payments"
    assert refunds.capabilities == {"refunds", "money"}
    assert project.registry.health("refunds") is Health.DEGRADED
    assert project.name == project.registry.name == "desk"
    assert project.settings.runbooks == tmp_path / "docs" / "runbooks"
    assert project.settings.audit_threshold == 90
    assert project.settings.tracing == "otlp"
    assert project.settings.export == tmp_path / "seamline-registry.json"


def test_file_declares_a_whole_registry_without_an_app(tmp_path: Path) -> None:
    """Agents, contract versions and migrations named by import path alone."""
    project = load_project(
        write(
            tmp_path,
            """
            [contracts."refund.request"]
            owner = "payments"
            [contracts."refund.request".versions."1.2.0"]
            model = "seamline.demo:RefundRequest"
            [contracts."refund.request".versions."2.0.0"]
            model = "seamline.demo:RefundRequestV2"

            [contracts."fulfillment.order".versions."2.0.0"]
            model = "seamline.demo:FulfillmentOrder"
            [contracts."fulfillment.order"]
            owner = "logistics"

            [agents.refunds]
            entry = "seamline.demo:refunds"

            [agents.fulfillment]
            entry = "seamline.demo:fulfillment.fn"
            version = "1.1.0"
            owner = "logistics"
            accepts = { "fulfillment.order" = "^2" }

            [[migrations]]
            contract = "refund.request"
            source = "1.2.0"
            target = "2.0.0"
            function = "seamline.demo:money_from_amount"
            """,
        )
    )
    registry = project.registry
    assert [c.ref for c in registry.versions("refund.request")] == [
        "refund.request@1.2.0",
        "refund.request@2.0.0",
    ]
    assert registry.agent("fulfillment").card.ref == "fulfillment@1.1.0"
    assert [m.label for m in registry.migrations] == ["refund.request 1.2.0 -> 2.0.0"]
    registry.check()


def test_app_option_alone_needs_no_file() -> None:
    """With --app and no file, the Python registry is the project."""
    project = load_project(None, app="seamline.demo:build_registry")
    assert isinstance(project.registry, Registry) and project.file is None


def test_nothing_to_load_says_how_to_provide_it(tmp_path: Path) -> None:
    """Neither a file nor an app: the message names both ways."""
    with pytest.raises(ConfigurationError, match=r"create seamline\.toml or pass --app"):
        load_project(None)
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_project(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[project]\nname = "x"\nbad = = 1\n', r"seamline.toml:3: not valid TOML"),
        (
            f'[project]\n{DEMO}\n\n[agents.refunds]\nowner = "payments"\nhelth = "down"\n',
            r"seamline.toml:6: agents.refunds.helth: unknown key",
        ),
        (
            f'[project]\n{DEMO}\n[agents.refunds]\nhealth = "sleepy"\n',
            r"seamline.toml:4: agents.refunds.health: Input should be 'healthy'",
        ),
        (
            f'[project]\n{DEMO}\n[contracts."refund.request"]\ncompatibility = "SIDEWAYS"\n',
            r"seamline.toml:4: contracts.refund.request.compatibility: Input should be",
        ),
        (
            f'[project]\n{DEMO}\n\n[contracts."refund.request".versions."1.2.0"]\n'
            "retires = 2020-01-01\ndeprecated = 2021-01-01\n",
            r"seamline.toml:4: contracts.refund.request: .*announce the deprecation first",
        ),
        (
            '[project]\napp = "seamline.demo:nothing_here"\n',
            r"\[project\] app: module 'seamline.demo' has no attribute 'nothing_here'",
        ),
        (
            '[agents.ghost]\nowner = "nobody"\n',
            r"seamline.toml:1: agents.ghost: agent 'ghost' is not declared in the app",
        ),
        (
            '[agents.ghost]\nentry = "no_such_module:ghost"\n',
            r"seamline.toml:2: agents.ghost.entry: .*cannot import 'no_such_module'",
        ),
        (
            '[agents.ghost]\nentry = "seamline.demo:ghost_fn"\n',
            r"seamline.toml:2: agents.ghost.entry: .*has no attribute 'ghost_fn'",
        ),
        (
            '[agents.plain]\nentry = "seamline.demo:build_registry"\n',
            r"seamline.toml:1: agents.plain: agent 'plain' is a plain function: declare its",
        ),
        (
            '[agents.odd]\nentry = "seamline.demo:TICKETS"\nversion = "1.0.0"\nowner = "x"\n',
            r"seamline.toml:2: agents.odd.entry: .*neither an Agent nor a function",
        ),
        (
            f'[project]\n{DEMO}\n[agents.refunds]\nversion = "three"\n',
            r"seamline.toml:3: agents.refunds: 'three' is not a semantic version",
        ),
        (
            f'[project]\n{DEMO}\n[agents.refunds]\nentry = "seamline.demo:refunds"\n',
            r"seamline.toml:4: agents.refunds.entry: .*already declared in the app",
        ),
        (
            '[contracts."x.y"]\nowner = "a"\n',
            r"seamline.toml:1: contracts.x.y: contract 'x.y' is not declared in the app",
        ),
        (
            '[contracts."x.y".versions."1.0.0"]\nchangelog = "new"\n',
            r"seamline.toml:1: contracts.x.y.versions.1.0.0.model: .*name its payload model",
        ),
        (
            '[contracts."x.y".versions."1.0.0"]\nmodel = "seamline.demo:Ticket"\n',
            r"seamline.toml:1: contracts.x.y.owner: contract 'x.y' needs an owner team",
        ),
        (
            f'[project]\n{DEMO}\n[contracts."refund.request".versions."1.2.0"]\n'
            'model = "seamline.demo:RefundRequest"\n',
            r"seamline.toml:4: contracts.refund.request.versions.1.2.0.model: .*already declared",
        ),
        (
            f'[project]\n{DEMO}\n[[migrations]]\ncontract = "refund.request"\n'
            'source = "2.0.0"\ntarget = "1.2.0"\nfunction = "seamline.demo:money_from_amount"\n',
            r"seamline.toml:3: migrations.0: migration refund.request 2.0.0 -> 1.2.0 does not go",
        ),
        (
            f'[project]\n{DEMO}\n[[migrations]]\ncontract = "refund.request"\n'
            'source = "1.2.0"\ntarget = "2.0.0"\nfunction = "seamline.demo:APP"\n',
            r"seamline.toml:7: migrations.0.function: seamline.demo:APP is not callable",
        ),
        (
            '[agents.extra]\nentry = "seamline.demo:refunds"\n',
            r"seamline.toml:2: agents.extra.entry: .*is agent 'refunds'; name the table",
        ),
        (
            f"[project]\n{DEMO}\n[audit]\nthreshold = 140\n",
            r"seamline.toml:4: audit.threshold: Input should be less than or equal to 100",
        ),
        (
            f'[project]\n{DEMO}\n[contracts."refund.request"]\ntracked = ["nope"]\n',
            r"seamline.toml:3: contracts.refund.request: .*tracked fields \['nope'\] are not",
        ),
    ],
)
def test_every_mistake_names_file_line_and_key(tmp_path: Path, body: str, expected: str) -> None:
    """Each bad project file fails with file:line: key: what is wrong and how to fix it."""
    with pytest.raises(ConfigurationError, match=expected):
        load_project(write(tmp_path, body))
