"""Rooms and doors: app/ runs without Qt; ui/ does not pull in the ML runtimes."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules_after(imports: str) -> set[str]:
    code = f"import sys\n{imports}\nprint('\\n'.join(sorted(sys.modules)))"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return {m.split(".")[0] for m in r.stdout.split()}


def test_app_core_does_not_import_qt():
    mods = _modules_after("import app.pipeline, app.controller, app.cli, app.sources, "
                          "app.character, app.settings, app.bench")
    assert not {"PySide6", "shiboken6"} & mods


def test_ui_does_not_import_ml_runtimes():
    mods = _modules_after("import ui.app, ui.main_window, ui.preview, ui.pose_panel, "
                          "ui.controls, ui.bridge")
    assert "PySide6" in mods
    assert not {"torch", "onnxruntime", "mediapipe"} & mods
