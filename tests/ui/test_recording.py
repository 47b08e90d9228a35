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


def test_a_virtual_camera_that_dies_is_shown_off(window, qtbot):
    """A device that vanishes mid-stream (through pyvirtualcam itself, a registered test
    backend): the output turns off in the window and the device is released."""
    import pyvirtualcam
    from pyvirtualcam.camera import BACKENDS

    from tests.app.test_outputs import Device

    Device.held = Device.most_held = Device.opened = 0
    Device.fail_after = 3
    pyvirtualcam.register_backend("omokage-device", Device)
    try:
        c = window.controller
        c.settings.outputs.vcam_backend = "omokage-device"
        c.settings.outputs.vcam_width, c.settings.outputs.vcam_height = 64, 64
        window.outputs_panel.vcam.setChecked(True)  # as a user's click does
        qtbot.waitUntil(lambda: Device.opened == 1, timeout=20000)
        qtbot.waitUntil(lambda: not window.outputs_panel.vcam.isChecked(), timeout=30000)
        assert c.output_status("virtual_camera").state.value == "failed"
        assert not c.output_enabled("virtual_camera")
        qtbot.waitUntil(lambda: Device.held == 0, timeout=10000)
    finally:
        BACKENDS.pop("omokage-device", None)
        Device.fail_after = None
