"""Real Qt windows, offscreen (no display needed)."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from app.controller import Controller, ControllerOptions  # noqa: E402
from tests.app.pipeline_fixtures import default_character, weights_dir  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "soak: runs the real window for minutes (deselect with -m 'not soak')")


@pytest.fixture(scope="session")
def engine():
    from engines.neural.runtime import NeuralEngine

    return NeuralEngine.load(weights_dir(), threads=1)


def open_window(qtbot, controller):
    """The real main window on `controller`, shown and started, once it has drawn a frame
    and built its pose sliders."""
    from ui.main_window import MainWindow

    w = MainWindow(controller)
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    controller.start()
    qtbot.waitUntil(lambda: w.preview.frames_shown > 0 and bool(w.pose_panel.rows),
                    timeout=20000)
    return w


@pytest.fixture
def window(qtbot, tmp_path, engine):
    controller = Controller(ControllerOptions(
        character=default_character(), source="none", settings_dir=tmp_path / "config",
        engine=engine))
    w = open_window(qtbot, controller)
    yield w
    w.close()


def grab(widget) -> np.ndarray:
    """The widget as it is drawn on screen, as an HxWx4 RGBA array."""
    from PySide6.QtGui import QImage

    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    arr = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl // 4, 4)
    return arr[:, :w].copy()


def hold_still(window, qtbot) -> None:
    """Idle animation and auto-blink off, then wait until renders stop (the pose settled)."""
    c = window.controller
    c.set_mapper_option("idle", dict(c.mapper_options()["idle"], breathing_depth=0.0, sway_deg=0.0))
    c.set_mapper_option("auto_blink", "never")

    def settled():
        n = window.preview.frames_shown
        qtbot.wait(300)
        return window.preview.frames_shown == n
    qtbot.waitUntil(settled, timeout=10000)
