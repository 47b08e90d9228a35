"""Clips for sharing: record from the live output, or render offline from frames or poses.

Formats: looping GIF sized for stickers (1-bit transparency), APNG (full alpha), MP4 H.264
(no alpha: composited over a background colour), WebM VP9 with alpha.

Safety: bytes go to a hidden temp file in the target folder (".omokage-<name>-<id>.part"),
flushed and fsynced, and only then moved to the final name. Any failure (full disk, an
exception, a cancel) removes the temp file; an existing file is never overwritten unless
asked: the clip gets the next free name ("clip-2.gif") and the returned path says where it
went. A killed process can leave only a ".part" file, which remove_stale_partials() clears.
"""
from __future__ import annotations

import errno
import os
import queue
import secrets
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Mapping, Optional, Union

import numpy as np

from app.frames import RenderedFrame
from app.sinks import ErrorCallback, SinkError
from app.sinks.clip_writers import AvWriter, ClipWriter, PillowWriter
from app.sinks.compose import fit_rect, resize_rgba

FORMATS = ("gif", "apng", "mp4", "webm")
EXTENSIONS = {"gif": ".gif", "apng": ".apng", "mp4": ".mp4", "webm": ".webm"}
HAS_ALPHA = {"gif": True, "apng": True, "mp4": False, "webm": True}  # gif: on/off only
DEFAULT_SIZE = {"gif": 320}  # longest side; others keep the source size
PARTIAL_PREFIX = ".omokage-"
PARTIAL_SUFFIX = ".part"

Opener = Callable[[Path], BinaryIO]


class ClipError(SinkError):
    """The clip could not be written; str() says why and what to do."""


class ClipCancelled(ClipError):
    pass


@dataclass
class ClipConfig:
    format: str = "gif"
    fps: int = 25  # 25 fps = 40 ms, exact in GIF's 10 ms delay units
    size: Optional[int] = None  # longest side in px; None: 320 for GIF, source size otherwise
    background: tuple[int, int, int] = (255, 255, 255)  # MP4 only (H.264 has no alpha)
    loop: bool = True  # GIF / APNG play forever
    max_seconds: float = 20.0  # recordings stop here (GIF/APNG frames are kept in memory)

    def validate(self) -> "ClipConfig":
        if self.format not in FORMATS:
            raise ValueError(f"unknown clip format {self.format!r}; use one of {', '.join(FORMATS)}")
        if not 1 <= int(self.fps) <= 60 or int(self.fps) != self.fps:
            raise ValueError(f"clip fps {self.fps} must be a whole number from 1 to 60")
        if self.size is not None and not 16 <= int(self.size) <= 4096:
            raise ValueError(f"clip size {self.size} px must be from 16 to 4096")
        if len(self.background) != 3 or not all(0 <= int(c) <= 255 for c in self.background):
            raise ValueError(f"background colour {self.background!r} must be three values 0-255")
        if not 0 < float(self.max_seconds) <= 3600:
            raise ValueError(f"maximum length {self.max_seconds} s must be from 0 to 3600 s")
        return self

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    @property
    def has_alpha(self) -> bool:
        return HAS_ALPHA[self.format]

    def output_size(self, src_w: int, src_h: int) -> tuple[int, int]:
        """(w, h) of the clip for source frames of src_w x src_h: longest side = size, even."""
        longest = self.size or DEFAULT_SIZE.get(self.format) or max(src_w, src_h)
        scale = longest / max(src_w, src_h)
        even = lambda v: max(2, int(round(v * scale / 2)) * 2)  # H.264/VP9 want even sizes
        return even(src_w), even(src_h)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["background"] = list(self.background)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ClipConfig":
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        if "background" in kw:
            kw["background"] = tuple(int(c) for c in kw["background"])
        return cls(**kw).validate()


def default_clip_dir() -> Path:
    """The user's videos folder / Omokage (created on first recording)."""
    from platformdirs import user_videos_dir

    return Path(user_videos_dir()) / "Omokage"


# -- temp file and final move ----------------------------------------------------------
def _default_opener(path: Path) -> BinaryIO:
    return open(path, "xb")


def _next_free(final: Path, i: int) -> Path:
    return final if i == 1 else final.with_name(f"{final.stem}-{i}{final.suffix}")


def _move_into_place(tmp: Path, final: Path, overwrite: bool) -> Path:
    if overwrite:
        os.replace(tmp, final)
        return final
    for i in range(1, 10_000):
        candidate = _next_free(final, i)
        try:
            os.link(tmp, candidate)  # atomic, and fails instead of replacing a file
        except FileExistsError:
            continue
        except OSError:  # no hard links on this file system
            if candidate.exists():
                continue
            os.rename(tmp, candidate)
            return candidate
        os.unlink(tmp)
        return candidate
    raise ClipError(f"too many clips named like {final.name} in {final.parent}; choose another name")


def remove_stale_partials(directory: str | Path, min_age_s: float = 3600.0) -> int:
    """Delete temp files that a crashed or killed recording left in `directory`."""
    n = 0
    cutoff = time.time() - min_age_s
    for p in Path(directory).glob(f"{PARTIAL_PREFIX}*{PARTIAL_SUFFIX}"):
        try:
            if p.stat().st_mtime <= cutoff:
                p.unlink()
                n += 1
        except FileNotFoundError:
            pass
    return n


def _user_message(e: BaseException, directory: Path) -> str:
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return (f"The clip could not be saved: the disk is full ({directory}). Free some space "
                "or choose another folder. Earlier clips are untouched.")
    if isinstance(e, PermissionError):
        return f"The clip could not be saved: no permission to write in {directory}. Choose another folder."
    return f"The clip could not be saved: {e}"


class _ClipFile:
    """One clip being written: temp file + encoder; commit() moves it into place."""

    def __init__(self, path: str | Path, config: ClipConfig, overwrite: bool,
                 opener: Opener | None, realtime: bool) -> None:
        self.config = config.validate()
        final = Path(path).expanduser()
        if not final.suffix:
            final = final.with_suffix(config.extension)
        self.final = final.absolute()
        self.overwrite, self.realtime = overwrite, realtime
        folder = self.final.parent
        if not folder.is_dir():
            raise ClipError(f"The folder {folder} does not exist; choose an existing folder.")
        self.tmp = folder / f"{PARTIAL_PREFIX}{self.final.name}-{secrets.token_hex(4)}{PARTIAL_SUFFIX}"
        try:
            self.fp = (opener or _default_opener)(self.tmp)
        except OSError as e:
            raise ClipError(_user_message(e, folder)) from e
        self.writer: ClipWriter | None = None
        self.size: tuple[int, int] | None = None
        self.frames = 0
        self._last_pts = -1

    def add(self, rgba: np.ndarray, pts: int) -> bool:
        """Encode one frame at `pts` (1/fps units); False if it falls on an already used tick."""
        if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
            raise ValueError(f"clip frames must be HxWx4 uint8 RGBA, got {rgba.shape} {rgba.dtype}")
        if pts <= self._last_pts:
            return False
        if self.writer is None:
            self.size = self.config.output_size(rgba.shape[1], rgba.shape[0])
            fmt, fps = self.config.format, int(self.config.fps)
            if fmt in ("mp4", "webm"):
                self.writer = AvWriter(self.fp, fmt, fps, self.size, self.config.background, self.realtime)
            else:
                self.writer = PillowWriter(self.fp, fmt, fps, self.config.loop)
        self.writer.add(self._fit(rgba), pts)
        self._last_pts = pts
        self.frames += 1
        return True

    def _fit(self, rgba: np.ndarray) -> np.ndarray:
        w, h = self.size
        x, y, fw, fh = fit_rect(rgba.shape[1], rgba.shape[0], w, h)
        fg = resize_rgba(rgba, fw, fh)
        if (fw, fh) == (w, h):
            return np.ascontiguousarray(fg)
        out = np.zeros((h, w, 4), np.uint8)  # transparent letterbox
        out[y:y + fh, x:x + fw] = fg
        return out

    def commit(self) -> Path:
        if self.frames == 0:
            self.abort()
            raise ClipError("The clip has no frames; nothing was saved.")
        try:
            self.writer.finish()
            self.fp.flush()
            os.fsync(self.fp.fileno())  # the bytes are on disk before the name appears
            self.fp.close()
            return _move_into_place(self.tmp, self.final, self.overwrite)
        except BaseException as e:
            self.abort()
            if isinstance(e, OSError):
                raise ClipError(_user_message(e, self.final.parent)) from e
            raise

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()
        try:
            self.fp.close()
        except Exception:  # e.g. flushing into a full disk fails again: still delete
            pass
        try:
            self.tmp.unlink()
        except FileNotFoundError:
            pass


# -- offline rendering -------------------------------------------------------------------
Pose = Mapping[str, float]


def render_clip(items: Iterable[Union[np.ndarray, Pose]], path: str | Path,
                config: ClipConfig | None = None, *,
                render: Callable[[Pose], np.ndarray] | None = None,
                overwrite: bool = False, cancel: threading.Event | None = None,
                progress: Callable[[int], None] | None = None,
                opener: Opener | None = None) -> Path:
    """Write a clip from RGBA frames, or from poses when `render` (pose -> RGBA, e.g. the
    engine's render bound to a prepared character) is given. No real time involved: frame i
    is shown at i / fps. Returns the path the clip was saved under."""
    config = config or ClipConfig()
    clip = _ClipFile(path, config, overwrite, opener, realtime=False)
    try:
        for i, item in enumerate(items):
            if cancel is not None and cancel.is_set():
                raise ClipCancelled("The clip was cancelled; nothing was saved.")
            rgba = render(item) if render is not None else item
            clip.add(np.asarray(rgba), i)
            if progress is not None:
                progress(i + 1)
    except BaseException as e:
        clip.abort()
        if isinstance(e, OSError):
            raise ClipError(_user_message(e, clip.final.parent)) from e
        raise
    return clip.commit()


# -- live recording ----------------------------------------------------------------------
class ClipRecorder:
    """A sink that records the live output. send() never blocks: frames go through a short
    queue to the encoder thread; when the encoder falls behind, frames are dropped (counted).
    close() finishes the clip in the background; wait() returns where it was saved."""

    name = "clip_recorder"

    def __init__(self, config: ClipConfig, path: str | Path | None = None, *, overwrite: bool = False,
                 on_error: ErrorCallback | None = None,
                 on_finished: Callable[[Path], None] | None = None,
                 opener: Opener | None = None) -> None:
        self.config = config.validate()
        self._target = path  # None: a time-stamped name in default_clip_dir()
        self.overwrite, self.opener = overwrite, opener
        self.on_error, self.on_finished = on_error, on_finished
        self._queue: queue.Queue = queue.Queue(maxsize=max(4, int(config.fps)))
        self._finish = threading.Event()
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._clip: _ClipFile | None = None
        self.result: Path | None = None
        self.error: BaseException | None = None
        self.frames_dropped = 0

    @property
    def frames_written(self) -> int:
        return self._clip.frames if self._clip is not None else 0

    @property
    def recording(self) -> bool:
        return self._thread is not None and not self._finish.is_set() and not self._done.is_set()

    @property
    def path(self) -> Path | None:
        """Where the clip is saved (once done), or where it is headed while recording."""
        if self.result is not None:
            return self.result
        return self._clip.final if self._clip is not None else None

    @property
    def temp_path(self) -> Path | None:
        return self._clip.tmp if self._clip is not None else None

    def open(self) -> None:
        if self._thread is not None:
            raise ClipError("This recorder was already used; start a new recording.")
        target = self._target
        if target is None:
            folder = default_clip_dir()
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ClipError(f"The clips folder {folder} cannot be created ({e}); choose another folder.") from None
            target = folder / f"omokage-{time.strftime('%Y%m%d-%H%M%S')}{self.config.extension}"
        self._clip = _ClipFile(target, self.config, self.overwrite, self.opener, realtime=True)
        self._thread = threading.Thread(target=self._run, name="omokage-clip", daemon=True)
        self._thread.start()

    def send(self, frame: RenderedFrame) -> None:
        if not self.recording:
            return
        try:
            self._queue.put_nowait(frame)
        except queue.Full:
            self.frames_dropped += 1

    def close(self) -> None:
        """Stop recording and save (in the background; see wait())."""
        self._finish.set()

    def cancel(self) -> None:
        """Stop recording and discard the clip."""
        self._cancel.set()
        self._finish.set()

    def wait(self, timeout: float | None = None) -> Path:
        """The saved clip's path; raises ClipError if it failed or was cancelled."""
        if self._thread is None:
            raise ClipError("The recording was never started.")
        if not self._done.wait(timeout):
            raise TimeoutError("the clip is still being written")
        if self.error is not None:
            raise self.error
        return self.result

    def _run(self) -> None:
        clip = self._clip
        fps = int(self.config.fps)
        t0: float | None = None
        try:
            while not self._finish.is_set():
                try:
                    frame = self._queue.get(timeout=0.05)
                except queue.Empty:
                    continue
                ts = frame.meta.capture_ts
                t0 = ts if t0 is None else t0
                if ts - t0 > self.config.max_seconds:
                    break
                # Live frames land on the clip's fixed 1/fps grid by capture time.
                clip.add(frame.rgba, int(round((ts - t0) * fps)))
            if self._cancel.is_set():
                clip.abort()
                raise ClipCancelled("The recording was cancelled; nothing was saved.")
            self.result = clip.commit()
        except ClipError as e:
            clip.abort()
            self.error = e
        except BaseException as e:
            clip.abort()
            self.error = ClipError(_user_message(e, clip.final.parent))
            self.error.__cause__ = e
        finally:
            self._finish.set()
            self._done.set()
        if self.error is not None and not isinstance(self.error, ClipCancelled) and self.on_error:
            self.on_error(str(self.error))
        if self.result is not None and self.on_finished:
            self.on_finished(self.result)
