"""The agent loop and its state: sessions, streaming accumulation, coalescing, the editor port."""
