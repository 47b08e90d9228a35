"""The plain-Python controller the window talks to (no Qt here).

It owns the settings and the pipeline (built by app.build.build, like every command)
and offers one method per user action. Slow work (loading the engine, opening a camera or
an output, decoding a character) runs in worker threads; results and problems come back
through plain callbacks, which ui/ moves onto the GUI thread. No method here blocks on
inference, devices or files for long, so the GUI may call any of them directly.
"""
from __future__ import annotations

import logging
import threading
import time
import typing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Optional

from app.character import Character, CharacterError, load_character
from app.build import PipelineOptions, build
from app.messages import Message, MessageChannel
from app.pipeline import Notice, Pipeline, PipelineOutput
from app.pipeline_stats import Stats
from app.outputs import OutputManager, OutputState, OutputStatus, SinkHooks
from app.presets import BUILTIN_PRESETS, Preset, PresetError, PresetStore, preset_from_pose
from app.settings import CharacterSettings, SettingsSaver, SettingsStore
from app.sources import (CameraInfo, CameraSource, Source, VideoFileSource, list_cameras,
                         make_source)
from engines.resources import default_character

log = logging.getLogger("omokage.controller")

DEFAULT_CHARACTER = default_character()  # inside the installed package, or the repo's assets/
OUTPUTS = ("virtual_camera", "obs_source", "clip_recorder")


@dataclass
class ControllerOptions:
    character: Optional[Path] = None  # overrides the last one used
    source: Optional[str] = None  # a make_source() spec; overrides the saved camera
    weights: Optional[Path] = None
    threads: Optional[int] = None
    single_pass: bool = False  # no mirror ensemble, whatever the settings say
    settings_dir: Optional[Path] = None
    engine: Any = None  # an already loaded engine (tests and the CLI reuse one)
    # Lists the cameras that can be opened (app.sources.list_cameras); tests pass a fake.
    list_cameras: Optional[Callable[[], list[CameraInfo]]] = None
    # Opens a camera index as a cv2.VideoCapture (CameraSource's OpenCV edge); tests pass one.
    camera_capture: Optional[Callable[[int], Any]] = None


class Controller:
    def __init__(self, options: ControllerOptions | None = None) -> None:
        self.options = options or ControllerOptions()
        self.store = SettingsStore(self.options.settings_dir)
        # No settings file yet: the first start, when the window offers to measure this
        # computer and recommend settings (app/recommend.py).
        self.first_start = not self.store.user_path.exists()
        self.settings, msg = self.store.load_user()
        self.preset_store = PresetStore(self.store.dir / "presets.json")
        self.char_settings = CharacterSettings()
        self._char_path: Path | None = None  # the character char_settings belongs to
        self.saver = SettingsSaver(self.store)
        self._autosaving = False  # an autosave() write is running
        self._save_failed = False  # told the user once; quiet until a save works again
        self.pipeline: Pipeline | None = None
        # Outputs open and close through one serial worker that publishes their state.
        self.outputs = OutputManager(self._make_sink, OUTPUTS, on_status=self._output_status,
                                     on_sinks=self._sinks_changed)
        # Listeners; called from worker threads.
        self.on_ready: list[Callable[[], None]] = []
        self.on_frame: list[Callable[[PipelineOutput], None]] = []
        self.on_notice: list[Callable[[Notice], None]] = []
        self.on_character: list[Callable[[Character], None]] = []
        self.on_outputs: list[Callable[[dict[str, bool]], None]] = []
        # The one message channel: the pipeline's stages, the output worker, every worker
        # thread (threading.excepthook, from start()) and the controller itself report here;
        # it keeps each stage's current problem for the window.
        self.messages = MessageChannel()
        self.messages.subscribe(self._forward_message)
        self._undo_thread_hook = lambda: None
        self._pending_notices = [Notice("warning", "settings", msg)] if msg else []
        self._lock = threading.Lock()
        self._closed = False
        self._exporting = False  # a sticker pack is being written
        # What the pipeline reads now, as a picker entry ("none", a camera index, video:PATH),
        # so the window's camera list shows the source that is really open.
        self.source_spec = "none"
        self.camera_list: list[CameraInfo] | None = None  # the last probe, None before one
        self._idle_text: str | None = None  # why the start found no camera, for the pipeline

    # ---- lifecycle -------------------------------------------------------------------
    def start(self, wait: bool = False) -> threading.Thread:
        """Load the engine, tracker and character and start the pipeline, in a worker."""
        self._undo_thread_hook = self.messages.install_thread_hook()
        t = threading.Thread(target=self._start, name="omokage-start", daemon=True)
        t.start()
        if wait:
            t.join()
        return t

    def _start(self) -> None:
        for n in self._pending_notices:
            self._notice(n)
        self._pending_notices = []
        try:
            pipe = build(self.pipeline_options(self._first_character()))
            character = pipe.character
        except Exception as exc:
            self._notice(Notice("error", "engine", f"Omokage could not start: {exc}"))
            return
        pipe.on_frame.extend([self._frame])
        pipe.on_notice.append(self._notice)
        pipe.on_character.append(self._character_changed)
        pipe.set_sinks(self.outputs.sinks().values())
        # The initial source goes in before the pipeline is published: from then on the
        # user's choice (set_source) is the last word, never replaced by the start's.
        self._idle_text = None
        pipe.set_source(self._initial_source(), self._idle_text)
        with self._lock:
            if self._closed:
                pipe.close()
                return
            self.pipeline = pipe
        if character is not None:
            self._character_changed(character)
        self._apply_pins()
        self._restore_calibration()
        pipe.start()
        for cb in list(self.on_ready):
            cb()
        for name in OUTPUTS[:2]:
            if getattr(self.settings.outputs, name, False):
                self.set_output(name, True)

    def pipeline_options(self, character: Character | None = None) -> PipelineOptions:
        """What the window's pipeline is built from: the command line's choices over the
        saved settings (the same builder as every command)."""
        o, s = self.options, self.settings
        return PipelineOptions(weights=o.weights, threads=o.threads or s.threads or None,
                               single_pass=o.single_pass or s.single_pass, engine=o.engine,
                               character=character, mirror=s.mirror,
                               tracker_size=s.tracker_size or None,
                               governor=True,  # adaptive quality (app/governor.py)
                               mapper_config=self._mapper_config())

    def _first_character(self) -> Character | None:
        candidates = [self.options.character, self.settings.last_character or None,
                      DEFAULT_CHARACTER]
        for path in candidates:
            if not path:
                continue
            try:
                return load_character(path)
            except CharacterError as exc:
                self._notice(Notice("warning", "character", str(exc)))
        self._notice(Notice("error", "character",
                            "No character could be loaded; open one with File > Open."))
        return None

    def _initial_source(self) -> Source | None:
        """The source to start with. A saved camera is opened only if the probe lists it;
        with none listed the character idles (said once, as information: no camera is a
        normal way to use the app); with others listed the first one is used, so the camera
        list and the opened camera agree. A source given on the command line is opened
        as asked."""
        spec = self.options.source or self.settings.camera
        if not self.options.source and _is_camera(spec):
            spec = self._available_camera(spec)
        try:
            source = self._source_for(spec)
        except Exception as exc:
            self._notice(Notice("error", "source", str(exc)))
            return None
        self.source_spec = _picker_entry(spec, source)
        return source

    def _available_camera(self, saved: str) -> str:
        try:
            cams = self.cameras()
        except Exception:  # noqa: BLE001 - a failed probe must not stop the start
            log.exception("camera probe failed; opening the saved camera")
            return saved
        if not cams:
            # Said by the pipeline when it starts idling: one message, information.
            self._idle_text = ("No camera found: the character idles. Plug one in and press "
                               "↻ to look again, or drive it from a video (File > Drive "
                               "from a video file).")
            return "none"  # the saved choice stays for the next start
        cam = saved.split(":", 1)[1] if saved.startswith("camera:") else saved
        for c in cams:
            if cam in (str(c.index), c.name):
                return str(c.index)
        self.settings.camera = str(cams[0].index)
        return self.settings.camera

    def _source_for(self, spec: str | None) -> Source | None:
        """A source for a picker entry: none, a camera index or name, video:PATH (looped,
        paced like a camera) or image:PATH."""
        s = self.settings
        if spec in (None, "", "none"):
            return None
        if spec.startswith("video:"):
            return VideoFileSource(spec[6:], realtime=True, loop=True)
        if spec.startswith("image:"):
            return make_source(spec)
        cam = spec.split(":", 1)[1] if spec.startswith("camera:") else spec
        return CameraSource(cam, s.camera_width, s.camera_height, s.camera_fps,
                            capture_factory=self.options.camera_capture)

    def shutdown(self) -> None:
        """Save settings, close outputs and stop the pipeline (bounded wait)."""
        with self._lock:
            self._closed = True
            pipe = self.pipeline
        self.save_settings()
        if pipe is not None:
            pipe.close()
        self.outputs.close()
        self._undo_thread_hook()

    # ---- settings --------------------------------------------------------------------
    # Every change is on disk within about a second (autosave), not only after a clean
    # exit: a crash, a kill or a power cut loses at most the last second of changes.
    def save_settings(self) -> None:
        """Save now, on the calling thread (at exit and before a character switch)."""
        if self.pipeline is not None and self._char_path is not None:
            mapper = self._mapper_dict()
            with self._lock:
                if self._char_path is not None:
                    self.char_settings.mapper = mapper
        self._write_settings(self._snapshot())

    def autosave(self) -> bool:
        """Save in a worker thread if anything changed since the last save; returns whether
        a save was started. Call it from the thread that changes the settings (the window
        calls it every second from its GUI thread), so the copy sees no half-made change."""
        with self._lock:
            if self._closed or self._autosaving:
                return False
            if not self.saver.changed(self.settings, self._char_path, self.char_settings):
                return False
            self._autosaving = True
        snap = self._snapshot()

        def work():
            try:
                self._write_settings(snap)
            finally:
                self._autosaving = False
        threading.Thread(target=work, name="omokage-autosave", daemon=True).start()
        return True

    def _snapshot(self):
        with self._lock:  # the character path and its settings change together
            return self.saver.take(self.settings, self._char_path, self.char_settings)

    def _write_settings(self, snap) -> None:
        try:
            self.saver.write(snap)
            self._save_failed = False
        except OSError as exc:
            if not self._save_failed:
                self._save_failed = True
                self._notice(Notice("error", "settings", f"Settings could not be saved: {exc}"))

    # ---- callbacks from the pipeline -------------------------------------------------
    def _frame(self, out: PipelineOutput) -> None:
        if self._closed:  # the window that listened is closing or gone
            return
        for cb in list(self.on_frame):
            cb(out)

    def _notice(self, notice: Message) -> None:
        if self._closed:  # the window that listened is closing or gone: only log it
            log.info("%s: %s (after shutdown)", notice.stage, notice.message)
            return
        self.messages.publish(notice)

    def problems(self) -> dict[str, Message]:
        """Each stage's current error or warning; a stage that recovered is absent."""
        return self.messages.problems()

    def _forward_message(self, notice: Message) -> None:
        for cb in list(self.on_notice):
            try:
                cb(notice)
            except Exception:
                log.exception("notice listener failed")

    def _character_changed(self, ch: Character) -> None:
        if ch.path is not None:
            self.settings.last_character = str(ch.path)
            try:
                char_settings, msg = self.store.load_character(ch.path)
            except OSError as exc:
                char_settings, msg = CharacterSettings(), str(exc)
            with self._lock:
                self.char_settings, self._char_path = char_settings, ch.path
            if msg:
                self._notice(Notice("warning", "settings", msg))
            self._apply_character_settings()
        if self._closed:
            return
        for cb in list(self.on_character):
            cb(ch)

    # ---- character -------------------------------------------------------------------
    @property
    def character(self) -> Character | None:
        return self.pipeline.character if self.pipeline else None

    @property
    def pose_spec(self):
        return self.pipeline.pose_spec if self.pipeline else None

    def load_character(self, path: str | Path,
                       done: Callable[[Character | None], None] | None = None) -> None:
        """Switch character in a worker; on error a notice is sent and the current one
        stays. Settings of the old character are saved first."""
        if self.pipeline is None:
            self._notice(Notice("warning", "character", "The engine is still loading."))
            return
        pipe = self.pipeline

        def finished(ch: Character | None) -> None:
            if done is not None and not self._closed:
                done(ch)

        def work():  # file writes and decoding stay off the caller's (GUI) thread
            self.save_settings()
            if not self._closed:
                pipe.load_character_async(path, finished).join()
        threading.Thread(target=work, name="omokage-switch-character", daemon=True).start()

    # ---- source ----------------------------------------------------------------------
    def cameras(self) -> list[CameraInfo]:
        """Probes devices (can take a second): call it from a worker thread."""
        self.camera_list = list((self.options.list_cameras or list_cameras)())
        return self.camera_list

    def set_source(self, spec: str | None) -> None:
        """Switch input: "none"/None, a camera index or name, video:PATH or image:PATH.
        Opening happens on the capture thread; failures come back as notices."""
        if self.pipeline is None:
            return
        try:
            source = self._source_for(spec)
        except Exception as exc:
            self._notice(Notice("error", "source", str(exc)))
            return
        if source is None or isinstance(source, CameraSource):
            self.settings.camera = "none" if source is None else str(source.device)
        self.source_spec = _picker_entry(spec, source)
        self.pipeline.set_source(source)

    def set_camera_mode(self, width: int, height: int, fps: int) -> None:
        """Resolution and frame rate asked of the camera; reopens a running camera."""
        s = self.settings
        s.camera_width, s.camera_height, s.camera_fps = int(width), int(height), int(fps)
        if self.pipeline is not None and s.camera not in ("", "none"):
            self.set_source(s.camera)

    # ---- recommended settings --------------------------------------------------------
    def recommend_settings(self, done: Callable[[Any, Any, Optional[str]], None]
                           ) -> threading.Thread:
        """Measure this machine and decide the settings (app.recommend) in a worker; the
        live pipeline pauses meanwhile so it does not disturb the figures. done(costs,
        recommendation, None) or done(None, None, error message), on the worker thread."""
        def work() -> None:
            from app import recommend

            pipe = self.pipeline
            if pipe is not None:
                pipe.set_paused(True)
            try:
                threads = self.options.threads or self.settings.threads or None
                costs, rec = recommend.recommend(threads=threads, weights=self.options.weights)
            except Exception as exc:  # a broken install, no face model: say so, keep going
                log.warning("recommend settings: %s", exc)
                done(None, None, f"Could not measure this computer: {exc}")
                return
            finally:
                if pipe is not None:
                    pipe.set_paused(False)
            done(costs, rec, None)
        t = threading.Thread(target=work, name="omokage-recommend", daemon=True)
        t.start()
        return t

    def apply_recommendation(self, rec) -> None:
        """Use and save recommended settings: the mirror ensemble and the tracker size take
        effect at once, the camera is asked for the new frame rate (reopened if one is open),
        and the settings file is written in a worker."""
        from app import recommend

        s = self.settings
        recommend.apply(rec, s)
        if self.pipeline is not None:
            self.pipeline.set_user_quality(not (self.options.single_pass or s.single_pass),
                                           s.tracker_size or None)
        self.set_camera_mode(s.camera_width, s.camera_height, s.camera_fps)
        self._notice(Notice("info", "settings", f"Recommended settings applied: {rec.summary()}"))
        self.autosave()

    # ---- pose controls ---------------------------------------------------------------
    def pin(self, name: str, value: float) -> None:
        """Hold a parameter at `value` over tracking (a slider moved)."""
        self.char_settings.pins[name] = float(value)
        if self.pipeline is not None:
            self.pipeline.pin(name, value)

    def unpin(self, name: str) -> None:
        self.char_settings.pins.pop(name, None)
        if self.pipeline is not None:
            self.pipeline.unpin(name)

    @property
    def pins(self) -> dict[str, float]:
        return dict(self.char_settings.pins)

    def _apply_pins(self) -> None:
        if self.pipeline is None:
            return
        spec = self.pipeline.pose_spec
        for name in self.pipeline.with_mapper(lambda m: list(m.pinned)):
            if name not in self.char_settings.pins:
                self.pipeline.unpin(name)
        for name, value in self.char_settings.pins.items():
            if name in spec.names:
                self.pipeline.pin(name, value)

    def calibrate(self) -> bool:
        """Take the face in view as neutral; saved per user (it is the user's face)."""
        if not (self.pipeline and self.pipeline.calibrate()):
            return False
        self.settings.calibration = self.pipeline.with_mapper(lambda m: m.calibration.to_dict())
        return True

    def _restore_calibration(self) -> None:
        from app.mapping import Calibration

        if not self.settings.calibration or self.pipeline is None:
            return
        try:
            cal = Calibration.from_dict(self.settings.calibration)
        except Exception as exc:
            self._notice(Notice("warning", "settings", f"saved calibration ignored: {exc}"))
            return
        self.pipeline.with_mapper(lambda m: setattr(m, "calibration", cal))

    def set_mirror(self, on: bool) -> None:
        """Mirror the camera like a selfie view (the character moves as your reflection)."""
        on = bool(on)
        if on == self.settings.mirror:
            return
        self.settings.mirror = on
        pipe = self.pipeline
        if pipe is None:
            return
        def flip(mapper):  # runs while no frame is being mapped
            if pipe.tracker is not None:
                pipe.tracker.mirror = on
            mapper.calibration = mapper.calibration.mirrored()
            return mapper.calibration.to_dict()

        calibration = pipe.with_mapper(flip)
        if self.settings.calibration:
            self.settings.calibration = calibration

    def recenter(self) -> None:
        if self.pipeline is not None:
            self.pipeline.recenter()

    # ---- mapper settings (smoothing etc.) --------------------------------------------
    def _mapper_config(self):
        from app.mapping import MapperConfig

        data = self.char_settings.mapper
        try:
            return MapperConfig.from_dict(data) if data else MapperConfig()
        except Exception as exc:
            self._notice(Notice("warning", "settings", f"mapper settings reset: {exc}"))
            return MapperConfig()

    def _mapper_dict(self) -> dict:
        return self.pipeline.with_mapper(lambda m: m.config.to_dict())

    def mapper_options(self) -> dict[str, Any]:
        """The mapper's current settings (MapperConfig.to_dict())."""
        return self._mapper_dict() if self.pipeline else {}

    def set_mapper_option(self, key: str, value: Any) -> None:
        from app.mapping import MapperConfig

        if self.pipeline is None:
            return
        data = self._mapper_dict()
        data[key] = value
        try:
            cfg = MapperConfig.from_dict(data)
        except Exception as exc:
            self._notice(Notice("error", "mapping", f"{key}: {exc}"))
            return
        self.pipeline.with_mapper(lambda m: m.set_config(cfg))
        self.char_settings.mapper = cfg.to_dict()

    def _apply_character_settings(self) -> None:
        if self.pipeline is None:
            return
        # A character with no saved mapper settings starts from the defaults, not from
        # whatever the previous character used (which would then be saved as its own).
        cfg = self._mapper_config()
        self.pipeline.with_mapper(lambda m: m.set_config(cfg))
        self._apply_pins()

    # ---- outputs ---------------------------------------------------------------------
    @property
    def sinks(self) -> dict[str, Any]:
        """The open outputs by name."""
        return self.outputs.sinks()

    def output_enabled(self, name: str) -> bool:
        return self.outputs.status(name).state == OutputState.ON

    def output_status(self, name: str) -> OutputStatus:
        """State (off, opening, on, failed, finished), message and info of an output."""
        return self.outputs.status(name)

    def output_info(self, name: str) -> str:
        """A line to show next to an output: the OBS URL, the recording file, ..."""
        st = self.outputs.status(name)
        return st.info if st.state == OutputState.ON else ""

    def set_output(self, name: str, enabled: bool) -> None:
        """Open or close an output in the output worker; the outcome comes back through
        on_outputs, problems as notices."""
        self.outputs.request(name, enabled)

    @staticmethod
    def record_formats() -> list[tuple[str, str]]:
        """(format, label) pairs for a format chooser."""
        from app.sinks.clips import FORMATS, LABELS

        return [(f, LABELS[f]) for f in FORMATS]

    def set_record_format(self, fmt: str) -> None:
        """The format of the next recording (app.sinks.clips.FORMATS), saved."""
        from app.sinks.clips import FORMATS

        if fmt not in FORMATS:
            raise ValueError(f"unknown clip format {fmt!r}; use one of {', '.join(FORMATS)}")
        self.settings.outputs.record_format = fmt

    RECORD_OPTIONS = ("size", "fps", "background", "max_seconds")

    def set_record_options(self, **options: Any) -> None:
        """Size (0: automatic), fps, background ("transparent" or "#rrggbb") and length
        limit (s) of the next recording: OutputSettings record_* fields without the prefix.
        Checked like a settings file (app/settings_schema.py) and saved; a bad value
        raises ValueError and keeps the last good choice."""
        from app import settings_schema as schema

        out = self.settings.outputs
        unknown = [k for k in options if k not in self.RECORD_OPTIONS]
        if unknown:
            raise ValueError(f"unknown recorder option(s) {', '.join(unknown)}; "
                             f"known: {', '.join(self.RECORD_OPTIONS)}")
        checked = {}
        for key, value in options.items():
            field = f"record_{key}"
            try:
                checked[field] = schema.field("OutputSettings", field, value,
                                              getattr(type(out)(), field), f"recorder {key}")
            except schema.BadValue as exc:
                raise ValueError(str(exc)) from None
        for field, value in checked.items():
            setattr(out, field, value)

    # ---- stickers ----------------------------------------------------------------------
    def export_stickers(self, folder: str | Path, options: Any = None,
                        done: Callable[[str, Optional[Path]], None] | None = None
                        ) -> threading.Thread | None:
        """Render the sticker pack (every preset, built-in and saved, as a still and a
        loop: app/stickers.py) of the character on screen into `folder` (itself when empty,
        else a new "<character>-stickers" folder in it), in a worker. The result comes back
        as a notice and through done(message, pack folder or None)."""
        from app.stickers import StickerError, default_pack_folder, write_pack

        pipe, ch = self.pipeline, self.character
        problem = ("the engine is still loading; try again in a moment" if pipe is None else
                   "no character is loaded" if ch is None else
                   "stickers are being exported already" if self._exporting else None)
        if problem:
            self._notice(Notice("warning", "stickers", f"Cannot export stickers: {problem}."))
            if done is not None:
                done(f"Cannot export stickers: {problem}.", None)
            return None
        self._exporting = True
        presets = self.presets()

        def work() -> None:
            target = None
            try:
                target = default_pack_folder(folder, ch.name)
                pack = write_pack(
                    pipe.render_pose, presets, target, options, spec=pipe.pose_spec,
                    inputs=[ch.path], character_name=ch.name,
                    progress=lambda name: self._notice(
                        Notice("info", "stickers", f"Rendering the {name} sticker…")))
                message = f"Saved {pack.count} stickers to {pack.folder}"
                self._notice(Notice("info", "stickers", message))
                result = pack.folder
            except (StickerError, CharacterError, OSError) as exc:
                message, result = f"Stickers not saved: {exc}", None
                self._notice(Notice("error", "stickers", message))
            finally:
                self._exporting = False
            if done is not None:
                done(message, result)

        t = threading.Thread(target=work, name="omokage-stickers", daemon=True)
        t.start()
        return t

    def _make_sink(self, name: str, hooks: SinkHooks) -> Any:
        """An unopened sink built from the saved choices (called by the output worker)."""
        from app.sinks import create_sink, sink_class

        cfg = _default_config(sink_class(name))
        out = self.settings.outputs

        def on_error(message: str) -> None:
            if name not in self.outputs.self_stopping:  # those come back as "failed"
                self._notice(Notice("error", "output", message))
            hooks.error(message)

        kwargs: dict[str, Any] = {"on_error": on_error}
        if name == "obs_source":
            cfg.port = out.obs_port
        elif name == "virtual_camera":
            cfg = type(cfg).from_dict(out.virtual_camera_dict())
        elif name == "clip_recorder":
            cfg = record_config(out)
            if out.record_dir:
                stamp = time.strftime("%Y%m%d-%H%M%S")
                kwargs["path"] = Path(out.record_dir) / f"omokage-{stamp}{cfg.extension}"

            def finished(path: Path) -> None:  # stopped by the user or at the time limit
                self._notice(Notice("info", "output", f"Clip saved to {path}"))
                hooks.finished(path)
            kwargs["on_finished"] = finished
        return create_sink(name, cfg, **kwargs)

    def _sinks_changed(self, sinks: list) -> None:
        if self.pipeline is not None:
            self.pipeline.set_sinks(sinks)

    def _output_status(self, st: OutputStatus) -> None:
        if st.state == OutputState.OPENING:
            return
        if st.state == OutputState.FAILED:
            self._notice(Notice("error", "output", st.message))
        if st.name in ("virtual_camera", "obs_source") and not self._closed:
            setattr(self.settings.outputs, st.name, st.state == OutputState.ON)
        self._outputs_changed()

    def set_virtual_camera_options(self, **options: Any) -> None:
        """Change the virtual camera picture (OutputSettings vcam_* fields without the
        prefix: width, height, fps, background, color, image, mirror, backend, device).
        Saved with the settings; a running virtual camera is reopened with the new choice."""
        from app.sinks.virtual_camera import VirtualCameraConfig

        out = self.settings.outputs
        unknown = [k for k in options if not hasattr(out, f"vcam_{k}")]
        if unknown:
            raise ValueError(f"unknown virtual camera option(s) {', '.join(unknown)}")
        old = {k: getattr(out, f"vcam_{k}") for k in options}
        for key, value in options.items():
            setattr(out, f"vcam_{key}", value)
        try:
            VirtualCameraConfig.from_dict(out.virtual_camera_dict())
        except (ValueError, TypeError) as exc:
            for key, value in old.items():  # keep the last working choice
                setattr(out, f"vcam_{key}", value)
            self._notice(Notice("error", "output", f"virtual camera: {exc}"))
            return
        self.outputs.reopen("virtual_camera")  # only if it is on

    @staticmethod
    def virtual_camera_backends() -> list[str]:
        """Names of the pyvirtualcam backends this system knows, for a backend chooser."""
        from pyvirtualcam.camera import BACKENDS

        return sorted(BACKENDS)

    def _outputs_changed(self) -> None:
        state = {n: self.outputs.status(n).state == OutputState.ON for n in OUTPUTS}
        for cb in list(self.on_outputs):
            cb(state)

    # ---- expression presets ----------------------------------------------------------
    def presets(self) -> dict[str, Preset]:
        """Built-in presets, then the user's saved ones (a saved name replaces a built-in)."""
        library = dict(BUILTIN_PRESETS)
        try:
            library.update(self.preset_store.load())
        except PresetError as exc:
            self._notice(Notice("warning", "presets", str(exc)))
        return library

    def toggle_preset(self, name: str) -> bool:
        """A preset hotkey: fade `name` in over tracking, or out again. Returns on/off."""
        preset = self.presets().get(name)
        if preset is None or self.pipeline is None:
            return False
        return self.pipeline.presets.toggle(preset)

    def trigger_preset(self, name: str, hold: float | None = None) -> None:
        """Fade `name` in; hold=None keeps it until release_preset(), else a tap."""
        preset = self.presets().get(name)
        if preset is not None and self.pipeline is not None:
            self.pipeline.presets.trigger(preset, hold=hold)

    def release_preset(self, name: str | None = None) -> None:
        if self.pipeline is not None:
            self.pipeline.presets.release(name)

    def set_preset_mode(self, name: str, mode: str) -> Preset:
        """Make `name`'s hotkey toggle it or show it only while held; saved in the user's
        presets file (a built-in gets a saved copy). Raises PresetError on a bad name/mode."""
        preset = self.presets().get(name)
        if preset is None:
            raise PresetError(f"no preset named {name!r}")
        changed = replace(preset, mode=mode)
        self.preset_store.save(changed)  # validates
        return changed

    def saved_preset_names(self) -> list[str]:
        """Names in the user's presets file (raises PresetError if it cannot be read)."""
        return self.preset_store.names()

    def delete_preset(self, name: str) -> Preset | None:
        """Delete the user's saved preset `name` and fade it out if it is showing.
        Returns the built-in of that name, which is back, or None. Raises PresetError if
        nothing is saved under that name (built-ins themselves cannot be deleted)."""
        if name in BUILTIN_PRESETS and name not in self.preset_store.load():
            raise PresetError(f"{name!r} is built in; only presets you saved can be deleted")
        self.preset_store.delete(name)
        self.release_preset(name)
        return BUILTIN_PRESETS.get(name)

    def save_preset(self, name: str, params: list[str] | None = None,
                    hotkey: str | None = None) -> Preset:
        """Save the pose on screen (all parameters or `params`) as preset `name`.
        Raises PresetError with a message for the user on a bad name or file."""
        if self.pipeline is None:
            raise PresetError("the engine is still loading; try again in a moment")
        preset = preset_from_pose(name, self.pipeline.last_pose, params,
                                  self.pipeline.pose_spec, hotkey=hotkey)
        self.preset_store.save(preset)
        return preset

    # ---- status ----------------------------------------------------------------------
    def stats(self) -> Stats:
        return self.pipeline.stats() if self.pipeline else Stats()


# GIF and APNG keep every frame of a recording in memory until it is saved.
IN_MEMORY_FORMATS = ("gif", "apng")
IN_MEMORY_MAX_SECONDS = 60


def record_config(out: Any) -> Any:
    """The recorder's ClipConfig from OutputSettings (format, size, fps, background,
    length limit). Raises ValueError for a combination the clip writer refuses."""
    from app.sinks.clips import ClipConfig

    colour = out.record_background
    flatten = colour != "transparent"
    rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5)) if flatten else (255, 255, 255)
    limit = float(out.record_max_seconds)
    if out.record_format in IN_MEMORY_FORMATS:
        limit = min(limit, IN_MEMORY_MAX_SECONDS)
    return ClipConfig(format=out.record_format or "gif", fps=out.record_fps,
                      size=out.record_size or None, background=rgb, flatten=flatten,
                      max_seconds=limit).validate()


def _default_config(cls: type) -> Any:
    """The config dataclass a sink class takes (its __init__'s `config` annotation)."""
    hints = typing.get_type_hints(cls.__init__)
    cfg_type = hints.get("config")
    if cfg_type is None:
        raise TypeError(f"{cls.__name__} does not declare its config type")
    cfg = cfg_type()
    if hasattr(cfg, "enabled"):
        cfg.enabled = True
    return cfg


def _is_camera(spec: str | None) -> bool:
    return spec not in (None, "", "none") and not spec.startswith(("video:", "image:"))


def _picker_entry(spec: str | None, source: Source | None) -> str:
    """The camera-picker entry for an opened source: "none", a camera index or video:PATH."""
    if source is None:
        return "none"
    if isinstance(source, CameraSource):
        return str(source.device)
    return str(spec)
