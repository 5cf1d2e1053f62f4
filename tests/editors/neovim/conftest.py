"""Fixtures for the Neovim plugin tests; they live in nvim_harness.py (a name no other suite uses)."""

from nvim_harness import editor, llm, workspace

__all__ = ["editor", "llm", "workspace"]
