"""The console's sessions: who a browser is, and the CSRF token its forms carry.

A browser logs in with a team's API token, and the session cookie holds that token behind a
random nonce: HttpOnly (no script on any page can read it), SameSite=Strict (no other
site's page can make the browser send it), Secure when served over HTTPS. Every request
authenticates the token again through :class:`seamline.access.Access`, so a session acts as
exactly the caller the API would see, and a revoked token ends its sessions at once.

Every form that changes something carries a CSRF token: the HMAC of the cookie's value,
keyed by that value. Another site can neither read the cookie nor compute the HMAC, and
SameSite keeps the cookie off its requests anyway. The login form is protected the same
way by a pre-login cookie holding only a nonce. Logging in draws a new nonce, so a page
shown before login (or in an earlier session) cannot post into this one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from seamline.exceptions import PermissionDeniedError

__all__ = ["CSRF_FIELD", "LOGIN_COOKIE", "SESSION_COOKIE", "Session"]

SESSION_COOKIE = "seamline_session"
LOGIN_COOKIE = "seamline_login"
"""Holds a nonce between the login page and the login form's POST, for its CSRF token."""
CSRF_FIELD = "csrf"
"""The form field every state-changing form sends its token in."""
_PURPOSE = b"seamline console form"


@dataclass(frozen=True, slots=True)
class Session:
    """One browser's session: a cookie's value, and the API token in it once logged in."""

    cookie: str
    """The cookie's name."""
    value: str
    """The cookie's value: ``nonce`` before login, ``nonce.token`` after."""

    @classmethod
    def of(cls, request: Request, cookie: str = SESSION_COOKIE) -> Session | None:
        """The session the request's cookie names, or None without one."""
        value = request.cookies.get(cookie)
        return cls(cookie, value) if value else None

    @classmethod
    def new(cls, token: str | None = None) -> Session:
        """A fresh session: logged in with ``token``, or the login form's (None)."""
        nonce = secrets.token_urlsafe(24)
        if token is None:
            return cls(LOGIN_COOKIE, nonce)
        return cls(SESSION_COOKIE, f"{nonce}.{token}")

    @property
    def token(self) -> str | None:
        """The API token this session acts with; None before login."""
        _, dot, token = self.value.partition(".")
        return token if dot and self.cookie == SESSION_COOKIE else None

    @property
    def csrf(self) -> str:
        """The token this session's forms carry."""
        digest = hmac.new(self.value.encode(), _PURPOSE, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def check(self, sent: object) -> None:
        """PermissionDeniedError unless ``sent`` is this session's CSRF token."""
        if not isinstance(sent, str) or not hmac.compare_digest(sent, self.csrf):
            raise PermissionDeniedError(
                "this form did not come from this console session (it is from another site, "
                "or from before you logged in again); reload the page and try again"
            )

    def store(self, request: Request, response: Response) -> None:
        """Set this session's cookie on ``response``."""
        response.set_cookie(
            self.cookie,
            self.value,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )

    @staticmethod
    def end(request: Request, response: Response, cookie: str = SESSION_COOKIE) -> None:
        """Remove the cookie ``cookie`` from the browser."""
        response.delete_cookie(
            cookie, httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )
