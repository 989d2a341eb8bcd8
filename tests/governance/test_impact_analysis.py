"""Impact analysis of a contract version over the demo's registry."""

from __future__ import annotations

import pytest

from seamline.demo import build_registry
from seamline.exceptions import RegistryError, VersionError
from seamline.governance import Snapshot, impact

DEMO = Snapshot.of(build_registry())


def test_registered_version_reaches_its_receivers_through_migrations() -> None:
    """refund.request@1.2.0 is what triage emits; refunds reads it upcast to 2.0.0."""
    report = impact(DEMO, "refund.request", "1.2.0")
    assert report.registered and report.owner == "payments" and not report.breaking
    (receiver,) = report.receivers
    assert receiver.agent == "refunds" and receiver.accepts == "^2"
    assert receiver.reads == "2.0.0"
    assert receiver.migrations == ("refund.request 1.2.0 -> 2.0.0",)
    (sender,) = report.senders
    assert (sender.agent, sender.emits, sender.unread_by) == ("triage", "1.2.0", ())
    (seam,) = report.edges
    assert seam.edge.label == "triage → refunds (refund.request)"
    assert seam.carries and not seam.breaks


def test_proposed_major_names_the_receivers_it_breaks_and_whom_to_tell() -> None:
    """An unregistered 3.0.0 breaks refunds (^2); its owners and escalations are listed once."""
    report = impact(DEMO, "refund.request", "3")
    assert report.version == "3.0.0" and not report.registered
    assert [r.agent for r in report.breaking] == ["refunds"]
    (seam,) = report.edges
    assert seam.breaks and not seam.carries
    notify = {c.who: c.roles for c in report.notify}
    assert notify["payments"] == ("owner of refund.request", "owner of receiver refunds")
    assert notify["payments-oncall@example.com"] == ("fallback owner of refund.request",)
    assert notify["support-triage"] == ("owner of sender triage",)


def test_proposed_minor_is_read_directly() -> None:
    """A proposed 2.1.0 lies in refunds' ^2, so nothing breaks and no migration is needed."""
    report = impact(DEMO, "refund.request", "2.1.0")
    (receiver,) = report.receivers
    assert receiver.reads == "2.1.0" and receiver.migrations == () and not report.breaking


def test_entry_point_contract_has_receivers_and_no_sender() -> None:
    """support.ticket arrives from outside: intake reads it, nobody inside emits it."""
    report = impact(DEMO, "support.ticket", "1.0.0")
    assert [r.agent for r in report.receivers] == ["intake"] and report.senders == ()
    (seam,) = report.edges
    assert seam.edge.sender is None and seam.carries


def test_unknown_builtin_and_malformed_inputs_are_refused() -> None:
    """An unknown contract, seamline's own contract and a bad version each raise clearly."""
    with pytest.raises(RegistryError, match=r"no contract named 'refund\.requests'"):
        impact(DEMO, "refund.requests", "1.0.0")
    with pytest.raises(RegistryError, match="seamline's own contract"):
        impact(DEMO, "seamline.rejected-handoff", "1.0.0")
    with pytest.raises(VersionError, match="not a semantic version"):
        impact(DEMO, "refund.request", "two")
