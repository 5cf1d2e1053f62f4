"""Ryan keeps each request's prefix byte-identical from turn to turn, so llama.cpp reuses what it
evaluated: through the real ryan-server, turns 2 and 3 reuse at least 90 % of the previous prompt
(`bench/prompt_cache.py` measures it from llama.cpp's own `timings`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.prompt_cache import run

pytestmark = pytest.mark.real


async def test_follow_up_turns_reuse_the_previous_prompt(model_path: Path) -> None:
    assert await run(str(model_path), 3) == 0, "less than 90 % of a previous prompt came from the cache"
