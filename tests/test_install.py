"""A wheel installs anywhere: built from this checkout, installed into a fresh venv in a
folder outside the repository, it renders a pose with the weights and default character it
carries, and opens the window offscreen.

The venv gets no copy of the dependencies (that would download ~1 GB): a path entry points
at this environment's site-packages. A path entry does not run that folder's .pth files,
so the editable install's import hook stays out and `app` can only come from the wheel.
"""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.cli import main

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ("engines/_shipped/weights/manifest.json", "engines/_shipped/weights/morpher_encoder.onnx",
           "engines/_shipped/weights/morpher_decoder.onnx",
           "engines/_shipped/weights/rotator_encoder.onnx",
           "engines/_shipped/weights/rotator_decoder.onnx",
           "engines/_shipped/assets/default_character.png")


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd}\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
    return r


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OMOKAGE_TEST_WEIGHTS",
                                                            "OMOKAGE_TEST_CHARACTER")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv python, console script, a working folder outside the repository)."""
    root = tmp_path_factory.mktemp("install")
    assert not root.resolve().is_relative_to(REPO)
    isolation = []
    try:
        import setuptools  # noqa: F401  (present: build here instead of downloading it)

        isolation = ["--no-build-isolation"]
    except ImportError:
        pass
    _run([sys.executable, "-m", "pip", "wheel", REPO, "--no-deps", *isolation, "-q",
          "-w", root / "wheel"], cwd=root, timeout=600)
    (wheel,) = (root / "wheel").glob("omokage-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    assert set(SHIPPED) <= names, sorted(set(SHIPPED) - names)
    assert not any(n.startswith("tests/") or n.endswith(".pt") for n in names)

    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], timeout=120)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel],
         timeout=600)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
                .stdout.strip())
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "omokage_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    work = root / "elsewhere"
    work.mkdir()
    return python, bindir / "omokage", work, wheel


def test_the_wheel_carries_weights_and_character_and_imports_from_the_venv(installed):
    python, _, work, wheel = installed
    out = _run([python, "-c", "import app, engines.resources as r; print(app.__file__); "
                "print(r.weights_dir()); print(r.default_character())"],
               cwd=work, env=_clean_env(), timeout=60).stdout.split()
    venv = python.parent.parent.resolve()
    for path in out:
        assert Path(path).resolve().is_relative_to(venv), (path, venv)
    print(f"wheel {wheel.name}: {wheel.stat().st_size / 2**20:.1f} MB")


def test_installed_pose_matches_the_checkout(installed, tmp_path):
    """`omokage pose` from the venv, in a folder outside the repository, gives exactly the
    image the checkout renders for the same pose."""
    _, omokage, work, _ = installed
    out = work / "x.png"
    _run([omokage, "pose", "--set", "head_yaw=20", "--out", out, "--threads", "1"],
         cwd=work, env=_clean_env(OMOKAGE_CONFIG=str(work / "cfg")), timeout=300)
    got = np.asarray(Image.open(out))
    assert got.shape == (512, 512, 4)
    here = tmp_path / "here.png"
    assert main(["pose", "--set", "head_yaw=20", "--out", str(here), "--threads", "1"]) == 0
    np.testing.assert_array_equal(got, np.asarray(Image.open(here)))
    rest = np.asarray(Image.open(REPO / "assets" / "default_character.png").convert("RGBA"))
    assert np.abs(got.astype(int) - rest).mean() > 0.5  # the head turned
    assert got[0, 0, 3] == 0  # the background stays transparent


WINDOW = """
import os, sys, time
from PySide6.QtWidgets import QApplication
from app.controller import ControllerOptions
from ui.app import create_window
app = QApplication(sys.argv[:1])
w = create_window(ControllerOptions(source="none", threads=1))
w.show()
end = time.monotonic() + 120
while w.preview.frames_shown < 3 and time.monotonic() < end:
    app.processEvents()
    time.sleep(0.02)
import numpy as np
from PySide6.QtGui import QImage
img = w.preview.grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
bits = np.frombuffer(img.constBits(), np.uint8, count=img.height() * img.bytesPerLine())
print("frames", w.preview.frames_shown, "spread", int(bits.reshape(-1, 4)[:, :3].std()))
w.close()
w.controller.shutdown()
"""


def test_installed_window_opens_offscreen_and_shows_the_character(installed):
    python, _, work, _ = installed
    r = _run([python, "-c", WINDOW], cwd=work, timeout=300,
             env=_clean_env(QT_QPA_PLATFORM="offscreen", OMOKAGE_CONFIG=str(work / "wcfg")))
    words = r.stdout.split()
    frames, spread = int(words[words.index("frames") + 1]), int(words[words.index("spread") + 1])
    assert frames >= 3, r.stdout + r.stderr[-3000:]
    assert spread > 10  # a picture, not a blank widget
