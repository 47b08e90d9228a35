"""A worker thread that dies while a command runs: one line on stderr naming its stage (no
traceback), and the command exits non-zero. The CLI installs the message channel's thread
hook (app/messages.py) for the command's duration only."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app import cli
from app.messages import MessageChannel

ROOT = Path(__file__).resolve().parents[2]


def _command_with_a_dying_worker(thread_name: str, error: str):
    def cmd(args) -> int:
        t = threading.Thread(target=lambda: (_ for _ in ()).throw(RuntimeError(error)),
                             name=thread_name)
        t.start()
        t.join()
        return 0  # the command itself did not notice
    return cmd


@pytest.mark.parametrize("thread, stage", [("omokage-render", "engine"),
                                           ("omokage-capture", "source"),
                                           ("omokage-clip", "output"),
                                           ("some-library-thread", "internal")])
def test_a_dead_worker_is_one_line_with_its_stage_and_the_command_fails(
        monkeypatch, caplog, capsys, tmp_path, thread, stage):
    # In-process, pytest's log capture stands in for stderr (the subprocess test below
    # reads the real stderr).
    monkeypatch.setattr(cli, "cmd_pose", _command_with_a_dying_worker(thread, "boom 42"))
    before = threading.excepthook
    code = cli.main(["pose", "--out", str(tmp_path / "p.png")])
    assert code == 1
    lines = [r.getMessage() for r in caplog.records
             if r.levelname == "ERROR" and "boom 42" in r.getMessage()]
    assert lines == [f"{stage}: {thread} stopped: RuntimeError: boom 42"]
    assert "Traceback" not in capsys.readouterr().err
    assert threading.excepthook is before  # the hook is the command's only


def test_a_command_whose_workers_all_end_well_exits_0(monkeypatch, capsys, tmp_path):
    def cmd(args) -> int:
        t = threading.Thread(target=lambda: None, name="omokage-render")
        t.start()
        t.join()
        return 0
    monkeypatch.setattr(cli, "cmd_pose", cmd)
    assert cli.main(["pose", "--out", str(tmp_path / "p.png")]) == 0
    assert capsys.readouterr().err == ""


def test_a_user_error_keeps_its_own_exit_code(monkeypatch, caplog, capsys, tmp_path):
    def cmd(args) -> int:
        _command_with_a_dying_worker("omokage-track", "lost")(args)
        raise cli.CliError("--out: bad", 2)
    monkeypatch.setattr(cli, "cmd_pose", cmd)
    assert cli.main(["pose", "--out", str(tmp_path / "p.png")]) == 2
    assert "tracking: omokage-track stopped: RuntimeError: lost" in caplog.text
    assert "omokage: error: --out: bad" in capsys.readouterr().err


def test_channel_keeps_thread_failures_and_chains_only_when_asked():
    seen = []
    outer = threading.excepthook
    threading.excepthook = lambda args: seen.append(args.thread.name)
    try:
        for chain in (False, True):
            ch = MessageChannel()
            undo = ch.install_thread_hook(chain=chain)
            t = threading.Thread(target=lambda: 1 / 0, name="omokage-obs-encoder")
            t.start()
            t.join()
            ok = threading.Thread(target=lambda: sys.exit(0), name="omokage-track")
            ok.start()
            ok.join()  # a thread that exits itself is no failure
            undo()
            assert [m.stage for m in ch.thread_failures] == ["output"]
            assert "ZeroDivisionError" in ch.problems()["output"].text
        assert seen == ["omokage-obs-encoder"]  # only the chained run called the old hook
    finally:
        threading.excepthook = outer


def test_real_process_exit_status_and_stderr(tmp_path):
    """The console entry point in its own process, as a user runs it."""
    script = (
        "import sys, threading\n"
        "from app import cli\n"
        "def cmd(args):\n"
        "    t = threading.Thread(target=lambda: 1 / 0, name='omokage-render')\n"
        "    t.start(); t.join(); return 0\n"
        "cli.cmd_pose = cmd\n"
        f"sys.exit(cli.main(['pose', '--out', {str(tmp_path / 'p.png')!r}]))\n")
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, OMOKAGE_CONFIG=str(tmp_path)))
    assert r.returncode == 1
    assert r.stderr.count("omokage-render stopped") == 1, r.stderr
    assert "omokage: error: engine: omokage-render stopped: ZeroDivisionError" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("command, module", [("train", "engines.neural.train"),
                                             ("eval", "engines.neural.evaluate")])
def test_training_commands_without_torch_say_what_to_install(monkeypatch, capsys, command,
                                                             module):
    """The desktop bundle leaves torch out: these commands answer in one line."""
    monkeypatch.setitem(sys.modules, module, None)  # importing it raises ModuleNotFoundError
    assert cli.main([command, "--help"]) == 2
    err = capsys.readouterr().err
    assert f"`omokage {command}` needs the training extras" in err
    assert 'pip install "omokage[train]"' in err and "Traceback" not in err
