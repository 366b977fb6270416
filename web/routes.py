"""The API's commands: a route that reads its JSON body and path the way FastAPI does,
in fewer steps.

FastAPI's request handler is general: at each request it looks up its telemetry, parses
the content type with the standard library's e-mail parser, then solves the route's
dependencies one by one (none here: the middleware checked the token, the route reads
its caller in its own thread). For a route whose only inputs are path parameters, one
JSON body and the request, `JSONBodyRoute` validates each with the same pydantic
fields FastAPI built for the route (the same errors, with the same locations: 422),
then calls the route in a thread (`in_thread`), as FastAPI does. Anything else (an empty or
non-JSON body, JSON that does not parse, `null`) goes to FastAPI's own handler, which
answers it as before. The OpenAPI schema is FastAPI's, untouched.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, get_type_hints
from weakref import WeakKeyDictionary

from anyio import CapacityLimiter, WouldBlock, to_thread
from fastapi import params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from adapters.infra.store import REQUEST_THREADS

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class JSONBodyRoute(APIRoute):
    """An API route answered by `_lean_handler` when its inputs allow it."""

    def get_route_handler(self) -> Handler:
        general = super().get_route_handler()
        return _lean_handler(self, general) or general


def _is_json(content_type: str | None) -> bool:
    """Whether a Content-Type names JSON, as FastAPI reads it (`application/json` or
    `application/…+json`, parameters aside)."""
    if not content_type:
        return False
    kind = content_type.partition(";")[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/")
                                          and kind.endswith("+json"))


def _lean_handler(route: APIRoute, general: Handler) -> Handler | None:
    """The lean handler of a `def` route taking path parameters, one JSON body and the
    request, and answering a `Response` itself; None for any other route."""
    dependant, body = route.dependant, route.body_field
    call = dependant.call
    if (call is None or route.dependencies or dependant.dependencies
            or dependant.query_params or dependant.header_params or dependant.cookie_params
            or len(dependant.body_params) != 1 or body is None
            or isinstance(body.field_info, params.Form) or route._embed_body_fields
            or dependant.response_param_name or dependant.background_tasks_param_name
            or dependant.security_scopes_param_name or dependant.websocket_param_name
            or dependant.http_connection_param_name
            or inspect.iscoroutinefunction(call) or not _answers_response(call)):
        return None
    path_fields = [(field.name, field.alias, field) for field in dependant.path_params]
    request_name = dependant.request_param_name

    async def handler(request: Request) -> Response:
        raw = await request.body()  # kept by the request: read again by `general`
        if not raw or not _is_json(request.headers.get("content-type")):
            return await general(request)
        try:
            payload = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return await general(request)
        if payload is None:
            return await general(request)
        values: dict[str, Any] = {}
        errors: list[Any] = []
        found = request.path_params
        for name, alias, field in path_fields:
            values[name], wrong = field.validate(found.get(alias), values, loc=("path", alias))
            errors.extend(wrong)
        values[body.name], wrong = body.validate(payload, values, loc=("body",))
        errors.extend(wrong)
        if errors:
            raise RequestValidationError(errors, body=payload)
        if request_name:
            values[request_name] = request
        return await in_thread(call, values)  # type: ignore[no-any-return]

    return handler


def _answers_response(call: Callable[..., Any]) -> bool:
    try:
        answer = get_type_hints(call).get("return")
    except (NameError, TypeError):
        return False
    return isinstance(answer, type) and issubclass(answer, Response)


_POOL = ThreadPoolExecutor(max_workers=REQUEST_THREADS, thread_name_prefix="relance-api")
"""The threads the API's commands run in (`in_thread`)."""
_LIMITERS: WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = WeakKeyDictionary()


async def in_thread(call: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """`call(**kwargs)` in a thread, in a copy of the request's context (its log fields),
    as FastAPI runs a `def` route, holding one of the same tokens: requests work in at
    most `REQUEST_THREADS` threads at once, whichever way they came in, so that the
    projections and the probe always find a database connection.

    anyio's trip to its thread pool looks up the event loop's backend, its limiter and
    the current task, and opens a cancel scope, at each request: a seventh of the event
    loop's CPU for a note. Here the limiter is looked up once per loop and the thread is
    one of `_POOL`'s. When no token is free, the request waits for one in anyio's way."""
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = to_thread.current_default_thread_limiter()
    borrower = object()
    try:
        limiter.acquire_on_behalf_of_nowait(borrower)
    except WouldBlock:
        return await run_in_threadpool(call, **kwargs)
    try:
        running = loop.run_in_executor(
            _POOL, partial(contextvars.copy_context().run, call, **kwargs))
    except BaseException:
        limiter.release_on_behalf_of(borrower)
        raise
    # The token comes back when the thread is done, even if this request's task is
    # cancelled meanwhile (the command is not: it ends in its thread, as with anyio).
    running.add_done_callback(lambda _: limiter.release_on_behalf_of(borrower))
    return await asyncio.shield(running)
