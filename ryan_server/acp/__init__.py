"""The ACP front end: `ryan-server --acp` speaks the Agent Client Protocol (version 1) over stdio.

A sibling of `lsp/`: it turns ACP requests into the engine's typed requests and the engine's events
into `session/update` notifications, and implements the ports (`editor.py`) over ACP. It imports
nothing from the LSP front end; the `acp` SDK is imported only when `--acp` is given.
"""
