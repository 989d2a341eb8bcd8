"""Errors as the API answers them: one JSON shape, a status per kind of mistake.

Every error body is :class:`ErrorBody`: a stable code, a message saying what was wrong and
what to do, and the issues when a payload or request broke a rule. seamline's exceptions
map to statuses by who must act: the caller's token (401, 403), the id (404), the state of
the thing (409: already decided, already replayed), the request (422, every issue listed),
the store (503).
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from seamline.exceptions import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    HandoffError,
    HandoffValidationError,
    NotFoundError,
    PermissionDeniedError,
    RegistryError,
    SeamlineError,
    StoreError,
)

__all__ = ["ErrorBody", "IssueBody", "answer", "install", "invalid", "responses"]


class IssueBody(BaseModel):
    """One thing wrong, at a path: ``payload.amount``, ``body.reason``."""

    path: str
    message: str
    code: str


class ErrorBody(BaseModel):
    """What every error response holds."""

    error: str
    """``unauthenticated``, ``forbidden``, ``not_found``, ``conflict``, ``invalid``,
    ``unavailable`` or the HTTP reason for anything else."""
    message: str
    """What was wrong, and what to do about it."""
    issues: list[IssueBody] = []


_STATUS: tuple[tuple[type[SeamlineError], int, str], ...] = (
    (AuthenticationError, 401, "unauthenticated"),
    (PermissionDeniedError, 403, "forbidden"),
    (NotFoundError, 404, "not_found"),
    (HandoffValidationError, 422, "invalid"),
    # The served registry lacks what the ledger names (an agent since removed): the request
    # is fine, the state of this server is what refuses it.
    (RegistryError, 409, "conflict"),
    (ConfigurationError, 422, "invalid"),
    (ConflictError, 409, "conflict"),
    (StoreError, 503, "unavailable"),
    (HandoffError, 409, "conflict"),
)
"""First match wins, so subclasses come before their parents."""

_DESCRIPTIONS = {
    401: "No token, or one that is unknown or revoked",
    403: "The token's team does not own what it tried to change",
    404: "No such id",
    409: "The thing is no longer in a state that allows this (e.g. already decided)",
    422: "The request or the payload broke a rule; every issue is listed",
    503: "The store could not be read or written; try again",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route may answer."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


def install(app: FastAPI) -> None:
    """Answer seamline's errors, bad requests and unknown routes with :class:`ErrorBody`."""
    app.add_exception_handler(SeamlineError, _seamline_error)
    app.add_exception_handler(RequestValidationError, _bad_request)
    app.add_exception_handler(HTTPException, _http_error)


def _json(status: int, body: ErrorBody) -> Any:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def answer(error: SeamlineError) -> tuple[int, ErrorBody]:
    """The status and body the API answers ``error`` with (the console shows the same)."""
    status, code = next(
        ((status, code) for kind, status, code in _STATUS if isinstance(error, kind)),
        (500, "server_error"),
    )
    issues = (
        [IssueBody(path=i.path, message=i.message, code=i.code) for i in error.issues]
        if isinstance(error, HandoffValidationError)
        else []
    )
    return status, ErrorBody(error=code, message=str(error), issues=issues)


async def _seamline_error(request: Request, error: Exception) -> Any:
    assert isinstance(error, SeamlineError)
    return _json(*answer(error))


def invalid(details: Sequence[Any]) -> ErrorBody:
    """The 422 body of a request that broke its model (pydantic's error details)."""
    issues = [
        IssueBody(
            path=".".join(str(part) for part in detail["loc"]),
            message=detail["msg"],
            code=detail["type"],
        )
        for detail in details
    ]
    listed = "; ".join(f"{i.path}: {i.message}" for i in issues)
    return ErrorBody(error="invalid", message=f"the request is not valid: {listed}", issues=issues)


async def _bad_request(request: Request, error: Exception) -> Any:
    assert isinstance(error, RequestValidationError)
    return _json(422, invalid(error.errors()))


async def _http_error(request: Request, error: Exception) -> Any:
    assert isinstance(error, HTTPException)
    code = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_")
    return _json(error.status_code, ErrorBody(error=code, message=str(error.detail)))
