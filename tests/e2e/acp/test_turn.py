"""A turn over ACP: initialize, a streamed answer (coalesced), thoughts, context blocks, the model option."""

from __future__ import annotations

import asyncio
from pathlib import Path

from acp import PROTOCOL_VERSION, embedded_text_resource, resource_block, resource_link_block
from acp.schema import Implementation

from tests.fakes.llm_server import FakeLLM, Reply, Text, Think, pieces

from .conftest import Agent, capabilities, run_agent


async def test_initialize_says_what_ryan_can(tmp_path: Path, workspace: Path, llm: FakeLLM) -> None:
    async with run_agent(tmp_path, workspace, llm) as agent:
        answer = await agent.conn.initialize(
            protocol_version=PROTOCOL_VERSION,
            client_capabilities=capabilities(),
            client_info=Implementation(name="t", version="1"),
        )
    assert answer.protocol_version == 1
    caps = answer.agent_capabilities
    assert caps.load_session is True
    assert caps.prompt_capabilities.embedded_context is True
    assert caps.prompt_capabilities.image is False
    assert answer.agent_info.name == "ryan"
    from ryan_server import __version__

    assert answer.agent_info.version == __version__


async def test_a_turn_streams_and_ends(agent: Agent, llm: FakeLLM) -> None:
    llm.enqueue(Reply([Think("Let me think. "), *pieces("Hello from Ryan, over ACP!")], delay=0.01))
    session = await agent.new_session()
    started = asyncio.get_running_loop().time()
    result = await agent.prompt(session, "say hello")
    assert result.stop_reason == "end_turn"
    client = agent.client
    assert client.text() == "Hello from Ryan, over ACP!"
    assert client.text("agent_thought_chunk") == "Let me think. "
    chunks = client.of("agent_message_chunk")
    assert 1 < len(chunks) < len(pieces("Hello from Ryan, over ACP!")), "coalesced, but streamed"
    first = client.updates[0][0] - started
    print(f"first update after {first * 1000:.0f} ms")
    assert llm.chat_requests[-1].json["messages"][-1]["content"] == "say hello"


async def test_context_blocks_become_the_turns_context(agent: Agent, llm: FakeLLM, workspace: Path) -> None:
    (workspace / "notes.md").write_text("linked file text\n")
    llm.enqueue(Reply([Text("ok")]))
    session = await agent.new_session()
    embedded = resource_block(embedded_text_resource((workspace / "a.py").as_uri(), "print('embedded')\n"))
    link = resource_link_block("notes.md", (workspace / "notes.md").as_uri())
    result = await agent.prompt(session, "explain ", embedded, " and ", link)
    assert result.stop_reason == "end_turn"
    sent = llm.chat_requests[-1].json["messages"][-1]["content"]
    assert sent.startswith("explain [@a.py](file://")
    assert "a.py:\n```\nprint('embedded')\n```" in sent
    assert "notes.md:\n```\nlinked file text\n```" in sent


async def test_the_model_is_a_session_option(agent: Agent, llm: FakeLLM) -> None:
    response = await agent.conn.new_session(cwd=str(agent.workspace), mcp_servers=[])
    (option,) = response.config_options
    option = option.root if hasattr(option, "root") else option
    assert option.id == "model" and option.category == "model"
    assert option.current_value == "llama3.2:latest"
    assert [o.value for o in option.options] == ["llama3.2:latest", "qwen2.5-coder:7b"]
    changed = await agent.conn.set_config_option(
        config_id="model", session_id=response.session_id, value="qwen2.5-coder:7b"
    )
    assert changed.config_options[0].current_value == "qwen2.5-coder:7b"
    llm.enqueue(Reply([Text("hi")]))
    await agent.prompt(response.session_id, "hello")
    assert llm.chat_requests[-1].json["model"] == "qwen2.5-coder:7b"
