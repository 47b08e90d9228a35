"""Clips for sharing: record from the live output, or render offline from frames or poses.

Formats: looping GIF sized for stickers (one palette per clip, 1-bit transparency), APNG
(full alpha), MP4 H.264 (no alpha: composited over a background colour), WebM VP9 with
alpha, MOV ProRes 4444 with alpha (for video editors) and a PNG sequence (a folder of
RGBA frames).

Safety: bytes go to a hidden temp file (or temp folder, for a PNG sequence) in the target
folder (".omokage-<name>-<id>.part"), flushed and fsynced, and only then moved to the final
name. Any failure (full disk, an exception, a cancel) removes the temp file; an existing
file is never overwritten unless asked, and then only by the finished clip (an earlier
clip under that name survives any failure): without overwrite the clip gets the next free
name ("clip-2.gif") and the returned path says where it went. A killed process can leave
only a ".part" entry, which remove_stale_partials() clears.
"""
from __future__ import annotations

import errno
import os
import queue
import re
import secrets
import shutil
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from app.frames import RenderedFrame
from app.sinks import ErrorCallback, SinkError
from app.sinks.clip_writers import AvWriter, ClipWriter, PillowWriter, PngSequenceWriter
from app.sinks.compose import fit_rect, over, resize_rgba, solid

FORMATS = ("gif", "apng", "mp4", "webm", "mov", "png_sequence")
EXTENSIONS = {"gif": ".gif", "apng": ".apng", "mp4": ".mp4", "webm": ".webm", "mov": ".mov",
              "png_sequence": ""}
LABELS = {"gif": "GIF (stickers, 1-bit transparency)", "apng": "APNG (full transparency)",
          "mp4": "MP4 H.264 (no transparency)", "webm": "WebM VP9 (transparent)",
          "mov": "MOV ProRes 4444 (transparent, for video editors)",
          "png_sequence": "PNG sequence (a folder of frames)"}
HAS_ALPHA = {"gif": True, "apng": True, "mp4": False, "webm": True, "mov": True,
             "png_sequence": True}  # gif: on/off only
# By file name: .png is an animated PNG; a name without a suffix is a frame folder.
SUFFIX_FORMATS = {".gif": "gif", ".apng": "apng", ".png": "apng", ".mp4": "mp4",
                  ".webm": "webm", ".mov": "mov"}
DEFAULT_SIZE = {"gif": 320}  # longest side; others keep the source size
PARTIAL_PREFIX = ".omokage-"
PARTIAL_SUFFIX = ".part"
FRAME_FILE = re.compile(r"frame_\d{5}\.png")

Opener = Callable[[Path], BinaryIO]


class ClipError(SinkError):
    """The clip could not be written; str() says why and what to do."""


class ClipCancelled(ClipError):
    pass


@dataclass
class ClipConfig:
    format: str = "gif"
    fps: float = 25  # 25 fps = 40 ms, exact in GIF's 10 ms delay units; 29.97 is fine
    size: Optional[int] = None  # longest side in px; None: 320 for GIF, source size otherwise
    background: tuple[int, int, int] = (255, 255, 255)  # behind MP4 (H.264 has no alpha)
    flatten: bool = False  # every format over `background` (an opaque clip), not only MP4
    loop: bool = True  # GIF / APNG play forever
    max_seconds: float = 20.0  # recordings stop here (GIF/APNG frames are kept in memory)

    def validate(self) -> "ClipConfig":
        if self.format not in FORMATS:
            raise ValueError(f"unknown clip format {self.format!r}; use one of {', '.join(FORMATS)}")
        if not 1 <= float(self.fps) <= 120:
            raise ValueError(f"clip fps {self.fps} must be from 1 to 120")
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
    def is_sequence(self) -> bool:
        return self.format == "png_sequence"

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


def format_for_path(path: str | Path) -> str:
    """The clip format a file name asks for: by suffix (.gif .apng .png .mp4 .webm .mov);
    a folder (an existing one, a name ending in a slash, or a name without a suffix) is a
    PNG sequence. Raises ValueError naming the choices for anything else."""
    text = str(path)
    p = Path(text)
    if text.endswith(("/", os.sep)) or p.is_dir() or not p.suffix:
        return "png_sequence"
    fmt = SUFFIX_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ValueError(f"{p.name}: clips can be {', '.join(SUFFIX_FORMATS)} files or a "
                         "folder (for a PNG sequence)")
    return fmt


def refuse_input_as_output(out: str | Path, inputs: Sequence[str | Path | None]) -> None:
    """Raise ClipError if writing `out` would replace or sit over one of `inputs` (the
    character image, the driving video, ...): the job would destroy what it reads."""
    out_p = Path(out).expanduser().absolute()
    for item in inputs:
        if item is None:
            continue
        src = Path(item).expanduser().absolute()
        same = out_p == src or (out_p.exists() and src.exists() and os.path.samefile(out_p, src))
        inside = out_p.is_dir() and src.resolve().is_relative_to(out_p.resolve())
        if same or inside:
            raise ClipError(f"The output {out} is also an input ({item}); writing it would "
                            "destroy the input. Choose another output name.")


def default_clip_dir() -> Path:
    """The user's videos folder / Omokage (created on first recording)."""
    from platformdirs import user_videos_dir

    return Path(user_videos_dir()) / "Omokage"


# -- temp file and final move ----------------------------------------------------------
def _default_opener(path: Path) -> BinaryIO:
    return open(path, "xb")


def _next_free(final: Path, i: int) -> Path:
    return final if i == 1 else final.with_name(f"{final.stem}-{i}{final.suffix}")


def _replace_folder(tmp: Path, final: Path) -> Path:
    """Put the finished frame folder `tmp` at `final`, replacing an earlier frame sequence
    there only after the new one is complete; a folder with other files is refused."""
    if not final.exists():
        os.rename(tmp, final)
        return final
    if not final.is_dir():
        raise ClipError(f"{final} is a file, not a folder; choose a folder for a PNG sequence.")
    others = [p.name for p in final.iterdir() if not FRAME_FILE.fullmatch(p.name)]
    if others:
        raise ClipError(f"The folder {final} holds other files ({', '.join(sorted(others)[:3])}); "
                        "choose a new or empty folder for the PNG sequence.")
    swap_folder(tmp, final)
    return final


def swap_folder(tmp: Path, final: Path) -> None:
    """Replace the folder `final` with the complete folder `tmp`: the earlier one is moved
    aside first and comes back if the new one cannot take its place."""
    old = final.with_name(f"{PARTIAL_PREFIX}{final.name}-old-{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    os.rename(final, old)
    try:
        os.rename(tmp, final)
    except BaseException:
        os.rename(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _move_into_place(tmp: Path, final: Path, overwrite: bool) -> Path:
    if tmp.is_dir():
        if overwrite:
            return _replace_folder(tmp, final)
        for i in range(1, 10_000):
            candidate = _next_free(final, i)
            if candidate.exists():
                continue
            os.rename(tmp, candidate)  # a folder cannot be hard-linked; a race is unlikely
            return candidate
        raise ClipError(f"too many folders named like {final.name} in {final.parent}; choose another name")
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
                if p.is_dir():
                    shutil.rmtree(p)
                else:
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


class ClipFile:
    """One clip being written: temp file (or temp folder) + encoder; commit() moves it into
    place, abort() throws it away. Use open_clip() to make one."""

    def __init__(self, path: str | Path, config: ClipConfig, overwrite: bool,
                 opener: Opener | None, realtime: bool) -> None:
        self.config = config.validate()
        final = Path(path).expanduser()
        if not final.suffix and config.extension:
            final = final.with_suffix(config.extension)
        self.final = final.absolute()
        self.overwrite, self.realtime = overwrite, realtime
        self.opener = opener or _default_opener
        folder = self.final.parent
        if not folder.is_dir():
            raise ClipError(f"The folder {folder} does not exist; choose an existing folder.")
        if config.is_sequence and self.final.exists() and not self.final.is_dir():
            raise ClipError(f"{self.final} is a file; a PNG sequence needs a folder name.")
        self.tmp = folder / f"{PARTIAL_PREFIX}{self.final.name}-{secrets.token_hex(4)}{PARTIAL_SUFFIX}"
        self.fp: BinaryIO | None = None
        try:
            if config.is_sequence:
                self.tmp.mkdir()
            else:
                self.fp = self.opener(self.tmp)
        except OSError as e:
            raise ClipError(_user_message(e, folder)) from e
        self.writer: ClipWriter | None = None
        self.size: tuple[int, int] | None = None
        self.frames = 0
        self._last_pts = -1

    def add(self, rgba: np.ndarray, pts: int | None = None) -> bool:
        """Encode one frame at `pts` (1/fps units; None: the next tick); False if it falls
        on an already used tick. Write errors come out as ClipError."""
        if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
            raise ValueError(f"clip frames must be HxWx4 uint8 RGBA, got {rgba.shape} {rgba.dtype}")
        pts = self._last_pts + 1 if pts is None else pts
        if pts <= self._last_pts:
            return False
        try:
            if self.writer is None:
                self.writer = self._make_writer(rgba)
            self.writer.add(self._fit(rgba), pts)
        except OSError as e:
            raise ClipError(_user_message(e, self.final.parent)) from e
        self._last_pts = pts
        self.frames += 1
        return True

    def _make_writer(self, rgba: np.ndarray) -> ClipWriter:
        self.size = self.config.output_size(rgba.shape[1], rgba.shape[0])
        fmt, fps = self.config.format, self.config.fps
        if fmt in ("mp4", "webm", "mov"):
            return AvWriter(self.fp, fmt, fps, self.size, self.config.background, self.realtime)
        if fmt == "png_sequence":
            return PngSequenceWriter(self.tmp, self.opener)
        return PillowWriter(self.fp, fmt, fps, self.config.loop)

    def _fit(self, rgba: np.ndarray) -> np.ndarray:
        w, h = self.size
        x, y, fw, fh = fit_rect(rgba.shape[1], rgba.shape[0], w, h)
        fg = resize_rgba(rgba, fw, fh)
        if (fw, fh) == (w, h):
            out = np.ascontiguousarray(fg)
        else:
            out = np.zeros((h, w, 4), np.uint8)  # transparent letterbox
            out[y:y + fh, x:x + fw] = fg
        if self.config.flatten:  # the user chose a colour behind the character
            rgb = over(out, solid(w, h, self.config.background))
            out = np.dstack([rgb, np.full((h, w), 255, np.uint8)])
        return out

    def commit(self) -> Path:
        if self.frames == 0:
            self.abort()
            raise ClipError("The clip has no frames; nothing was saved.")
        try:
            self.writer.finish()
            if self.fp is not None:
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
        if self.fp is not None:
            try:
                self.fp.close()
            except Exception:  # e.g. flushing into a full disk fails again: still delete
                pass
        if self.tmp.is_dir():
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            try:
                self.tmp.unlink()
            except FileNotFoundError:
                pass

    def __enter__(self) -> "ClipFile":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:  # the caller commits on success; any failure discards
            self.abort()


def open_clip(path: str | Path, config: ClipConfig | None = None, *, overwrite: bool = False,
              opener: Opener | None = None, realtime: bool = False) -> ClipFile:
    """A clip to push frames into (add(rgba)), then commit() (returns the saved path) or
    abort(). Opening checks the folder and creates the temp file, so a bad target fails
    before any work is done. The format defaults to what the name asks for."""
    if config is None:
        config = ClipConfig(format=format_for_path(path))
    return ClipFile(path, config, overwrite, opener, realtime)


def save_png(rgba: np.ndarray, path: str | Path) -> Path:
    """One RGBA image written like a clip: temp file, fsync, then replace `path` (an
    earlier file there survives any failure). Raises ClipError with the reason."""
    import cv2

    ok, buf = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgba), cv2.COLOR_RGBA2BGRA))
    if not ok:
        raise ClipError(f"{path}: the image could not be encoded as PNG")
    final = Path(path).expanduser().absolute()
    if not final.parent.is_dir():
        raise ClipError(f"The folder {final.parent} does not exist; choose an existing folder.")
    tmp = final.parent / f"{PARTIAL_PREFIX}{final.name}-{secrets.token_hex(4)}{PARTIAL_SUFFIX}"
    try:
        with open(tmp, "xb") as fp:
            fp.write(buf.tobytes())
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(tmp, final)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ClipError(_user_message(e, final.parent).replace("clip", "image")) from e
    return final


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
    config = config or ClipConfig(format=format_for_path(path))
    clip = ClipFile(path, config, overwrite, opener, realtime=False)
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
        self._clip: ClipFile | None = None
        self.result: Path | None = None
        self.error: BaseException | None = None
        self.frames_dropped = 0
        self.reached_limit = False  # stopped by itself at max_seconds

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
        self._clip = ClipFile(target, self.config, self.overwrite, self.opener, realtime=True)
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
        fps = float(self.config.fps)
        t0: float | None = None
        try:
            while True:
                try:
                    frame = self._queue.get(timeout=0.05)
                except queue.Empty:
                    if self._finish.is_set():  # stopped, and what was sent is written
                        break
                    continue
                if self._cancel.is_set():
                    break
                ts = frame.meta.capture_ts
                t0 = ts if t0 is None else t0
                if ts - t0 > self.config.max_seconds:
                    self.reached_limit = True
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
        try:  # before wait() returns, so a caller that waited has seen the callbacks run
            if self.error is not None and not isinstance(self.error, ClipCancelled) and self.on_error:
                self.on_error(str(self.error))
            if self.result is not None and self.on_finished:
                self.on_finished(self.result)
        finally:
            self._done.set()
