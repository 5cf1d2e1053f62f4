"""Workspace tools for the model: a sandboxed workspace, five tools and the registry the engine uses."""

from __future__ import annotations

from .registry import PreparedCall, ToolRegistry
from .workspace import ToolError, Workspace

__all__ = ["PreparedCall", "ToolError", "ToolRegistry", "Workspace"]
