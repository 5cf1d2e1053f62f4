"""End-to-end tests of the terminal client `ryan` against the real server and the scripted LLM."""
