"""A fake OpenAI-compatible chat server: LLM agents tested offline, through the real client.

It listens on loopback in a thread and answers ``POST /v1/chat/completions`` from a script,
so a test exercises the same ``openai`` client, HTTP requests, error statuses and retries a
real model would, and can read back every request the agent made.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from types import TracebackType
from typing import Any

__all__ = ["ChatReply", "ChatRequest", "FakeChatServer"]

_PATH = "/v1/chat/completions"


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One request the server received, as the client sent it."""

    body: dict[str, Any]

    @property
    def model(self) -> str:
        """The model asked for."""
        return str(self.body.get("model"))

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The conversation, system message first."""
        return list(self.body.get("messages", []))

    @property
    def prompt(self) -> str:
        """Every message's text, one after another (what the model would read)."""
        return "\n".join(str(message.get("content") or "") for message in self.messages)

    @property
    def json_schema(self) -> dict[str, Any] | None:
        """``response_format.json_schema`` (name, schema, strict), when one was sent."""
        response_format = self.body.get("response_format") or {}
        found = response_format.get("json_schema")
        return found if isinstance(found, dict) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatReply:
    """One scripted answer: an assistant message, or an HTTP error."""

    content: str | None = None
    refusal: str | None = None
    finish_reason: str = "stop"
    status: int = 200
    error: str = ""
    """The error message of a reply whose status is 400 or more."""
    param: str | None = None
    """Which request parameter an error is about (OpenAI names e.g. ``response_format``)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (a slow model, a client timeout)."""

    @classmethod
    def json(cls, value: Any) -> ChatReply:
        """An answer whose content is ``value`` as JSON."""
        return cls(content=json.dumps(value))

    @classmethod
    def failure(
        cls,
        status: int,
        error: str = "scripted failure",
        *,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ChatReply:
        """An HTTP error in OpenAI's shape (``{"error": {"message": ...}}``)."""
        return cls(status=status, error=error, param=param, headers=dict(headers or {}))


Script = Sequence[ChatReply] | Callable[[ChatRequest], ChatReply]


class FakeChatServer:
    """An OpenAI-compatible ``/v1/chat/completions`` endpoint on 127.0.0.1.

    ``script`` answers each request: a sequence of replies served in order, or a function
    of the request. A script that has run out, or raises, answers 500 with an error saying
    so. Every request is kept in ``requests``.

    Example:
        ```python
        with FakeChatServer([ChatReply.json({"order_id": "ORD-1001"})]) as server:
            client = openai.AsyncOpenAI(base_url=server.url, api_key="test")
        ```
    """

    def __init__(self, script: Script) -> None:
        self.requests: list[ChatRequest] = []
        self._script = script
        self._turn = count()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a delayed reply must not hold up close()
        # Polled often, so leaving the ``with`` block does not wait out the default 0.5 s.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.02)
        self._thread = threading.Thread(target=serve, daemon=True)

    @property
    def url(self) -> str:
        """The base URL to give the client (``OPENAI_BASE_URL``), ending in ``/v1``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> FakeChatServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def reply(self, request: ChatRequest) -> ChatReply:
        """The scripted answer to ``request`` (recorded first)."""
        with self._lock:
            self.requests.append(request)
            turn = next(self._turn)
        if callable(self._script):
            try:
                return self._script(request)
            except Exception as error:  # the script is test code; say what broke
                return ChatReply.failure(500, f"the script raised {type(error).__name__}: {error}")
        if turn < len(self._script):
            return self._script[turn]
        return ChatReply.failure(
            500, f"the fake chat server's script ran out after {len(self._script)} replies"
        )


def _handler(server: FakeChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path != _PATH:
                self._send(ChatReply.failure(404, f"no route {self.path}; use {_PATH}"), body)
                return
            request = ChatRequest(body)
            self._send(server.reply(request), body)

        def _send(self, reply: ChatReply, body: dict[str, Any]) -> None:
            time.sleep(reply.delay)
            data = json.dumps(_completion(reply, body)).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test); nobody is listening

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads ``requests`` instead of an access log."""

    return Handler


def _completion(reply: ChatReply, body: dict[str, Any]) -> dict[str, Any]:
    if reply.status >= 400:
        kind = "rate_limit_error" if reply.status == 429 else "invalid_request_error"
        return {"error": {"message": reply.error, "type": kind, "param": reply.param, "code": None}}
    prompt = sum(len(str(m.get("content") or "")) for m in body.get("messages", []))
    written = len(reply.content or reply.refusal or "")
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": reply.content,
                    "refusal": reply.refusal,
                },
                "finish_reason": reply.finish_reason,
                "logprobs": None,
            }
        ],
        # Roughly four characters a token, as tokenizers go; enough to see usage recorded.
        "usage": {
            "prompt_tokens": prompt // 4,
            "completion_tokens": written // 4,
            "total_tokens": (prompt + written) // 4,
        },
    }
