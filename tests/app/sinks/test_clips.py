"""Clips of every format decoded back by an independent reader (ffmpeg through PyAV, and
Pillow), plus the safety promises: full disk, exceptions, cancel and a killed process never
leave a file under the final name and never touch earlier clips."""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image, ImageSequence

from app.frames import FrameMeta, RenderedFrame
from app.sinks import create_sink
from app.sinks.clips import (ClipCancelled, ClipConfig, ClipError, ClipRecorder,
                             format_for_path, open_clip, refuse_input_as_output,
                             remove_stale_partials, render_clip, save_png)

REPO = Path(__file__).resolve().parents[3]


FORMATS = ["gif", "apng", "mp4", "webm", "mov", "png_sequence"]
NAMES = {"gif": "clip.gif", "apng": "clip.apng", "mp4": "clip.mp4", "webm": "clip.webm",
         "mov": "clip.mov", "png_sequence": "clip"}


def decode(path: Path) -> list[np.ndarray]:
    """Every frame as RGBA through ffmpeg (libvpx for VP9 so the alpha plane is read);
    a PNG sequence folder through Pillow, frame by frame."""
    if path.is_dir():
        return [np.array(Image.open(f).convert("RGBA")) for f in sorted(path.glob("frame_*.png"))]
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        if s.codec_context.name != "vp9":
            return [f.to_ndarray(format="rgba") for f in c.decode(s)]
        dec = av.CodecContext.create("libvpx-vp9", "r")  # ffmpeg's own vp9 ignores alpha
        out = []
        for pkt in c.demux(s):
            if pkt.size:
                out += [f.to_ndarray(format="rgba") for f in dec.decode(pkt)]
        return out + [f.to_ndarray(format="rgba") for f in dec.decode(None)]


def pillow_frames(path: Path) -> list[np.ndarray]:
    with Image.open(path) as im:
        return [np.array(f.convert("RGBA")) for f in ImageSequence.Iterator(im)]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".omokage-"))


class FullDisk:
    """Files on a disk that fills up after `limit` bytes in all: writes then fail with
    ENOSPC, as os.write does. Injected where the clip opens its temp file(s), so the
    clip's own code path meets the error. Usage is the files' real size on disk, since
    encoders may also write through the file descriptor."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.files: list = []

    def __call__(self, path: Path) -> "FullDiskFile":
        f = FullDiskFile(open(path, "xb"), self)
        self.files.append(f)
        return f

    def used(self) -> int:
        return sum(f.size() for f in self.files)


class FullDiskFile:
    def __init__(self, f, disk: FullDisk) -> None:
        self.f, self.disk, self._closed_size = f, disk, None

    def size(self) -> int:
        return self._closed_size if self.f.closed else os.fstat(self.f.fileno()).st_size

    def write(self, b) -> int:
        self.f.flush()
        if self.disk.used() + len(b) > self.disk.limit:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = self.f.write(b)
        self.f.flush()
        return n

    def close(self) -> None:
        if not self.f.closed:
            self.f.flush()
            self._closed_size = os.fstat(self.f.fileno()).st_size
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getattr__(self, name):  # seek, tell, flush, fileno: the real file's
        return getattr(self.f, name)


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir()) if path.is_dir() else path.stat().st_size


def digest(path: Path) -> str:
    if path.is_dir():
        return hashlib.sha256(b"".join(f.name.encode() + f.read_bytes()
                                       for f in sorted(path.iterdir()))).hexdigest()
    return sha(path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_decodes_back(fmt, tmp_path, frames):
    path = render_clip(frames, tmp_path / NAMES[fmt], ClipConfig(format=fmt, fps=10))
    assert path == tmp_path / NAMES[fmt] and size_of(path) > 0
    assert format_for_path(path) == fmt
    assert leftovers(tmp_path) == []
    got = decode(path)
    assert len(got) == len(frames)
    side = 320 if fmt == "gif" else 512
    assert all(f.shape == (side, side, 4) for f in got)
    src = [np.array(Image.fromarray(f).resize((side, side), Image.LANCZOS)) for f in frames]
    transparent = src[0][..., 3] == 0
    opaque = src[0][..., 3] == 255
    a = got[0][..., 3]
    if fmt == "mp4":  # no alpha: transparent areas show the white background
        assert (a == 255).all()
        away = cv2.erode(transparent.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
        assert np.abs(got[0][away][:, :3].astype(int) - 255).max() < 12  # clear of codec edges
    else:
        assert (a[transparent] == 0).mean() > 0.98 and (a[opaque] == 255).mean() > 0.98
    if fmt not in ("gif", "mp4"):  # full alpha: antialiased edges keep partial values
        assert ((a > 20) & (a < 235)).sum() > 100
    # Colours survive (lossy codecs: within a margin) and the frames change over time.
    err = np.abs(got[3][..., :3].astype(int) - src[3][..., :3])[src[3][..., 3] == 255].mean()
    assert err < 8, err
    diffs = [np.abs(x.astype(int) - y).mean() for x, y in zip(got, got[1:])]
    assert min(diffs) > 0.3
    if fmt in ("gif", "apng"):  # a second, independent reader agrees and the clip loops
        pf = pillow_frames(path)
        assert len(pf) == len(frames) and np.array_equal(pf[0][..., 3] > 0, a > 0)
        with Image.open(path) as im:
            assert im.info.get("loop") == 0


def test_existing_files_are_kept_and_the_new_name_returned(tmp_path, frames):
    first = render_clip(frames[:4], tmp_path / "clip.gif")
    before = sha(first)
    second = render_clip(frames[4:8], tmp_path / "clip.gif")
    assert second == tmp_path / "clip-2.gif" and sha(first) == before
    third = render_clip(frames[4:8], tmp_path / "clip.gif", overwrite=True)
    assert third == first and sha(first) != before
    assert render_clip(frames[:2], tmp_path / "noext", ClipConfig(format="webm")).suffix == ".webm"


@pytest.mark.parametrize("fmt", FORMATS)
def test_full_disk_leaves_nothing_and_keeps_earlier_clips(fmt, tmp_path, frames):
    cfg = ClipConfig(format=fmt, fps=10)
    earlier = render_clip(frames, tmp_path / ("earlier" + NAMES[fmt][4:]), cfg)
    before = digest(earlier)
    limit = size_of(earlier) // 2  # the disk fills up half-way through
    for target, overwrite in ((tmp_path / ("new" + NAMES[fmt][4:]), False), (earlier, True)):
        with pytest.raises(ClipError, match="disk is full") as e:
            render_clip(frames, target, cfg, overwrite=overwrite, opener=FullDisk(limit))
        assert isinstance(e.value.__cause__, OSError) and e.value.__cause__.errno == errno.ENOSPC
        assert leftovers(tmp_path) == [] and digest(earlier) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [earlier.name]
    # Same through the live recorder: the user is told, nothing is left behind.
    errors = []
    rec = ClipRecorder(cfg, earlier, on_error=errors.append, opener=FullDisk(limit))
    rec.open()
    for i, f in enumerate(frames):
        rec.send(RenderedFrame(f, FrameMeta(i, 100.0 + i / 10)))
        time.sleep(0.02)
    rec.close()
    with pytest.raises(ClipError, match="disk is full"):
        rec.wait(30)
    assert errors and "disk is full" in errors[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [earlier.name]
    assert digest(earlier) == before


def test_exception_and_cancel_midway_leave_nothing(tmp_path, frames):
    def render(step):
        if step == 5:
            raise RuntimeError("engine failed")
        return frames[step]

    with pytest.raises(RuntimeError, match="engine failed"):
        render_clip(range(10), tmp_path / "a.mp4", ClipConfig(format="mp4"), render=render)
    cancel = threading.Event()
    with pytest.raises(ClipCancelled):
        render_clip(frames, tmp_path / "b.webm", ClipConfig(format="webm"), cancel=cancel,
                    progress=lambda n: n == 3 and cancel.set())
    with pytest.raises(ClipError, match="no frames"):
        render_clip([], tmp_path / "c.gif")
    with pytest.raises(ClipError, match="does not exist"):
        render_clip(frames, tmp_path / "missing" / "d.gif")
    assert list(tmp_path.iterdir()) == []


def test_live_recording_from_the_output(tmp_path, make_rendered):
    done = []
    rec = create_sink("clip_recorder", ClipConfig(format="webm", fps=15), path=tmp_path / "live",
                      on_finished=done.append)
    rec.open()
    for i in range(40):  # 1 s of the pipeline at 40 fps (capture clock), faster than the clip
        rec.send(RenderedFrame(make_rendered(i).rgba, FrameMeta(i, 100.0 + i / 40)))
        time.sleep(0.025)
    rec.close()
    path = rec.wait(30)
    assert path == tmp_path / "live.webm" and done == [path]
    got = decode(path)
    # Frames land on the 15 fps grid (at most 16 ticks in 0..0.975 s); a frame the busy
    # encoder could not take was dropped and counted, never queued up.
    assert len(got) == rec.frames_written and 1 <= len(got) <= 16
    assert rec.frames_dropped > 0 or len(got) >= 15
    assert got[0].shape == (512, 512, 4) and (got[0][..., 3] == 0).mean() > 0.5
    # A cancelled recording leaves nothing.
    rec2 = ClipRecorder(ClipConfig(format="gif"), tmp_path / "cancelled.gif")
    rec2.open()
    rec2.send(make_rendered(0))
    rec2.cancel()
    with pytest.raises(ClipCancelled):
        rec2.wait(10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.webm"]


CHILD = r"""
import sys, time
import numpy as np, cv2
sys.path.insert(0, sys.argv[1])
from app.frames import FrameMeta, RenderedFrame, now
from app.sinks.clips import ClipConfig, ClipRecorder
rec = ClipRecorder(ClipConfig(format=sys.argv[3], fps=20), sys.argv[2])
rec.open()
i = 0
while True:
    img = np.zeros((256, 256, 4), np.uint8)
    cv2.circle(img, (128, 128), 20 + i % 80, (255, 60, 0, 255), -1)
    rec.send(RenderedFrame(img, FrameMeta(i, now())))
    if i == 30:
        print(rec.temp_path, flush=True)
    i += 1
    time.sleep(0.02)
"""


@pytest.mark.parametrize("fmt", ["mp4", "gif"])
def test_killed_recording_leaves_no_file_and_earlier_clip_intact(fmt, tmp_path, frames):
    earlier = render_clip(frames[:6], tmp_path / f"live.{fmt}", ClipConfig(format=fmt))
    before = sha(earlier)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(REPO), str(tmp_path / f"live.{fmt}"), fmt],
                             stdout=subprocess.PIPE, text=True)
    try:
        temp = Path(child.stdout.readline().strip())
        deadline = time.time() + 20
        while fmt == "mp4" and temp.stat().st_size == 0 and time.time() < deadline:
            time.sleep(0.05)  # killed while bytes are being written
        assert temp.exists()
    finally:
        child.kill()
        child.wait()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([f"live.{fmt}", temp.name])  # no live-2, nothing half-written
    assert sha(earlier) == before
    assert remove_stale_partials(tmp_path, min_age_s=0) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"live.{fmt}"]


def test_config_round_trip_and_messages():
    cfg = ClipConfig(format="mp4", fps=30, size=480, background=(0, 255, 0), loop=False)
    assert ClipConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.output_size(512, 512) == (480, 480) and ClipConfig().output_size(512, 300) == (320, 188)
    assert ClipConfig(format="webm").has_alpha and not cfg.has_alpha
    with pytest.raises(ValueError, match="use one of gif, apng, mp4, webm, mov, png_sequence"):
        ClipConfig(format="avi").validate()
    with pytest.raises(ValueError, match="from 1 to 120"):
        ClipConfig(fps=0.5).validate()
    assert ClipConfig(fps=30000 / 1001).validate().fps == pytest.approx(29.97, abs=1e-3)
    for name, fmt in (("a.GIF", "gif"), ("a.png", "apng"), ("a.apng", "apng"), ("a.mov", "mov"),
                      ("a.webm", "webm"), ("a.mp4", "mp4"), ("frames", "png_sequence"),
                      ("frames.v1/", "png_sequence")):
        assert format_for_path(name) == fmt, name
    with pytest.raises(ValueError, match=r"\.gif.*folder"):
        format_for_path("a.avi")


def toy_render(pose) -> np.ndarray:
    """A stand-in for engine.render(prepared, pose): eyes follow eye_*_open, the mouth
    follows mouth_form, the head moves down with negative head_pitch."""
    img = np.zeros((256, 256, 4), np.uint8)
    cy = 90 - int(round(pose["head_pitch"]))
    cv2.circle(img, (128, cy), 60, (250, 220, 200, 255), -1)
    for ex, key in ((103, "eye_right_open"), (153, "eye_left_open")):
        cv2.ellipse(img, (ex, cy - 10), (8, max(1, int(12 * pose[key]))), 0, 0, 360, (30, 30, 60, 255), -1)
    bend = int(round(15 * pose["mouth_form"]))
    cv2.ellipse(img, (128, cy + 25 - bend), (20, abs(bend) + 1), 0, 0 if bend >= 0 else 180,
                180 if bend >= 0 else 360, (200, 40, 60, 255), 3)
    return img


def test_scripted_clip_from_presets_without_real_time(tmp_path):
    from app.presets import parse_script, script_poses

    poses = script_poses(parse_script("blink, smile, nod"), fps=20)
    path = render_clip(poses, tmp_path / "sticker.gif", ClipConfig(format="gif", fps=20),
                       render=toy_render)
    # Identical neighbouring frames are stored once with a longer delay: expand by delay.
    got = []
    with Image.open(path) as im:
        for f in ImageSequence.Iterator(im):
            got += [np.array(f.convert("RGBA"))] * round(f.info["duration"] * 20 / 1000)
    assert len(got) == len(poses) and got[0].shape == (320, 320, 4)
    # The blink frame has no dark eye pixels where the open-eyed first frame has them.
    dark = lambda f: int((np.all(f[..., :3] < 80, axis=2) & (f[..., 3] > 0)).sum())
    i_blink = min(range(len(poses)), key=lambda i: poses[i]["eye_left_open"])
    assert dark(got[0]) > 100 and dark(got[i_blink]) < dark(got[0]) * 0.3
    # The nod moves the head down: the top row of opaque pixels drops.
    top = lambda f: int(np.argmax(f[..., 3].max(axis=1) > 0))
    i_nod = min(range(len(poses)), key=lambda i: poses[i]["head_pitch"])
    assert top(got[i_nod]) - top(got[0]) >= 12


def test_recorder_defaults_to_the_videos_folder(tmp_path, monkeypatch, make_rendered):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_VIDEOS_DIR", str(tmp_path / "Videos"))
    from app.sinks.clips import default_clip_dir

    rec = create_sink("clip_recorder", ClipConfig(format="apng"), on_error=print)  # as the controller does
    rec.open()
    assert rec.path.parent == default_clip_dir() and rec.path.suffix == ".apng"
    for i in range(5):
        rec.send(make_rendered(i))
        time.sleep(0.05)
    rec.close()
    saved = rec.wait(30)
    assert saved == rec.path and saved.exists() and str(default_clip_dir()).startswith(str(tmp_path))
    assert len(pillow_frames(saved)) >= 3


def ffmpeg_rgba(path: Path, size: int, vp9_alpha: bool = False) -> np.ndarray:
    """Frames decoded by the ffmpeg command line, as players do (for VP9 the libvpx
    decoder, the one that reads the alpha side data, as browsers do)."""
    cmd = ["ffmpeg", "-v", "error"] + (["-c:v", "libvpx-vp9"] if vp9_alpha else [])
    out = subprocess.run(cmd + ["-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgba", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, size, size, 4)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="the ffmpeg command is not installed")
@pytest.mark.parametrize("fmt", ["webm", "mov", "apng", "gif"])
def test_ffmpeg_command_line_reads_alpha_and_loop(fmt, tmp_path, frames):
    path = render_clip(frames, tmp_path / NAMES[fmt], ClipConfig(format=fmt, fps=10))
    got = ffmpeg_rgba(path, 320 if fmt == "gif" else 512, vp9_alpha=fmt == "webm")
    assert len(got) == len(frames)
    a = got[..., 3]
    assert (a == 0).mean() > 0.3 and (a == 255).mean() > 0.1  # transparent and opaque
    if fmt != "gif":  # and soft edges in between
        assert ((a > 20) & (a < 235)).sum() > 100 * len(frames)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", str(path)],
                           capture_output=True, text=True, check=True).stdout
    if fmt == "webm":  # the flag browsers and OBS look for before they read the alpha
        assert "ALPHA_MODE=1" in probe.upper()
    if fmt == "mov":
        assert "codec_name=prores" in probe and "yuva444p" in probe


def test_open_clip_pushes_frames_and_discards_on_failure(tmp_path, frames):
    clip = open_clip(tmp_path / "pushed.webm")
    assert clip.tmp.exists() and not clip.final.exists()  # the temp file comes first
    for f in frames[:5]:
        assert clip.add(f)
    assert clip.commit() == tmp_path / "pushed.webm"
    assert len(decode(tmp_path / "pushed.webm")) == 5
    with pytest.raises(RuntimeError):
        with open_clip(tmp_path / "broken.mov") as clip:
            clip.add(frames[0])
            raise RuntimeError("the engine failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pushed.webm"]


def test_png_sequence_replaces_only_an_earlier_sequence(tmp_path, frames):
    cfg = ClipConfig(format="png_sequence")
    first = render_clip(frames[:6], tmp_path / "seq", cfg)
    assert len(list(first.iterdir())) == 6
    again = render_clip(frames[:3], tmp_path / "seq", cfg, overwrite=True)
    assert again == first and sorted(p.name for p in first.iterdir()) == [
        "frame_00001.png", "frame_00002.png", "frame_00003.png"]
    assert render_clip(frames[:2], tmp_path / "seq", cfg) == tmp_path / "seq-2"
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(ClipError, match="holds other files"):
        render_clip(frames[:2], mine, cfg, overwrite=True)
    assert (mine / "notes.txt").read_text() == "keep me" and leftovers(tmp_path) == []


def test_an_input_is_never_an_output(tmp_path, frames):
    character = tmp_path / "character.png"
    save_png(frames[0], character)
    assert np.array_equal(np.array(Image.open(character)), frames[0])
    link = tmp_path / "link.png"
    os.link(character, link)
    for out in (character, tmp_path / "." / "character.png", link, tmp_path):
        with pytest.raises(ClipError, match="also an input"):
            refuse_input_as_output(out, [None, character])
    refuse_input_as_output(tmp_path / "other.png", [character])  # no error
    assert leftovers(tmp_path) == []


def test_send_never_waits_for_a_stuck_encoder(tmp_path, make_rendered):
    """The pipeline's thread must not stall when the disk does: while the encoder is stuck
    in a write, every send() returns and the bounded queue drops what does not fit."""
    release = threading.Event()

    class StuckFile:
        def __init__(self, path):
            self.f = open(path, "xb")

        def write(self, b):
            release.wait()
            return self.f.write(b)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def __getattr__(self, name):
            return getattr(self.f, name)

    rec = ClipRecorder(ClipConfig(format="png_sequence", fps=10), tmp_path / "stuck",
                       opener=StuckFile)
    rec.open()
    sender = threading.Thread(target=lambda: [rec.send(RenderedFrame(
        make_rendered(i).rgba, FrameMeta(i, 10.0 + i / 10))) for i in range(60)])
    sender.start()
    sender.join(30)
    try:
        assert not sender.is_alive()  # all 60 sends returned while no byte could be written
        assert rec.frames_dropped >= 60 - 10 - 1  # queue of 10, one frame in the encoder
    finally:
        release.set()
    rec.close()
    saved = rec.wait(30)
    assert len(decode(saved)) >= rec.frames_written >= 1  # held frames fill the gaps
