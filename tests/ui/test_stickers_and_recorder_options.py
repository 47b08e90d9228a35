"""File > Export stickers from the real window (folder dialog answered by the test), and
the recorder's options chosen in the Outputs tab reaching the clip that gets written."""
from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image, ImageSequence
from PySide6.QtWidgets import QFileDialog

from app.presets import BUILTIN_PRESETS, Preset
from tests.app.pipeline_fixtures import default_character


def _pick(box, value) -> None:
    i = box.findData(value)
    assert i >= 0, value
    box.setCurrentIndex(i)
    box.activated.emit(i)  # as a user's pick does


def test_export_stickers_from_the_file_menu(window, qtbot, tmp_path, monkeypatch):
    c = window.controller
    # One built-in keeps the test short; the user's own preset must be in the pack too.
    monkeypatch.setattr("app.controller.BUILTIN_PRESETS", {"smile": BUILTIN_PRESETS["smile"]})
    c.preset_store.save(Preset("grin", {"mouth_open": 0.6, "mouth_form": 1.0}))
    folder = tmp_path / "out"
    folder.mkdir()
    asked = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: asked.append(a) or str(folder)))
    before = hashlib.sha256(default_character().read_bytes()).hexdigest()
    assert window.stickers_action.text() == "Export stickers…"
    window.stickers_action.trigger()
    assert asked and not window.stickers_action.isEnabled()  # one export at a time
    qtbot.waitUntil(lambda: window.banner.text().startswith("Saved"), timeout=120000)
    assert window.banner.text() == f"Saved 4 stickers to {folder}"  # an empty folder is used
    assert window.stickers_action.isEnabled()
    for name in ("smile", "grin"):
        with Image.open(folder / f"{name}.png") as im:
            still = np.array(im.convert("RGBA"))
        assert still.shape == (512, 512, 4)
        assert (still[..., 3] == 0).any() and (still[..., 3] == 255).any()
        with Image.open(folder / f"{name}-animated.png") as im:
            assert im.info.get("loop") == 0
            assert len([f.copy() for f in ImageSequence.Iterator(im)]) > 1
    assert hashlib.sha256(default_character().read_bytes()).hexdigest() == before
    assert any(n.stage == "stickers" and n.message == window.banner.text()
               for n in window.notices)


def test_recorder_options_reach_the_clip(window, qtbot, tmp_path):
    from tests.app.sinks.test_clips import decode
    import av

    c = window.controller
    c.settings.outputs.record_dir = str(tmp_path)
    panel = window.outputs_panel
    _pick(panel.record_format, "webm")
    _pick(panel.record_size, 256)
    _pick(panel.record_fps, 15)
    _pick(panel.record_background, "#00ff00")
    _pick(panel.record_limit, 10)
    out = c.settings.outputs
    assert (out.record_size, out.record_fps, out.record_background,
            out.record_max_seconds) == (256, 15, "#00ff00", 10)
    window.record_action.trigger()
    qtbot.waitUntil(lambda: panel.record_info.text().startswith("Recording to"), timeout=10000)
    assert not panel.record_size.isEnabled()  # no change mid-clip
    cfg = c.sinks["clip_recorder"].config
    assert (cfg.size, cfg.fps, cfg.max_seconds, cfg.flatten) == (256, 15, 10, True)
    qtbot.wait(1200)
    window.record_action.trigger()
    qtbot.waitUntil(lambda: panel.record_info.text().startswith("Saved to"), timeout=30000)
    saved = panel.saved_clip
    with av.open(str(saved)) as f:
        s = f.streams.video[0]
        assert (s.codec_context.width, s.codec_context.height) == (256, 256)
        assert s.average_rate == 15
    frames = decode(saved)
    assert len(frames) >= 3 and frames[0].shape == (256, 256, 4)
    # Green behind the character: no transparency left (VP9 codes even a full alpha
    # plane lossily, so "opaque" reads back as 250..255).
    assert frames[0][..., 3].min() >= 250
    corner = frames[0][:16, :16, :3].reshape(-1, 3).mean(0)
    assert corner[1] > 200 and corner[0] < 40 and corner[2] < 40

    # Transparent again, as a GIF at 256 px: read back with Pillow.
    panel.record_info.setText("")
    _pick(panel.record_format, "gif")
    _pick(panel.record_background, "transparent")
    window.record_action.trigger()
    qtbot.waitUntil(lambda: panel.record_info.text().startswith("Recording to"), timeout=10000)
    qtbot.wait(800)
    window.record_action.trigger()
    qtbot.waitUntil(lambda: panel.record_info.text().startswith("Saved to"), timeout=30000)
    with Image.open(panel.saved_clip) as im:
        assert im.size == (256, 256) and im.info.get("loop") == 0
        alpha = np.array(im.convert("RGBA"))[..., 3]
    assert (alpha == 0).any() and (alpha == 255).any()


def test_saved_recorder_options_are_shown(window):
    panel = window.outputs_panel
    out = window.controller.settings.outputs
    out.record_size, out.record_fps, out.record_background = 320, 24, "#123456"
    panel.show_record_options(out)
    assert panel.record_size.currentData() == 320 and panel.record_fps.currentData() == 24
    assert panel.record_background.currentData() == "#123456"  # a custom colour is listed
    assert panel.record_limit.currentData() == 20
