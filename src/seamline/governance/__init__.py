"""Governance: the registry as data, and the questions teams ask of it in CI.

Everything here works on a :class:`Snapshot` (plain data, no code), so the same answers
come from a live registry, an exported file, or the file as it was at a git ref.
"""

from seamline.governance.snapshot import AgentEntry, ContractEntry, Edge, MigrationEntry, Snapshot

__all__ = ["AgentEntry", "ContractEntry", "Edge", "MigrationEntry", "Snapshot"]
