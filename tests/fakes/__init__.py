"""Test doubles that run for real: the scripted LLM server."""
