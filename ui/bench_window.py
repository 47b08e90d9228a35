"""The real window against the headless pipeline, on the same driving video, in one run.

    QT_QPA_PLATFORM=offscreen python -m ui.bench_window [--driver VIDEO] [--seconds 20] [--runs 1]

Headless: app.bench.bench_e2e (the live pipeline's threads, frames handed to a callback).
Window: MainWindow on a Controller (offscreen unless a display is set), the same video
paced at 30 fps; a frame counts when the GUI thread has put it on the preview, and its
latency runs from capture to that moment. The window's own quality governor is switched off
here so both run the same engine work; its level is reported. Figures are medians per run;
the ratios compare runs made one after the other in this process, on the same machine load:
the fps ratio counts frames through each pipeline (drawn, or skipped because the pose did
not visibly change), the drawn ratio frames on the preview against frames the headless
pipeline drew.
"""
from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def bench_window(video: Path, seconds: float = 20.0, warmup: float = 4.0, threads: int | None = None) -> dict:
    import tempfile

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.controller import Controller, ControllerOptions
    from app.frames import now
    from app.sources import VideoFileSource
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="omokage-winbench-") as cfg:
        controller = Controller(ControllerOptions(source="none", settings_dir=Path(cfg), threads=threads))
        window = MainWindow(controller)
        window.resize(1200, 760)
        window.show()
        lat: list[float] = []
        gui_ms: list[float] = []
        state = {"on": False, "out": None, "shown": 0}
        take, show = window.bridge.take_frame, window.preview.show_rgba

        def take_frame():
            out = take()
            state["out"] = out
            return out

        def show_rgba(rgba):
            t0 = time.perf_counter()
            show(rgba)
            out = state["out"]
            if state["on"] and out is not None:
                lat.append((now() - out.frame.meta.capture_ts) * 1e3)
                gui_ms.append((time.perf_counter() - t0) * 1e3)
                state["shown"] += 1

        window.bridge.take_frame, window.preview.show_rgba = take_frame, show_rgba
        panel_ms: list[float] = []
        show_pose = window.pose_panel.show_pose

        def timed_show_pose(pose):
            t0 = time.perf_counter()
            show_pose(pose)
            if state["on"]:
                panel_ms.append((time.perf_counter() - t0) * 1e3)

        window.pose_panel.show_pose = timed_show_pose

        def wait(sec: float) -> None:
            loop = QEventLoop()
            QTimer.singleShot(int(sec * 1000), loop.quit)
            loop.exec()

        # Wait for the start to finish, not only for the pipeline to exist: the start sets the
        # initial source (none here) after publishing the pipeline, and would replace the video.
        started = threading.Event()
        controller.on_ready.append(started.set)
        controller.start()
        t_end = time.monotonic() + 60
        while not started.is_set() and time.monotonic() < t_end:
            wait(0.1)
        pipe = controller.pipeline
        if pipe is None:
            raise RuntimeError(f"the window did not start: {[n.message for n in window.notices]}")
        level = pipe.governor.level.name if pipe.governor is not None else ""
        pipe.set_governor(None)  # same engine work as the headless run
        pipe.set_source(VideoFileSource(video, realtime=True, fps=30.0, loop=True))
        wait(warmup)
        s0 = pipe.stats()
        cpu0, t0 = time.process_time(), time.perf_counter()
        state["on"] = True
        wait(seconds)
        state["on"] = False
        cpu1, t1 = time.process_time(), time.perf_counter()
        s1 = pipe.stats()
        dt = t1 - t0
        window.close()
        app.processEvents()
    a = np.array(lat or [np.nan])
    return {
        "window_fps": state["shown"] / dt,  # frames put on the preview
        "window_pipeline_fps": (s1.frames_out - s0.frames_out + s1.skipped - s0.skipped) / dt,
        "window_latency_ms_median": float(np.median(a)),
        "window_latency_ms_p95": float(np.percentile(a, 95)),
        "window_gui_ms_per_frame": float(np.median(gui_ms)) if gui_ms else float("nan"),  # numpy -> QImage
        "window_pose_panel_ms_per_frame": float(np.median(panel_ms)) if panel_ms else float("nan"),
        "window_stage_ms": s1.stage_ms,
        "window_cpu_percent": 100.0 * (cpu1 - cpu0) / dt,
        "window_governor_level_at_start": level,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ui.bench_window", description=__doc__.splitlines()[0])
    ap.add_argument("--driver", type=Path, default=None, help="driving video (default: the bench's)")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--runs", type=int, default=1, help="headless+window pairs")
    ap.add_argument("--threads", type=int, default=0, help="engine threads (0: automatic)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    from app.bench import bench_e2e, check_driver
    from app.engine import default_engine_threads

    video = check_driver(args.driver)
    runs = []
    for _ in range(max(1, args.runs)):
        h = bench_e2e(video=video, seconds=args.seconds, threads=args.threads or None)
        w = bench_window(video, args.seconds, threads=args.threads or None)
        r = {"headless_fps": h["e2e_fps"], "headless_rendered_fps": h["e2e_rendered_fps"],
             "headless_latency_ms_median": h["latency_ms_median"],
             "headless_latency_ms_p95": h["latency_ms_p95"], "headless_stage_ms": h["e2e_stage_ms"],
             "headless_cpu_percent": h["e2e_cpu_percent"], **w}
        # Like with like: frames through each pipeline (drawn, or skipped as unchanged), and
        # frames the window put on screen against frames the headless pipeline drew.
        r["fps_window_vs_headless"] = r["window_pipeline_fps"] / r["headless_fps"]
        r["drawn_window_vs_headless"] = r["window_fps"] / r["headless_rendered_fps"]
        r["latency_window_vs_headless"] = r["window_latency_ms_median"] / r["headless_latency_ms_median"]
        runs.append(r)
        print(f"headless {r['headless_fps']:5.1f} fps {r['headless_latency_ms_median']:5.0f} ms | window "
              f"{r['window_fps']:5.1f} fps {r['window_latency_ms_median']:5.0f} ms (gui "
              f"{r['window_gui_ms_per_frame']:.2f} + sliders {r['window_pose_panel_ms_per_frame']:.2f} ms/frame) | fps ratio {r['fps_window_vs_headless']:.2f} "
              f"(drawn {r['drawn_window_vs_headless']:.2f}) "
              f"latency ratio {r['latency_window_vs_headless']:.2f}", flush=True)
    out = {"runs": runs, "threads": args.threads or default_engine_threads(), "driver": str(video),
           "cpu_model": _cpu_model(), "cpu_count": os.cpu_count()}
    for k in ("fps_window_vs_headless", "drawn_window_vs_headless", "latency_window_vs_headless",
              "headless_fps", "window_pipeline_fps", "window_fps",
              "headless_latency_ms_median", "window_latency_ms_median"):
        out[f"median_{k}"] = float(np.median([r[k] for r in runs]))
    if args.json:
        tmp = args.json.with_name(args.json.name + ".tmp")
        tmp.write_text(json.dumps(out, indent=1, default=float))
        os.replace(tmp, args.json)
    return 0


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


if __name__ == "__main__":
    raise SystemExit(main())
