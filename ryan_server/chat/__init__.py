"""The core: the agent loop (engine), one model turn (turn), tool calls and approvals (tool_calls), the
model's context (context), coalescing (throttle) and the typed requests and results (types)."""
