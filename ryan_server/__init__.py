"""Ryan: a JSON-RPC chat server that relays local LLMs to editors."""

from __future__ import annotations

__version__ = "0.1.0"
