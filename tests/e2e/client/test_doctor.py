"""`ryan doctor`: one line per check, OK or what to do; exit 1 when any fails."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.client.conftest import Ryan


def lines(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines():
        status, _, rest = line.partition(" ")
        what = rest.strip().split(":")[0]
        found[what] = status
    return found


def test_all_ok(ryan: Ryan) -> None:
    done = ryan.run("doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert lines(done.stdout) == {
        "server": "OK",
        "backend": "OK",
        "model": "OK",
        "history": "OK",
        "settings": "OK",
    }


def test_history_writable(ryan: Ryan) -> None:
    """The path is the server's own (`ryan/status`'s `history`), here the one RYAN_HISTORY names."""
    done = ryan.run("doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    history = next(line for line in done.stdout.splitlines() if " history:" in line)
    assert history == f"OK   history: saved in {ryan.history}"
    assert ryan.history.exists()


def test_backend_down(ryan: Ryan, dead_url: str) -> None:
    done = ryan.run("doctor", base_url=dead_url)
    assert done.returncode == 1
    checks = lines(done.stdout)
    assert checks["server"] == "OK" and checks["backend"] == "FAIL" and checks["model"] == "FAIL"
    backend = next(line for line in done.stdout.splitlines() if line.startswith("FAIL backend"))
    assert dead_url.split("//")[1] in backend


def test_model_missing(ryan: Ryan) -> None:
    done = ryan.run("doctor", "--model", "mistral:7b")
    assert done.returncode == 1
    model = next(line for line in done.stdout.splitlines() if " model:" in line)
    assert model.startswith("FAIL") and "ollama pull mistral:7b" in model and "llama3.2:latest" in model


def test_history_not_writable(ryan: Ryan, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    wanted = blocker / "history.sqlite3"  # its folder cannot be created: a file is in the way
    ryan.env["RYAN_HISTORY"] = str(wanted)
    done = ryan.run("doctor")
    assert done.returncode == 1
    checks = lines(done.stdout)
    assert checks == {
        "server": "OK",
        "backend": "OK",
        "model": "OK",
        "history": "FAIL",
        "settings": "OK",
    }, done.stdout
    history = next(line for line in done.stdout.splitlines() if " history:" in line)
    assert history.startswith("FAIL history: not saved (kept in memory this session): ")
    # why, in the server's words: the file it could not use and what is in the way
    assert str(wanted) in history and "not a folder" in history
    assert blocker.read_text() == "not a folder"


def test_server_does_not_start(ryan: Ryan) -> None:
    done = ryan.run("doctor", "--server-cmd", "/nonexistent/ryan-server")
    assert done.returncode == 1
    assert lines(done.stdout) == {
        "server": "FAIL",
        "backend": "FAIL",
        "model": "FAIL",
        "history": "FAIL",
        "settings": "FAIL",
    }
    assert "Cannot start ryan-server" in done.stdout
    assert "history: not checked: the server did not start" in done.stdout
