"""The real-time pipeline: source -> tracker -> mapper -> engine -> sinks.

app.build is the one place where stages are wired; the window (through the controller),
the command line and the benchmarks all call it. Live mode runs three threads (capture,
tracking+mapping, rendering+outputs) that meet in one-slot hand-offs holding only the newest
item, so a slow stage drops stale frames instead of building latency. Offline mode
(run_offline) runs the same stage methods in the caller's thread on every frame.

Everything that goes wrong in any stage is reported through one channel: the `on_notice`
callbacks get a Notice(level, stage, message). Callbacks run on pipeline threads; a GUI must
move them to its own thread (ui/ does, with Qt signals).
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

import numpy as np

from app.character import Character, CharacterError, load_character
from app.frames import FrameMeta, OneSlot, RenderedFrame, now
from app.messages import Message, MessageChannel
from app.pipeline_stats import RollingStats, Stats
from app.presets import PresetPlayer
from app.tracking.face_state import FaceState
from app.sources import CapturedFrame, NoSource, Source, SourceError
from app.still_frames import StillFrames
from engines.posespec import change_steps

log = logging.getLogger("omokage.pipeline")

RETRY_SECONDS = 2.0  # wait between attempts to reopen a failed camera
NOTICE_REPEAT_SECONDS = 5.0
# Renders a second when only the idle layer's slow motion (breathing, sway) moves the pose,
# with no face, fade, slider, preset or auto-blink changing it. 12 keeps breathing smooth:
# a breath (breathing 0..1 and back every 4 s) moves the chest by at most 4 px at 512x512
# on the default character (p99 of the optical flow 3.3 px), so at its fastest (pi/4 of
# the range a second) a frame at 12 fps moves it by 0.065 of the range, about 0.27 px; the
# sway turns the head by at most 2.7 degrees a second, 0.23 degrees a frame. Steps under
# a pixel look continuous, so more frames would show nothing more; 12 is 40% of the
# renders the 30 fps idle clock asks for. Blinks are not capped (Mapper.driven_pose): a
# 0.2 s blink at 12 fps could miss the frame where the eyes are shut.
IDLE_RENDER_FPS = 12.0
IDLE_SLACK_S = 0.003  # early arrival still counted on time (capture clock jitter)


# What the stages report: app.messages.Message(severity, stage, text, time), also readable
# as .level and .message.
Notice = Message

IDLE_TEXT = "no camera: the character idles"  # said when the input is set to none


@dataclass
class PipelineOutput:
    """What the preview gets for each rendered frame."""
    frame: RenderedFrame
    pose: dict[str, float]
    camera_bgr: Optional[np.ndarray] = None  # the source frame the pose came from
    landmarks: Optional[np.ndarray] = None  # (N, 2 or 3) normalised image coordinates


@dataclass
class _Tracked:
    meta: FrameMeta
    pose: dict[str, float]
    camera_bgr: Optional[np.ndarray]
    landmarks: Optional[np.ndarray]
    # The pose without breathing and sway (Mapper.driven_pose) as a vector; None when the
    # mapper cannot tell, and then every change renders at full rate.
    driven_vec: Optional[np.ndarray] = None


Callback = Callable[[Any], None]

# One lock per engine object, shared by every pipeline that uses it. The engine's state
# (its onnxruntime sessions, the per-character render cache, its timings) belongs to one
# caller at a time: preparing a character on a loading thread while the render thread
# renders, or an old pipeline's worker still preparing while a new pipeline renders with
# the same engine, would otherwise run it from two threads at once.
_ENGINE_LOCKS: "weakref.WeakKeyDictionary[Any, threading.Lock]" = weakref.WeakKeyDictionary()
_ENGINE_LOCKS_GUARD = threading.Lock()


def engine_lock(engine: Any) -> threading.Lock:
    """The lock that serialises every call into `engine` (prepare and render)."""
    with _ENGINE_LOCKS_GUARD:
        lock = _ENGINE_LOCKS.get(engine)
        if lock is None:
            lock = _ENGINE_LOCKS[engine] = threading.Lock()
        return lock



class Pipeline:
    """Use app.build.build() to make one. Thread-safe controls: set_source, set_character,
    load_character_async, pin/unpin, calibrate, recenter, set_sinks, stop."""

    def __init__(self, engine, tracker, mapper, character: Character | None = None,
                 source: Source | None = None, sinks: Iterable = ()) -> None:
        self.engine = engine
        self.tracker = tracker
        self.mapper = mapper
        self.pose_spec = engine.pose_spec
        self.on_frame: list[Callable[[PipelineOutput], None]] = []
        self.on_notice: list[Callable[[Notice], None]] = []
        self.on_character: list[Callable[[Character], None]] = []
        self.on_source_end: list[Callable[[], None]] = []
        self._sinks = list(sinks)
        self._lock = threading.RLock()  # guards mapper, character, sinks
        self._engine_lock = engine_lock(engine)
        # Character loads run in worker threads the pipeline owns: close() waits for them
        # and after close none of them touches the engine or calls back (the window that
        # asked may be gone, and a thread inside onnxruntime at exit crashes the process).
        self._workers: set[threading.Thread] = set()
        self._closed = threading.Event()
        self._still_running: list[threading.Thread] = []  # set by stop()
        self._character: Character | None = None
        self._prepared = None
        self._pending_source: Source | None = source
        self._idle_text = IDLE_TEXT
        self._source_changed = threading.Event()
        self._source_changed.set()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._captured: OneSlot[CapturedFrame] = OneSlot()
        self._tracked: OneSlot[_Tracked] = OneSlot()
        self._render_now = threading.Event()  # slider moved or character changed
        self._paused = threading.Event()  # set_paused(): nothing is tracked or rendered
        self._last_vec: np.ndarray | None = None
        self._last_driven: np.ndarray | None = None  # driven_vec of the last render
        self.idle_fps = IDLE_RENDER_FPS
        self._idle_due = -float("inf")  # capture time from which an idle-only frame may render
        # The change in each parameter worth a render, in its own units: the steps the
        # engine's stage reuse uses (posespec.change_steps), so one rule says what is visible.
        self._steps = change_steps(self.pose_spec) * np.array([p.hi - p.lo for p in self.pose_spec.params],
                                                              np.float32)
        self._win = RollingStats()
        self._counts = {"in": 0, "out": 0, "skipped": 0, "reused": 0, "idle_capped": 0}
        self._still = StillFrames()
        self.last_face = None
        # Every stage reports into one channel (repeats thinned out, each stage's current
        # problem kept); on_notice listeners get what passes.
        self.messages = MessageChannel(NOTICE_REPEAT_SECONDS)
        self.messages.subscribe(self._dispatch_notice)
        self.source_name = ""  # the input now delivering frames ("" when idling)
        self.last_pose: dict[str, float] = self.pose_spec.defaults()
        # Expression presets fade in over the mapped pose; hotkeys trigger them.
        self.presets = PresetPlayer(self.pose_spec)
        self.governor = None  # set_governor(); live threads only
        if character is not None:
            self.set_character(character)

    # ---- adaptive quality ------------------------------------------------------------
    def set_governor(self, governor) -> None:
        """Let `governor` (app.governor.Governor) lower and restore the engine's mirror
        ensemble and the tracker's input size from the live frame times. It never goes
        above what the user chose: single pass stays single pass, a small tracker input
        stays small."""
        self._user_mirror = bool(getattr(self.engine, "mirror_ensemble", False))
        self._user_track_size = getattr(self.tracker, "input_size", None)
        self.governor = governor
        if governor is not None:
            governor.on_change = self._apply_level
            self._apply_level(governor.level)

    def set_user_quality(self, mirror_ensemble: bool, tracker_size: int | None) -> None:
        """The user's own choice changed while running (the recommended settings applied):
        the mirror ensemble on or off and the tracker's input size (None: full frames).
        The governor's level applies within it, as it does from the start."""
        from app.governor import LEVELS

        self._user_mirror = bool(mirror_ensemble) and hasattr(self.engine, "mirror_ensemble")
        self._user_track_size = tracker_size or None
        self._apply_level(self.governor.level if self.governor is not None else LEVELS[0])

    def _apply_level(self, level) -> None:
        if hasattr(self.engine, "mirror_ensemble"):
            self.engine.mirror_ensemble = self._user_mirror and level.mirror_ensemble
        if self.tracker is not None and hasattr(self.tracker, "input_size"):
            sizes = [s for s in (self._user_track_size, level.tracker_size) if s]
            self.tracker.input_size = min(sizes) if sizes else None
        log.info("adaptive quality: %s", level.name)

    def _govern(self, meta: FrameMeta) -> None:
        """One rendered frame's busy time: the slower of its tracking and its rendering
        (they run in parallel threads, so the slower one sets the frame rate)."""
        gov = self.governor
        if gov is None:
            return
        tm = meta.timings_ms
        track = tm.get("track_ms", tm.get("still_ms", 0.0)) + tm.get("map_ms", 0.0)
        draw = tm.get("render_ms", 0.0) + tm.get("outputs_ms", 0.0)
        if self._counts["out"] % 30 == 0:
            fps = self._win.rate("in", now())
            if fps >= 5.0:
                gov.set_budget(1000.0 / fps)
        gov.observe(max(track, draw))

    # ---- notifications -------------------------------------------------------------
    def notify(self, level: str, stage: str, message: str) -> None:
        """Report into the channel: level info, success, warning or error."""
        self.messages.report(level, stage, message)

    def _dispatch_notice(self, notice: Message) -> None:
        for cb in list(self.on_notice):
            try:
                cb(notice)
            except Exception:  # a broken listener must not stop the pipeline
                log.exception("notice callback failed")

    # ---- character -----------------------------------------------------------------
    @property
    def character(self) -> Character | None:
        return self._character

    def set_character(self, character: Character) -> None:
        """Prepare `character` for the engine and show it. On failure the previous one
        stays and the error is raised (callers on the GUI side use load_character_async).
        After close() it does nothing."""
        with self._engine_lock:
            if self._closed.is_set():
                return
            prepared = self.engine.prepare(character.rgba, generated=character.generated)
        with self._lock:
            self._character, self._prepared = character, prepared
            self._last_vec = None
        self._render_now.set()
        for cb in list(self.on_character):
            cb(character)

    def load_character_async(self, path, done: Callable[[Character | None], None] | None = None
                             ) -> threading.Thread:
        """Decode, prepare and switch to the image at `path` in a worker thread. Errors go to
        the notice channel and leave the current character in place."""
        def work():
            ch = None
            try:
                ch = load_character(path)
                if self._closed.is_set():
                    return
                self.set_character(ch)
                if self._closed.is_set():
                    return
                # Success ends an earlier "Character not loaded" problem of this stage.
                self.notify("success", "character", f"{ch.name} loaded")
                for note in ch.notes:
                    self.notify("info", "character", f"{ch.name}: {note}")
            except CharacterError as exc:
                ch = None
                self.notify("error", "character", f"Character not loaded: {exc}")
            except Exception as exc:  # engine errors (EngineError) and anything unforeseen
                ch = None
                self.notify("error", "character", f"Character not loaded: {exc}")
            if done is not None and not self._closed.is_set():
                done(ch)

        def run():
            try:
                work()
            finally:
                with self._lock:
                    self._workers.discard(threading.current_thread())
        t = threading.Thread(target=run, name="omokage-load-character", daemon=True)
        with self._lock:
            self._workers.add(t)
        t.start()
        return t

    # ---- controls ------------------------------------------------------------------
    def set_source(self, source: Source | None, idle_text: str | None = None) -> None:
        """Switch input while running; None means no input (idle animation only), said with
        `idle_text` when given (why there is none), so the user reads it once."""
        self._idle_text = idle_text or IDLE_TEXT
        self._pending_source = source
        self._source_changed.set()

    def set_paused(self, paused: bool) -> None:
        """Paused, frames still come from the source but are dropped before tracking, so
        nothing is tracked or rendered and the outputs keep their last picture; used while
        app.recommend measures this machine, which the live pipeline would disturb."""
        if paused:
            self._paused.set()
        else:
            self._paused.clear()
            self._render_now.set()  # draw the current pose at once

    def set_sinks(self, sinks: Iterable) -> None:
        with self._lock:
            self._sinks = list(sinks)

    @property
    def sinks(self) -> list:
        return list(self._sinks)

    def pin(self, name: str, value: float) -> None:
        with self._lock:
            self.mapper.pin(name, value)
        self._render_now.set()

    def unpin(self, name: str) -> None:
        with self._lock:
            self.mapper.unpin(name)
        self._render_now.set()

    def calibrate(self) -> bool:
        """Take the last tracked face as neutral. False if no face is in view."""
        face = self.last_face
        if face is None or not _face_found(face):
            self.notify("warning", "mapping", "Calibration needs a face in view of the camera.")
            return False
        with self._lock:
            self.mapper.calibrate(face)
        return True

    def recenter(self) -> None:
        with self._lock:
            self.mapper.recenter()

    def with_mapper(self, fn: Callable[[Any], Any]) -> Any:
        """Run fn(mapper) while no frame is being mapped (e.g. to change smoothing)."""
        with self._lock:
            return fn(self.mapper)

    def stats(self) -> Stats:
        w, t = self._win, now()
        stage_ms = {k: w.median(k) for k in w.keys() if k.endswith("_ms")
                    and k != "latency_ms"}
        return Stats(
            fps=w.rate("out", t), source_fps=w.rate("in", t),
            latency_ms=w.median("latency_ms"), latency_p95_ms=w.pct("latency_ms", 95),
            stage_ms=stage_ms, frames_in=self._counts["in"], frames_out=self._counts["out"],
            skipped=self._counts["skipped"], idle_capped=self._counts["idle_capped"],
            reused=self._counts["reused"], dropped=self._captured.dropped + self._tracked.dropped,
            face_found=bool(self.last_face is not None and _face_found(self.last_face)),
            quality=self.governor.level.name if self.governor is not None else "",
            source=self.source_name,
        )

    def render_pose(self, pose: dict[str, float]) -> np.ndarray:
        """One still RGBA frame of the current character in `pose` (clamped to the pose
        spec), rendered now on the calling thread; no outputs, no callbacks."""
        with self._lock:
            prepared = self._prepared
        if prepared is None:
            raise CharacterError("no character is loaded")
        with self._engine_lock:
            return self.engine.render(prepared, self.pose_spec.clamp(pose))

    def latencies_ms(self) -> list[float]:
        return self._win.snapshot("latency_ms")

    # ---- stages (used by both live threads and run_offline) --------------------------
    def track(self, cap: CapturedFrame, t_map: float | None = None) -> _Tracked:
        meta = FrameMeta(cap.index, cap.capture_ts)
        face, landmarks = FaceState.lost(cap.capture_ts), None
        if cap.bgr is not None and self.tracker is not None:
            t0 = now()
            last = self.last_face
            if t_map is None and last is not None and self._still.same(cap.bgr, t0):
                # The picture has not changed since the last tracked frame: same face.
                face = dataclasses.replace(last, capture_ts=cap.capture_ts)
                self._counts["reused"] += 1
                meta.timings_ms["still_ms"] = (now() - t0) * 1e3
            else:
                # Offline (t_map given) the tracker's clock is the media time too, so its
                # own smoothing does not depend on how fast this machine processes frames.
                face = self.tracker.process(cap.bgr, cap.capture_ts if t_map is None else t_map)
                meta.timings_ms["track_ms"] = (now() - t0) * 1e3
            landmarks = getattr(face, "landmarks", None)
            self.last_face = face
        elif cap.bgr is None:
            self.last_face = None
        t0 = now()
        with self._lock:
            pose = self.mapper.update(face, cap.capture_ts if t_map is None else t_map)
            driven = getattr(self.mapper, "driven_pose", None)
        meta.timings_ms["map_ms"] = (now() - t0) * 1e3
        driven_vec = self.pose_spec.to_vector(driven) if driven is not None else None
        return _Tracked(meta, dict(pose), cap.bgr, landmarks, driven_vec)

    def render(self, item: _Tracked, force: bool = False) -> PipelineOutput | None:
        """Render and send to outputs; None when the pose did not change (skipped) or only
        breathing and sway moved it and such a frame was drawn less than 1/idle_fps ago
        (capped). `force` renders whatever changed."""
        presets = self.presets.active
        if presets:
            item = dataclasses.replace(item, pose=self.presets.apply(item.pose))
        vec = self.pose_spec.to_vector(item.pose)
        with self._lock:
            prepared, sinks = self._prepared, list(self._sinks)
            unchanged = (self._last_vec is not None and not force and np.all(
                np.abs(vec - self._last_vec) <= self._steps))
            if prepared is None:
                return None
            if unchanged:
                self._counts["skipped"] += 1
                return None
            if not self._idle_turn(item, force or presets):
                self._counts["idle_capped"] += 1
                return None
            self._last_vec, self._last_driven = vec, item.driven_vec
        meta = item.meta
        t0 = now()
        try:
            with self._engine_lock:
                rgba = self.engine.render(prepared, item.pose)
        except Exception:
            with self._lock:
                self._last_vec = self._last_driven = None  # so the same pose is tried again
            raise
        meta.timings_ms["render_ms"] = (now() - t0) * 1e3
        frame = RenderedFrame(rgba, meta)
        t0 = now()
        for sink in sinks:
            try:
                sink.send(frame)
            except Exception as exc:
                self.notify("error", "output", f"{getattr(sink, 'name', 'output')}: {exc}")
        meta.timings_ms["outputs_ms"] = (now() - t0) * 1e3
        self.last_pose = item.pose
        out = PipelineOutput(frame, item.pose, item.camera_bgr, item.landmarks)
        for cb in list(self.on_frame):
            try:
                cb(out)
            except Exception:
                log.exception("frame callback failed")
        return out

    def _idle_turn(self, item: _Tracked, driven: bool) -> bool:
        """Whether this frame may render (caller holds self._lock). A frame whose driven
        pose (face, fade, pins, blinks) moved since the last render, or a forced or preset
        frame, always may; one that only breathing and sway changed may when it is due on a
        grid of 1/idle_fps on the capture clock. The grid, not the gap since the last
        render, keeps the rate at idle_fps when the source's ticks jitter around the slot."""
        interval = 1.0 / self.idle_fps if self.idle_fps > 0 else 0.0
        ts = item.meta.capture_ts
        idle_only = (not driven and item.driven_vec is not None and self._last_driven is not None
                     and np.all(np.abs(item.driven_vec - self._last_driven)
                                <= self._steps))
        if not idle_only:
            self._idle_due = ts + interval
            return True
        if ts < self._idle_due - IDLE_SLACK_S:
            return False
        # On time: the next slot on the grid. Late (a slow frame, or the first idle frame
        # after tracked motion): start the grid again, at least half a slot from here.
        self._idle_due = max(self._idle_due + interval, ts + 0.5 * interval)
        return True

    def _record(self, meta: FrameMeta) -> None:
        t = now()
        self._counts["out"] += 1
        self._win.tick("out", t)
        self._win.add("latency_ms", (t - meta.capture_ts) * 1e3)
        for k, v in meta.timings_ms.items():
            self._win.add(k, v)

    # ---- live threads --------------------------------------------------------------
    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        for target, name in ((self._capture_loop, "capture"), (self._track_loop, "track"),
                             (self._render_loop, "render")):
            t = threading.Thread(target=target, name=f"omokage-{name}", daemon=True)
            t.start()
            self._threads.append(t)

    @property
    def running(self) -> bool:
        return bool(self._threads) and not self._stop.is_set()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop the threads and close the outputs. Never waits more than ~`timeout`."""
        self._stop.set()
        self._source_changed.set()
        self._render_now.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                log.warning("%s did not stop within %.1f s (blocked in a device?)", t.name,
                            timeout)
        # Threads still inside a device, the tracker or the engine after the wait.
        self._still_running = [t for t in self._threads if t.is_alive()]
        self._threads = []
        for sink in self.sinks:
            try:
                sink.close()
            except Exception as exc:
                self.notify("warning", "output", f"closing {getattr(sink, 'name', '?')}: {exc}")

    def close(self, timeout: float = 30.0) -> None:
        """Stop, wait (bounded) for character loads still running, then close the tracker.
        A thread still busy after the wait is left to finish on its own rather than having
        its tracker pulled away under it; it never calls back or starts engine work."""
        self._closed.set()
        self.stop()
        if self.governor is not None:  # an engine reused by the next pipeline gets the user's choice back
            self.governor.on_change = None
            self.governor = None
            if hasattr(self.engine, "mirror_ensemble"):
                self.engine.mirror_ensemble = self._user_mirror
        deadline = time.monotonic() + timeout
        with self._lock:
            workers = list(self._workers)
        for t in workers:
            t.join(max(0.0, deadline - time.monotonic()))
        busy = [t.name for t in workers if t.is_alive()]
        if busy:
            log.warning("%s still running after close (decoding a large picture?)",
                        ", ".join(busy))
        if self.tracker is not None and hasattr(self.tracker, "close"):
            if any(t.name == "omokage-track" for t in self._still_running):
                log.warning("the tracking thread did not stop; its tracker is left open")
            else:
                self.tracker.close()

    def _capture_loop(self) -> None:
        source: Source | None = None
        idle = NoSource(30.0)
        failed_at: float | None = None
        while not self._stop.is_set():
            if self._source_changed.is_set():
                self._source_changed.clear()
                if source is not None:
                    _close_quietly(source)
                source, failed_at = self._pending_source, None
                if source is None:  # chosen, not a failure: an earlier source error is over
                    self.notify("info", "source", self._idle_text)
                elif self._open(source):
                    self.notify("success", "source", f"{source.name}: receiving frames")
                else:
                    failed_at = now()
            self.source_name = source.name if source is not None and failed_at is None else ""
            if source is None or failed_at is not None:
                if failed_at is not None and now() - failed_at >= RETRY_SECONDS:
                    failed_at = None if self._open(source, retry=True) else now()
                    continue
                # Clock ticks keep the idle layer alive; they are not input frames.
                self._put_captured(idle.read(), idle=True)
                continue
            try:
                cap = source.read()
            except SourceError as exc:
                self.notify("error", "source", f"{exc}; retrying every {RETRY_SECONDS:.0f} s")
                _close_quietly(source)
                failed_at = now()
                continue
            except Exception as exc:  # OpenCV errors from a device that vanished
                self.notify("error", "source", f"source failed: {exc}")
                _close_quietly(source)
                failed_at = now()
                continue
            if cap is None:
                self.notify("info", "source", "the video ended")
                _close_quietly(source)
                source = None
                for cb in list(self.on_source_end):
                    cb()
                continue
            self._put_captured(cap)
        if source is not None:
            _close_quietly(source)

    def _put_captured(self, cap: CapturedFrame, idle: bool = False) -> None:
        self._counts["in"] += 1
        self._win.tick("idle" if idle else "in", now())
        self._captured.put(cap)

    def _open(self, source: Source, retry: bool = False) -> bool:
        try:
            source.open()
            if retry:
                self.notify("success", "source", f"{source.name} is back")
            return True
        except SourceError as exc:
            if not retry:
                self.notify("error", "source",
                            f"{exc} Showing the idle animation; retrying every "
                            f"{RETRY_SECONDS:.0f} s.")
            return False
        except Exception as exc:
            self.notify("error", "source", f"{source.name} could not be opened: {exc}")
            return False

    def _track_loop(self) -> None:
        while not self._stop.is_set():
            cap = self._captured.take(timeout=0.1)
            if cap is None or self._paused.is_set():
                continue
            try:
                self._tracked.put(self.track(cap))
            except Exception as exc:
                self.notify("error", "tracking", f"tracking failed: {exc}")
                time.sleep(0.2)

    def _render_loop(self) -> None:
        while not self._stop.is_set():
            item = self._tracked.take(timeout=0.05)
            force = self._render_now.is_set()
            if item is None:
                # The mapper runs on the tracking thread only, on the capture clock: a
                # slider move or a new character is drawn with the next tracked frame,
                # which the capture loop delivers at least at the idle rate.
                continue
            self._render_now.clear()
            try:
                out = self.render(item, force=force)
            except Exception as exc:
                self.notify("error", "engine", f"rendering failed: {exc}")
                time.sleep(0.2)
                continue
            if out is not None:
                self._record(out.frame.meta)
                self._govern(out.frame.meta)

    # ---- offline -------------------------------------------------------------------
    def run_offline(self, source: Source,
                    progress: Callable[[int, int], None] | None = None) -> int:
        """Every frame of `source` (opened here) through every stage in this thread, with
        the mapper on the video's own clock. Returns the number of frames rendered."""
        source.open()
        total = getattr(source, "frame_count", 0)
        n = 0
        try:
            while (cap := source.read()) is not None:
                t_video = cap.index / source.fps
                item = self.track(CapturedFrame(cap.bgr, cap.capture_ts, cap.index), t_video)
                out = self.render(item, force=True)  # a clip needs every frame
                if out is not None:
                    self._record(out.frame.meta)
                n += 1
                if progress is not None:
                    progress(n, total)
        finally:
            _close_quietly(source)
        return n


def _close_quietly(source: Source) -> None:
    try:
        source.close()
    except Exception:
        log.exception("closing source failed")


def _face_found(face) -> bool:
    return bool(getattr(face, "tracked", False))
