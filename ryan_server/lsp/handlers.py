"""What every LSP handler shares: params as dicts, validation, and the one place where Ryan's errors
become JSON-RPC errors.

`feature(server, method)` registers a handler with pygls and maps a `RyanError` it raises (from the
engine, or `validate`) to a `JsonRpcException` with the same code, message and data.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pygls.exceptions import JsonRpcException

from ..errors import InvalidParams, RyanError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .server import RyanServer

log = logging.getLogger(__name__)
M = TypeVar("M", bound="BaseModel")
Handler = Callable[["RyanServer", Any], Awaitable[Any]]


def feature(server: RyanServer, method: str) -> Callable[[Handler], Handler]:
    """Register an async handler for `method`; its `RyanError`s reach the client as JSON-RPC errors."""

    def register(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def answer(ls: RyanServer, params: Any) -> Any:
            try:
                return await handler(ls, params)
            except RyanError as error:
                log.info("%s failed (%s): %s", method, error.code, error.message)
                raise JsonRpcException(error.message, error.code, error.data or None) from None

        server.feature(method)(answer)
        return answer

    return register


def plain(value: Any) -> Any:
    """pygls hands custom params over as namedtuples: turn them back into dicts and lists."""
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def validate(model: type[M], params: Any, method: str) -> M:
    """Validate `params` with a pydantic model; a failure is InvalidParams naming the fields."""
    from pydantic import ValidationError

    raw = plain(params)
    if raw is None:
        raw = {}
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in error.errors()
        )
        raise InvalidParams(f"Invalid params for {method}: {problems}") from None
