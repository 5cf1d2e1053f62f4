"""Thin pygls handlers, one module per feature; each has `register(server)`.

Handlers validate params, call the engine and write its typed answer in the wire's shape; nothing more.
"""
