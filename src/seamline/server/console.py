"""The web console's pages, served beside the API by the same application.

Pages are mounted at the root (``/``), outside ``/api``, and left out of the OpenAPI schema.
Until the console is built, the root sends a browser to the API's interactive docs.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    """The console's home: for now, the API's interactive docs."""
    return RedirectResponse("/docs")
