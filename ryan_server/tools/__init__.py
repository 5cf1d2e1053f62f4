"""Workspace tools for the model: a sandboxed workspace, six tools, MCP servers' tools, and the registry."""

from __future__ import annotations

from .plan import CommandLimits
from .registry import PreparedCall, ToolRegistry
from .workspace import ToolError, Workspace

__all__ = ["CommandLimits", "PreparedCall", "ToolError", "ToolRegistry", "Workspace"]
