"""The HTTP API: a store's workflows, handoffs, gates and dead letters, scoped by team.

``create_app(runtime, project=...)`` returns a FastAPI application; ``run(app)`` (and
``seamline serve``) serves it on uvicorn. Every route is under ``/api`` and needs a token
(``Authorization: Bearer``): any team may read, and sees sensitive values masked like
everyone else; a team decides only the gates and dead letters whose contract it owns; an
admin may do anything. Each decision and change is written to the API's audit log. The
schema is at ``/openapi.json``, the interactive docs at ``/docs``.

One module per domain noun holds its routes and response models. The web console is served
at ``/`` beside them (``console.py``, with ``sessions.py`` and ``timeline.py``; its
templates and stylesheet ship in this package): its pages and forms call the same route
functions as the logged-in team. Needs the ``server`` extra: a core install never imports
FastAPI, and importing this package without it raises MissingExtraError naming the extra.
"""

from importlib.util import find_spec

from seamline.exceptions import MissingExtraError

if find_spec("fastapi") is None or find_spec("uvicorn") is None:
    raise MissingExtraError(feature="the HTTP API (seamline serve)", extra="server")

from seamline.server.app import create_app, run

__all__ = ["create_app", "run"]
