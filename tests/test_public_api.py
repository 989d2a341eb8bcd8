"""The public surface: what `import seamline` offers and the shape of the exception tree."""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import version

import pytest

import seamline
import seamline.exceptions
from seamline.exceptions import (
    AccessError,
    AgentError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ContractError,
    HandoffError,
    HandoffValidationError,
    Issue,
    MissingExtraError,
    NotFoundError,
    PermissionDeniedError,
    RegistryError,
    SeamlineError,
    StoreCorruptError,
    StoreError,
    TransientError,
    VersionError,
)

EXCEPTIONS = [
    obj
    for obj in vars(seamline.exceptions).values()
    if inspect.isclass(obj)
    and issubclass(obj, BaseException)
    and not issubclass(obj, Warning)
    and obj.__module__ == seamline.exceptions.__name__
]


def test_seamline_all_is_sorted() -> None:
    """seamline.__all__ is in plain sorted order, without duplicates."""
    assert seamline.__all__ == sorted(set(seamline.__all__))


@pytest.mark.parametrize(
    "module",
    [
        "seamline",
        "seamline.exceptions",
        "seamline.contracts",
        "seamline.stores",
        "seamline.agents",
        "seamline.registry",
        "seamline.ledger",
    ],
)
def test_every_exported_name_resolves(module: str) -> None:
    """Every name in a public module's __all__ exists on that module, once."""
    mod = importlib.import_module(module)
    names = list(mod.__all__)
    assert len(names) == len(set(names))
    missing = [name for name in names if not hasattr(mod, name)]
    assert missing == []


def test_exception_tree_was_discovered() -> None:
    """The scan of seamline.exceptions finds the whole tree (guards the scan itself)."""
    assert len(EXCEPTIONS) == 17
    assert SeamlineError in EXCEPTIONS


@pytest.mark.parametrize("error", EXCEPTIONS, ids=lambda e: e.__name__)
def test_every_exception_is_exported_from_seamline(error: type[BaseException]) -> None:
    """Every exception class defined in seamline.exceptions is in seamline.__all__."""
    assert error.__name__ in seamline.__all__
    assert getattr(seamline, error.__name__) is error
    assert error.__name__ in seamline.exceptions.__all__


@pytest.mark.parametrize("error", EXCEPTIONS, ids=lambda e: e.__name__)
def test_every_exception_derives_from_seamline_error(error: type[BaseException]) -> None:
    """All seamline exceptions can be caught with one `except SeamlineError`."""
    assert issubclass(error, SeamlineError)


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        pytest.param(ConfigurationError, SeamlineError, id="configuration"),
        pytest.param(ContractError, ConfigurationError, id="contract"),
        pytest.param(VersionError, ConfigurationError, id="version"),
        pytest.param(RegistryError, ConfigurationError, id="registry"),
        pytest.param(MissingExtraError, ConfigurationError, id="missing-extra"),
        pytest.param(MissingExtraError, ImportError, id="missing-extra-is-import-error"),
        pytest.param(HandoffError, SeamlineError, id="handoff"),
        pytest.param(HandoffValidationError, HandoffError, id="handoff-validation"),
        pytest.param(AgentError, HandoffError, id="agent"),
        pytest.param(TransientError, AgentError, id="transient"),
        pytest.param(StoreError, SeamlineError, id="store"),
        pytest.param(StoreCorruptError, StoreError, id="store-corrupt"),
        pytest.param(ConflictError, StoreError, id="conflict"),
        pytest.param(NotFoundError, SeamlineError, id="not-found"),
        pytest.param(NotFoundError, LookupError, id="not-found-is-lookup-error"),
        pytest.param(AccessError, SeamlineError, id="access"),
        pytest.param(AuthenticationError, AccessError, id="authentication"),
        pytest.param(PermissionDeniedError, AccessError, id="permission-denied"),
    ],
)
def test_exception_tree_shape(child: type[BaseException], parent: type[BaseException]) -> None:
    """Each exception sits where the documented tree puts it, grouped by who must act."""
    assert issubclass(child, parent)


def test_version_matches_the_installed_distribution() -> None:
    """seamline.__version__ is the installed package version."""
    assert seamline.__version__ == version("seamline")


def test_missing_extra_error_names_the_install_command() -> None:
    """MissingExtraError tells the user which extra to install."""
    error = MissingExtraError(feature="OpenTelemetry export", extra="otel")
    assert str(error) == (
        'OpenTelemetry export needs an optional dependency: pip install "seamline[otel]"'
    )


def test_handoff_validation_error_lists_every_issue() -> None:
    """HandoffValidationError keeps its issues and lists each one in the message with the fix."""
    issues = [
        Issue("payload.amount", "Field required", "missing"),
        Issue("intent", "changed", "intent_changed"),
    ]
    error = HandoffValidationError(contract="refund.request@1.0.0", issues=issues, handoff_id="h-1")
    assert error.issues == tuple(issues)
    assert error.contract == "refund.request@1.0.0"
    assert error.handoff_id == "h-1"
    message = str(error)
    assert "handoff rejected by contract refund.request@1.0.0: 2 issue(s)" in message
    assert "payload.amount: Field required [missing]; intent: changed [intent_changed]" in message
    assert "Fix the payload (or the sender)" in message


def test_handoff_error_carries_an_optional_handoff_id() -> None:
    """HandoffError and its subclasses carry the handoff id, None when not given."""
    assert AgentError("boom").handoff_id is None
    assert AgentError("boom", handoff_id="h-7").handoff_id == "h-7"


def test_issue_prints_path_message_and_code() -> None:
    """str(Issue) is 'path: message [code]'."""
    assert str(Issue("payload.x", "bad", "invalid")) == "payload.x: bad [invalid]"
