"""Recommend settings for this computer, from a few seconds of measuring it.

measure() times the real engine (with and without the mirror ensemble) and the real face
tracker (full camera frames and 320 px) with the benchmark code the `omokage bench`
command uses; decide() turns those per-frame costs into the settings that fit the frame
budget, with the reason in plain words; apply() writes them into the user's settings
(atomically, through app.settings). `omokage recommend` and the window's Help menu call
these; the window offers it once on the first start.

The frame rate is kept longest: only when the lightest settings miss 30 fps does the camera
rate come down. At a rate, the settings are tried from the best picture to the cheapest
(CANDIDATES): the tracker's small input first, since it costs almost nothing in quality
(python -m app.tracking.size_study: landmarks within 1% of the eye distance, the same
jitter), then the mirror ensemble, which makes head turns visibly more exact. The adaptive
quality governor (app/governor.py) gives them up in the other order when a busy moment
needs time back at once (the ensemble saves the most); it never goes above what is chosen here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

FPS_CHOICES = (30, 24, 20, 15)  # camera rates webcams offer, best first
# Share of each frame's time Omokage plans to use. The rest is for what streams beside it
# (OBS, a game, the preview) and for the ups and downs of a busy machine; it also lies
# between the governor's step-down point (the whole budget) and its step-up point (60%),
# so the governor does not have to undo the recommendation in the first minute.
HEADROOM = 0.75
SMALL_TRACKER = 320  # the governor's small tracker input (longest side, px)
# (single pass, small tracker), from the best picture to the cheapest.
CANDIDATES = ((False, False), (False, True), (True, False), (True, True))


@dataclass
class Costs:
    """Median milliseconds per frame on this machine."""
    render_ms: float  # the engine with the mirror ensemble
    render_single_ms: float  # the engine without it (single pass)
    track_ms: float  # MediaPipe on full 640x480 camera frames
    track_small_ms: float  # MediaPipe on frames scaled to 320 px
    cores: int = 1
    threads: int = 1  # engine threads the figures were measured with
    cpu_model: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Recommendation:
    single_pass: bool  # mirror ensemble off
    tracker_size: int  # 0: full frames; else the longest side the tracker sees
    camera_fps: int
    frame_ms: float  # the estimated busy time of one frame with these settings
    fits: bool  # False: even the lightest settings miss the slowest frame rate
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (f"mirror ensemble {'off' if self.single_pass else 'on'}, "
                f"{'tracker at 320 px' if self.tracker_size else 'full-size tracking'}, "
                f"camera at {self.camera_fps} fps")


def frame_ms(costs: Costs, single_pass: bool, small_tracker: bool) -> float:
    """Busy time of one live frame. Tracking and drawing run in two threads: with two or
    more cores side by side (the slower one sets the pace), on one core one after the other."""
    render = costs.render_single_ms if single_pass else costs.render_ms
    track = costs.track_small_ms if small_tracker else costs.track_ms
    return max(render, track) if costs.cores >= 2 else render + track


def decide(costs: Costs, fps_choices: tuple[int, ...] = FPS_CHOICES,
           headroom: float = HEADROOM) -> Recommendation:
    """The best settings whose frame fits `headroom` of the frame budget: the highest frame
    rate first, then CANDIDATES in order."""
    for fps in fps_choices:
        usable = 1000.0 / fps * headroom
        for single, small in CANDIDATES:
            ms = frame_ms(costs, single, small)
            if ms <= usable:
                return _recommendation(costs, single, small, fps, ms, True, fps_choices, headroom)
    fps = fps_choices[-1]
    return _recommendation(costs, True, True, fps, frame_ms(costs, True, True), False,
                           fps_choices, headroom)


def _recommendation(costs: Costs, single: bool, small: bool, fps: int, ms: float, fits: bool,
                    fps_choices: tuple[int, ...], headroom: float) -> Recommendation:
    rec = Recommendation(single, SMALL_TRACKER if small else 0, fps, ms, fits, "")
    rec.reason = explain(costs, rec, fps_choices, headroom)
    return rec


def explain(costs: Costs, rec: Recommendation, fps_choices: tuple[int, ...] = FPS_CHOICES,
            headroom: float = HEADROOM) -> str:
    """Why `rec`, in plain words, from the measured figures."""
    cpu = costs.cpu_model or "this computer"
    cores = f"{costs.cores} core{'s' if costs.cores != 1 else ''}"
    lines = [
        f"Measured on {cpu} ({cores}): drawing the character takes {costs.render_ms:.0f} ms "
        f"a frame with the mirror ensemble and {costs.render_single_ms:.0f} ms without it; "
        f"following your face takes {costs.track_ms:.0f} ms on full camera frames and "
        f"{costs.track_small_ms:.0f} ms at {SMALL_TRACKER} px.",
        ("Tracking and drawing run side by side, so a frame costs the slower of the two."
         if costs.cores >= 2 else
         "With one core, tracking and drawing take turns, so a frame costs both together."),
    ]
    budget = 1000.0 / rec.camera_fps
    usable = budget * headroom
    plan = (f"At {rec.camera_fps} fps a frame has {budget:.0f} ms, of which Omokage plans to "
            f"use {usable:.0f} ms so that OBS or a game keep some of the processor.")
    if not rec.fits:
        lines.append(plan + f" Even the lightest settings need {rec.frame_ms:.0f} ms a frame, so "
                     "the character will lag behind you. Close other programs while "
                     "streaming, or use a faster computer.")
    else:
        lines.append(plan + f" With these settings a frame needs {rec.frame_ms:.0f} ms.")
        if rec.single_pass:
            ens = frame_ms(costs, False, bool(rec.tracker_size))
            lines.append(f"The mirror ensemble (a second, mirrored pass that makes head turns "
                         f"more exact) would need {ens:.0f} ms a frame: too much here.")
        if rec.tracker_size:
            full = frame_ms(costs, rec.single_pass, False)
            lines.append(f"Full-size tracking would need {full:.0f} ms a frame; a "
                         f"{SMALL_TRACKER} px picture costs less and tracks almost as well "
                         "(landmarks within 1% of the distance between the eyes).")
        if rec.camera_fps != fps_choices[0]:
            best = frame_ms(costs, True, True)
            lines.append(f"{fps_choices[0]} fps would leave {1000.0 / fps_choices[0] * headroom:.0f} "
                         f"ms a frame, less than the {best:.0f} ms even the lightest settings "
                         "need, so the camera is asked for fewer frames.")
    lines.append(f"Recommended: {rec.summary()}.")
    return "\n".join(lines)


def measure(frames: int = 30, threads: int | None = None, weights: Path | None = None,
            character: Path | None = None) -> Costs:
    """A few seconds of timing on this machine, with the code of `omokage bench`: the
    shipped engine on the default character with and without the mirror ensemble (random
    poses, so nothing is skipped), and MediaPipe on a real face photo at both input sizes."""
    import statistics

    from app.bench import machine
    from app.engine import default_engine_threads
    from app.tracking.bench import photo_frames, time_tracker
    from engines.neural.bench import bench_engine

    threads = threads or default_engine_threads()
    args = dict(threads=threads, frames=frames, weights_dir=weights, character=character)
    ensemble = bench_engine(**args, mirror_ensemble=True)
    single = bench_engine(**args, mirror_ensemble=False)
    imgs = photo_frames(frames + 1)
    full, _ = time_tracker(imgs)
    small, _ = time_tracker(imgs, input_size=SMALL_TRACKER)
    m = machine()
    return Costs(render_ms=ensemble["render_ms"], render_single_ms=single["render_ms"],
                 # the first frame finds the face from scratch; live, that is rare
                 track_ms=statistics.median(full[1:]), track_small_ms=statistics.median(small[1:]),
                 cores=int(m["cpu_count"] or 1), threads=threads, cpu_model=m["cpu_model"])


def recommend(frames: int = 30, threads: int | None = None, weights: Path | None = None
              ) -> tuple[Costs, Recommendation]:
    costs = measure(frames, threads, weights)
    return costs, decide(costs)


def apply(rec: Recommendation, settings) -> None:
    """Put `rec` into UserSettings `settings` (in place)."""
    settings.single_pass = rec.single_pass
    settings.tracker_size = rec.tracker_size
    settings.camera_fps = rec.camera_fps


def apply_to_store(rec: Recommendation, store=None) -> tuple[Path, Optional[str]]:
    """Write `rec` into the saved user settings (read, changed, written atomically through
    app.settings). Returns the file and the store's message about a damaged file, if any."""
    from app.settings import SettingsStore

    store = store or SettingsStore()
    settings, message = store.load_user()
    apply(rec, settings)
    store.save_user(settings)
    return store.user_path, message


def report(costs: Costs, rec: Recommendation) -> str:
    """The figures and the recommendation, as `omokage recommend` prints them."""
    return "\n".join([
        f"CPU: {costs.cpu_model} ({costs.cores} cores), engine threads: {costs.threads}",
        f"render with mirror ensemble   {costs.render_ms:7.1f} ms",
        f"render single pass            {costs.render_single_ms:7.1f} ms",
        f"tracker, full 640x480 frames  {costs.track_ms:7.1f} ms",
        f"tracker, {SMALL_TRACKER} px               {costs.track_small_ms:7.1f} ms",
        "",
        rec.reason,
    ])
