"""The web console: where the teams that own handoffs see them and act on them.

Server-rendered pages (Jinja2 templates and one stylesheet shipped in this package: no
build step, no script, nothing fetched from elsewhere), mounted at the root beside the API
by :func:`install` and left out of the OpenAPI schema:

- ``/gates``: the inbox; each gate with its human summary, the diff against the previous
  hop and the masked payload, decided in one click (approve), with a reason (reject) or
  with a corrected payload (edit, as JSON);
- ``/workflows/{id}``: a workflow as a waterfall of its handoffs
  (:mod:`seamline.server.timeline`), with validation and evaluation marks;
- ``/dead-letters``: the queue; a dead letter is replayed as it was or with a fixed
  payload, or discarded with a reason;
- ``/agents``, ``/contracts``, ``/audit``, ``/activity``: the registry with owners and
  breaker states, contract versions with their compatibility checks, the governance
  scorecard, and the API's audit log.

Every page and action calls the API's own route functions with the session's caller, so
the console shows exactly what the API answers (masked, for everyone) and acts under
exactly its rules: ownership from :mod:`seamline.access`, the same audit log, the same
errors. A button its viewer may not use is not drawn, and its POST is refused with 403
all the same. Logging in and CSRF: :mod:`seamline.server.sessions`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import SplitResult, quote, urlsplit

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import URL, FormData

from seamline.access import Caller
from seamline.exceptions import AuthenticationError, PermissionDeniedError, SeamlineError
from seamline.server import dead_letters, errors, gates, registry, tokens, workflows
from seamline.server.errors import ErrorBody
from seamline.server.services import ServicesDep, services
from seamline.server.sessions import CSRF_FIELD, LOGIN_COOKIE, Session
from seamline.server.timeline import SCALE, Waterfall, duration
from seamline.stores import DeadLetterStatus, WorkflowStatus
from seamline.types import utcnow

__all__ = ["install", "router"]

router = APIRouter(include_in_schema=False)

_templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.PackageLoader("seamline.server", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
_HEADERS = {
    # Pages hold the store's contents: not cached, not framed, no script, nothing external.
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_DONE = {
    "approve": "Gate approved: the handoff was delivered and the workflow ran on.",
    "reject": "Gate rejected: the handoff was dead-lettered with your reason.",
    "edit": "Gate edited: your payload passed the contract and was delivered.",
    "replay": "Dead letter replayed: the handoff was validated again and the workflow ran on.",
    "discard": "Dead letter discarded.",
}
"""What the page a decision leads to says about it (``?done=``)."""
_decision: TypeAdapter[gates.Approve | gates.Reject | gates.Edit] = TypeAdapter(
    gates.DecisionRequest
)


def install(app: FastAPI) -> None:
    """Mount the console's pages, its stylesheet and its error pages on ``app``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("seamline.server", "static")]), name="static")
    app.add_exception_handler(_LoginRequired, _login_required)
    app.add_exception_handler(_Refused, _refused)


@dataclass(frozen=True, slots=True)
class _Viewer:
    """Who is looking: the API's caller for the session's token, and the session."""

    caller: Caller
    session: Session


class _LoginRequired(Exception):
    """No session, or its token no longer authenticates (the message says why)."""


class _Refused(Exception):
    """An action or a page the API would refuse: shown as an error page with its status."""

    def __init__(self, status: int, body: ErrorBody) -> None:
        super().__init__(body.message)
        self.status, self.body = status, body


def _viewer(request: Request, found: ServicesDep) -> _Viewer:
    session = Session.of(request)
    if session is None or session.token is None:
        raise _LoginRequired("")
    try:
        return _Viewer(found.access.authenticate(session.token), session)
    except AuthenticationError as error:
        raise _LoginRequired(str(error)) from None


ViewerDep = Annotated[_Viewer, Depends(_viewer)]


@dataclass(frozen=True, slots=True)
class _Posted:
    """A form sent by a logged-in viewer, its CSRF token checked."""

    caller: Caller
    form: FormData

    def field(self, name: str) -> str:
        """A text field's value ('' when absent)."""
        value = self.form.get(name)
        return value if isinstance(value, str) else ""


async def _posted(request: Request, viewer: ViewerDep) -> _Posted:
    form = await request.form()
    with _answering():
        viewer.session.check(form.get(CSRF_FIELD))
    return _Posted(viewer.caller, form)


PostedDep = Annotated[_Posted, Depends(_posted)]


@contextmanager
def _answering() -> Iterator[None]:
    """Turn what the API would answer with an error into the console's error page."""
    try:
        yield
    except SeamlineError as error:
        raise _Refused(*errors.answer(error)) from error
    except ValidationError as error:
        raise _Refused(422, errors.invalid(error.errors())) from error


def _render(
    request: Request, template: str, viewer: _Viewer | None, code: int = 200, **context: Any
) -> HTMLResponse:
    found = services(request)
    counts = (
        {
            "gates": len(found.runtime.gates(status="open", limit=500)),
            "dead_letters": len(found.ledger.dead_letters(status=DeadLetterStatus.OPEN, limit=500)),
        }
        if viewer
        else {}
    )
    done = request.query_params.get("done", "")
    context = {
        "who": viewer.caller if viewer else None,
        "csrf": viewer.session.csrf if viewer else "",
        "counts": counts,
        "notice": _DONE.get(done, ""),
        "now": utcnow(),
        "section": "",
        "refresh": None,
        **context,
    }
    return _templates.TemplateResponse(
        request, template, context, status_code=code, headers=_HEADERS
    )


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# -- logging in ------------------------------------------------------------------------------


def _local(path: str | None) -> str:
    """``path`` if it stays on this console (no open redirect), else the home page."""
    if path and path.startswith("/") and not path.startswith(("//", "/\\")):
        return path
    return "/"


def _login_form(request: Request, after: str, error: str = "", status: int = 200) -> Response:
    session = Session.of(request, LOGIN_COOKIE) or Session.new()
    response = _render(
        request, "login.html", None, status, csrf=session.csrf, after=_local(after), error=error
    )
    session.store(request, response)
    return response


@router.get("/login")
def login_page(request: Request, after: Annotated[str, Query(alias="next")] = "/") -> Response:
    """The login form: a team's API token."""
    return _login_form(request, after)


@router.post("/login")
async def login(request: Request, found: ServicesDep) -> Response:
    """Check the token and the form's CSRF token, then start a session for it."""
    form = await request.form()
    after = _local(str(form.get("next", "/")))
    token = str(form.get("token", "")).strip()
    try:
        pre_login = Session.of(request, LOGIN_COOKIE)
        if pre_login is None:
            raise PermissionDeniedError(
                "this browser sent no login cookie (are cookies blocked for this site?); "
                "open the login page again"
            )
        pre_login.check(form.get(CSRF_FIELD))
        found.access.authenticate(token)
    except (AuthenticationError, PermissionDeniedError) as error:
        status, _ = errors.answer(error)
        return _login_form(request, after, str(error), status)
    response = _see(after)
    Session.new(token).store(request, response)
    Session.end(request, response, LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, posted: PostedDep) -> Response:
    """End the session in this browser (the token itself stays valid); ``posted`` is there
    for its CSRF check."""
    response = _see("/login")
    Session.end(request, response)
    return response


def _path(url: SplitResult | URL) -> str:
    """A URL's path and query: where a link within the console goes."""
    return f"{url.path}?{url.query}" if url.query else url.path


async def _login_required(request: Request, error: Exception) -> Response:
    here = _path(request.url)
    if request.method == "GET" and request.headers.get("sec-fetch-site") == "cross-site":
        # A link from another site: SameSite=Strict kept the session cookie off this
        # request. Ask again from this origin, which sends it, before asking for a token.
        return _render(request, "again.html", None, refresh=f"0; url={here}")
    return _login_form(request, here if request.method == "GET" else "/", str(error), 401)


async def _refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, _Refused)
    try:
        viewer = _viewer(request, services(request))
    except _LoginRequired:
        viewer = None
    came_from = urlsplit(request.headers.get("referer", ""))
    back = _path(came_from) if came_from.netloc == request.url.netloc else ""
    return _render(request, "error.html", viewer, error.status, error=error.body, back=back)


# -- pages ------------------------------------------------------------------------------------


@router.get("/")
def home(viewer: ViewerDep) -> Response:
    """The console's home: the gate inbox."""
    return _see("/gates")


@router.get("/gates")
def gate_inbox(
    request: Request,
    found: ServicesDep,
    viewer: ViewerDep,
    status: Literal["open", "decided", "all"] = "open",
) -> Response:
    """The gates waiting for a decision (or those decided, or all)."""
    listed = gates.list_gates(found, status=status, limit=100)
    return _render(request, "gates.html", viewer, section="gates", gates=listed, status=status)


@router.get("/gates/{gate_id}")
def gate_page(request: Request, found: ServicesDep, viewer: ViewerDep, gate_id: str) -> Response:
    """One gate, open or decided."""
    with _answering():
        gate = gates.get_gate(found, gate_id)
    return _render(request, "gate.html", viewer, section="gates", gate=gate)


@router.post("/gates/{gate_id}/decision")
async def decide_gate(found: ServicesDep, posted: PostedDep, gate_id: str) -> Response:
    """Approve, reject (with a reason) or edit (with a JSON payload) through the API's route."""
    decision = posted.field("decision")
    sent: dict[str, Any] = {"decision": decision, "reason": posted.field("reason") or None}
    if decision == "reject":
        sent["reason"] = posted.field("reason")  # an empty reason is refused, as by the API
    with _answering():
        if decision == "edit":
            sent["payload"] = _json_field(posted.field("payload"))
        outcome = await gates.decide_gate(
            found, posted.caller, gate_id, _decision.validate_python(sent)
        )
    return _see(f"/workflows/{quote(outcome.workflow_id)}?done={decision}")


@router.get("/workflows")
def workflow_list(
    request: Request, found: ServicesDep, viewer: ViewerDep, status: WorkflowStatus | None = None
) -> Response:
    """Workflows, newest first, optionally of one status."""
    listed = workflows.list_workflows(found, status=status, limit=100)
    return _render(
        request, "workflows.html", viewer, section="workflows", workflows=listed, status=status
    )


@router.get("/workflows/{workflow_id}")
def workflow_page(
    request: Request, found: ServicesDep, viewer: ViewerDep, workflow_id: str
) -> Response:
    """A workflow's timeline: the waterfall of its handoffs, and how it ended."""
    with _answering():
        detail = workflows.get_workflow(found, workflow_id)
        trace = workflows.get_trace(found, workflow_id)
    now = utcnow()
    waterfall = Waterfall.of(trace, {h.id: h.created_at for h in detail.chain}, now)
    moving = detail.status is WorkflowStatus.RUNNING
    return _render(
        request,
        "workflow.html",
        viewer,
        section="workflows",
        workflow=detail,
        waterfall=waterfall,
        scale=SCALE,
        refresh=3 if moving else None,  # a running workflow redraws until it stops
    )


@router.get("/dead-letters")
def dead_letter_queue(
    request: Request,
    found: ServicesDep,
    viewer: ViewerDep,
    status: DeadLetterStatus | None = DeadLetterStatus.OPEN,
) -> Response:
    """The dead letters (open ones by default)."""
    listed = dead_letters.list_dead_letters(found, status=status, limit=100)
    return _render(
        request, "dead_letters.html", viewer, section="dead_letters", letters=listed, status=status
    )


@router.get("/dead-letters/{dead_letter_id}")
def dead_letter_page(
    request: Request, found: ServicesDep, viewer: ViewerDep, dead_letter_id: str
) -> Response:
    """One dead letter: why, its issues and path, its payload (masked), replay and discard."""
    with _answering():
        letter = dead_letters.get_dead_letter(found, dead_letter_id)
    return _render(request, "dead_letter.html", viewer, section="dead_letters", letter=letter)


@router.post("/dead-letters/{dead_letter_id}/replay")
async def replay_dead_letter(
    found: ServicesDep, posted: PostedDep, dead_letter_id: str
) -> Response:
    """Replay as it was, or with the payload in the form, through the API's route."""
    with _answering():
        fixed = _json_field(posted.field("payload")) if posted.field("use") == "payload" else None
        request = dead_letters.ReplayRequest.model_validate(
            {"payload": fixed, "extra_hops": posted.field("extra_hops") or 0}
        )
        outcome = await dead_letters.replay_dead_letter(
            found, posted.caller, dead_letter_id, request
        )
    return _see(f"/workflows/{quote(outcome.workflow_id)}?done=replay")


@router.post("/dead-letters/{dead_letter_id}/discard")
def discard_dead_letter(found: ServicesDep, posted: PostedDep, dead_letter_id: str) -> Response:
    """Discard with the reason in the form, through the API's route."""
    with _answering():
        request = dead_letters.DiscardRequest(reason=posted.field("reason"))
        dead_letters.discard_dead_letter(found, posted.caller, dead_letter_id, request)
    return _see(f"/dead-letters/{quote(dead_letter_id)}?done=discard")


@router.get("/agents")
def agents_page(request: Request, found: ServicesDep, viewer: ViewerDep) -> Response:
    """The registry's agents: owners, contracts, health and circuit breakers."""
    listed = registry.list_agents(found)
    return _render(request, "agents.html", viewer, section="agents", agents=listed)


@router.get("/contracts")
def contracts_page(request: Request, found: ServicesDep, viewer: ViewerDep) -> Response:
    """Every contract version, and each one's compatibility check."""
    versions: dict[str, list[registry.ContractVersion]] = {}
    for version in registry.list_contracts(found):
        versions.setdefault(version.name, []).append(version)
    return _render(
        request,
        "contracts.html",
        viewer,
        section="contracts",
        contracts=versions,
        compatibility=registry.contracts_compatibility(found),
    )


@router.get("/audit")
def audit_page(request: Request, found: ServicesDep, viewer: ViewerDep) -> Response:
    """The governance scorecard: every seam against the production checklist."""
    scorecard = registry.audit_scorecard(found)
    return _render(request, "audit.html", viewer, section="audit", scorecard=scorecard)


@router.get("/activity")
def activity_page(request: Request, found: ServicesDep, viewer: ViewerDep) -> Response:
    """The API's audit log: all of it for an admin, the viewer's team's otherwise."""
    entries = tokens.audit_log(found, viewer.caller, limit=200)
    return _render(request, "activity.html", viewer, section="activity", entries=entries)


def _json_field(text: str) -> Any:
    """A form's JSON text, or a 422 saying where it stops being JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _Refused(
            422,
            ErrorBody(
                error="invalid",
                message=f"the payload is not JSON: {error.msg} at line {error.lineno}, "
                f"column {error.colno}; go back and correct it",
            ),
        ) from None


def _summary(text: str) -> tuple[str, str]:
    """A gate's human summary as its card shows it, and the heading of its changes.

    The card's title is the summary's headline and its diff table lists the changes, so
    both are cut from the text (:func:`seamline.gates.describe_gate` writes the headline,
    a blank line, the rest, then the changes under a heading line).
    """
    lines = text.splitlines()
    if len(lines) > 1 and not lines[1]:
        lines = lines[2:]
    for at, line in enumerate(lines):
        if line.startswith("Changes since the previous hop"):
            return "\n".join(lines[:at]), line.rstrip(":")
    return "\n".join(lines), "Changes since the previous hop"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


_templates.env.filters.update(pretty=_pretty, when=_when, duration=duration, summary=_summary)
