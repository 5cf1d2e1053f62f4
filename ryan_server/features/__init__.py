"""Thin pygls handlers, one module per feature; each has `register(server)`.

Handlers parse params, call the engine and map its failures to JSON-RPC errors; nothing more.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pygls.exceptions import JsonRpcException

from ..protocol import ErrorCode

M = TypeVar("M")


def plain(value: Any) -> Any:
    """pygls hands custom params over as namedtuples: turn them back into dicts and lists."""
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def validate(model: type[M], params: Any, method: str) -> M:
    """Validate `params` with a pydantic model; a failure is -32602 naming the fields."""
    from pydantic import BaseModel, ValidationError

    assert issubclass(model, BaseModel)
    raw = plain(params)
    if raw is None:
        raw = {}
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in error.errors()
        )
        raise JsonRpcException(f"Invalid params for {method}: {problems}", ErrorCode.INVALID_PARAMS) from None


def rpc_error(error: Any) -> JsonRpcException:
    """A `chat.engine.ChatError` as the JSON-RPC error the client receives."""
    return JsonRpcException(error.message, error.code, error.data)
