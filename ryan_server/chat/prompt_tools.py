"""Tools for a model without tool support: described in the system prompt, calls read from its text.

The Hermes convention (Qwen's and NousResearch's chat templates use it, and small instruction models
follow it well): the tool schemas inside `<tools></tools>` in the system prompt, calls answered as
`<tool_call>{json}</tool_call>`, and each result sent back as a `user` message holding
`<tool_response>{json}</tool_response>`, which every chat template accepts. History stays neutral;
`prompt_messages` writes it this way for each request, deterministically, so the prefix that the
server caches stays the same from turn to turn.
"""

from __future__ import annotations

import json
from typing import Any

INSTRUCTIONS = (
    "# Tools\n\n"
    "You may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n"
    "<tools>\n{tools}\n</tools>\n\n"
    "For each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n"
    '<tool_call>\n{{"name": <function-name>, "arguments": <args-json-object>}}\n</tool_call>'
)


def prompt_messages(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Neutral messages (system first) as a model without tool support gets them."""
    schemas = "\n".join(json.dumps(tool, ensure_ascii=False) for tool in tools)
    system, *rest = messages
    out: list[dict[str, Any]] = [
        {"role": "system", "content": f"{system['content']}\n\n{INSTRUCTIONS.format(tools=schemas)}"}
    ]
    after_result = False  # the results of one turn go back in one user message
    for message in rest:
        role = message["role"]
        if role == "tool":
            response = {"name": message.get("tool_name"), "content": message["content"]}
            block = f"<tool_response>\n{json.dumps(response, ensure_ascii=False)}\n</tool_response>"
            if after_result:
                out[-1]["content"] += "\n" + block
            else:
                out.append({"role": "user", "content": block})
            after_result = True
            continue
        after_result = False
        text = message.get("content") or ""
        if role == "assistant" and message.get("tool_calls"):
            calls = "\n".join(
                "<tool_call>\n"
                + json.dumps({"name": c["name"], "arguments": c["arguments"]}, ensure_ascii=False)
                + "\n</tool_call>"
                for c in message["tool_calls"]
            )
            text = f"{text}\n{calls}" if text else calls
        out.append({"role": role, "content": text})
    return out
