"""The LSP front end: Ryan's protocol (docs/protocol.md) over the LSP base protocol, built on pygls.

Everything that knows LSP lives here: the server and its capabilities (`server.py`), one module per
feature (`features/`), the wire models and camelCase shapes (`wire.py`), the engine's ports over LSP
requests (`editor.py`) and UTF-16 text edits (`textedit.py`). The core below imports nothing from it.
"""
