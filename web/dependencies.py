"""What routes depend on, beside who is asking (`web.auth`)."""

from __future__ import annotations

from fastapi import Request

from adapters.bootstrap import Runtime


async def get_runtime(request: Request) -> Runtime:
    """The running relance, built by the app's lifespan."""
    return request.app.state.runtime
