"""Schemathesis against the published OpenAPI schema: no input makes the server fail.

Every operation gets generated requests (valid and invalid bodies, parameters and ids) as
the admin, who may reach every code path; each response must not be a server error and
must match what the schema says (status, content type, body). Derandomized and kept small,
so the suite stays fast and a failure reproduces.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import schemathesis
from api_world import World, build_world
from hypothesis import HealthCheck, given, settings
from schemathesis import Case

from seamline.server import create_app
from seamline.stores import MemoryStore, SqliteStore


def operations() -> list[tuple[str, str]]:
    """``(METHOD, path)`` of every operation the app publishes."""
    store = MemoryStore()
    try:
        paths = create_app(store).openapi()["paths"]
    finally:
        store.close()
    return [(method.upper(), path) for path, methods in paths.items() for method in methods]


# schemathesis.pytest.from_fixture reads a pytest internal that pytest 9 removed; one test
# per operation, each running its own hypothesis loop, does the same job.
OPERATIONS = operations()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One desk for the whole run: generated requests change it as they go."""
    store = SqliteStore(tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    yield anyio.run(build_world, store)
    store.close()


@pytest.fixture(scope="module")
def api_schema(world: World) -> schemathesis.BaseSchema:
    """The schema the app publishes, loaded through the app itself."""
    return schemathesis.openapi.from_asgi("/openapi.json", world.app)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_request_makes_the_server_fail(
    api_schema: schemathesis.BaseSchema, world: World, method: str, path: str
) -> None:
    """Generated requests never get a 5xx, and every answer conforms to the schema."""
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Case[Any]) -> None:
        case.call_and_validate(headers=world.auth("ops"))

    check()
