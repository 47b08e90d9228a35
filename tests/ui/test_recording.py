"""Recording from the window in every clip format, read back by an independent decoder,
and an output that ends by itself shown as off."""
from __future__ import annotations

from app.sinks.clips import FORMATS, ClipConfig


def _record(window, qtbot, fmt, seconds=1.0):
    panel = window.outputs_panel
    i = panel.record_format.findData(fmt)
    assert i >= 0, fmt
    panel.record_format.setCurrentIndex(i)
    panel.record_format.activated.emit(i)  # as a user's pick does
    assert window.controller.settings.outputs.record_format == fmt
    window.record_action.trigger()  # Ctrl+R
    qtbot.waitUntil(lambda: panel.record_info.text().startswith("Recording to"), timeout=10000)
    assert not panel.record_format.isEnabled()  # no format change mid-clip
    qtbot.wait(int(seconds * 1000))


def test_record_every_format_from_the_window(window, qtbot, tmp_path):
    from tests.app.sinks.test_clips import decode

    c = window.controller
    c.settings.outputs.record_dir = str(tmp_path)
    panel = window.outputs_panel
    assert [panel.record_format.itemData(i) for i in range(panel.record_format.count())] == list(FORMATS)
    for fmt in FORMATS:
        _record(window, qtbot, fmt)
        window.record_action.trigger()
        qtbot.waitUntil(lambda: panel.record_info.text().startswith("Saved to"), timeout=30000)
        saved = panel.saved_clip
        assert panel.open_folder.isEnabled() and saved.parent == tmp_path
        assert saved.suffix == ClipConfig(format=fmt).extension
        frames = decode(saved)
        assert len(frames) >= 3, fmt
        alpha = frames[0][..., 3]
        if fmt == "mp4":
            assert alpha.min() == 255
        else:  # transparent around the character, opaque on it
            assert alpha.min() == 0 and alpha.max() == 255, fmt
        assert any(n.message == f"Clip saved to {saved}" for n in window.notices)
        panel.record_info.setText("")
    assert not panel.record.isChecked() and not c.output_enabled("clip_recorder")


def test_a_recording_that_reaches_its_limit_is_shown_off(window, qtbot, tmp_path):
    c = window.controller
    c.settings.outputs.record_dir = str(tmp_path)
    _record(window, qtbot, "apng", seconds=0)
    assert window.outputs_panel.record.isChecked()
    c.sinks["clip_recorder"].config.max_seconds = 0.5  # instead of waiting for 20 s
    qtbot.waitUntil(lambda: not window.outputs_panel.record.isChecked(), timeout=20000)
    qtbot.waitUntil(lambda: window.outputs_panel.record_info.text().startswith("Saved to"),
                    timeout=20000)
    assert window.outputs_panel.record.text() == "Record clip (Ctrl+R)"
    assert c.output_status("clip_recorder").state.value == "finished"
    assert window.outputs_panel.saved_clip.exists()
