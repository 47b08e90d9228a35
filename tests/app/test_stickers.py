"""Expression sticker packs: rendered by the real engine on the default character, every
file decoded back with Pillow (alpha, frame count, loop), the character never
overwritten, and a failing write leaving no partial folder."""
from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from app.cli import main
from app.presets import BUILTIN_PRESETS, Preset
from app.stickers import (MANIFEST, SHEET, StickerError, StickerOptions, default_pack_folder,
                          encode, file_stem, webp_supported, write_pack)
from tests.app.pipeline_fixtures import default_character, engine, weights_dir  # noqa: F401


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def frames_of(path: Path) -> tuple[list[np.ndarray], dict]:
    with Image.open(path) as im:
        info = dict(im.info)
        return [np.array(f.convert("RGBA")) for f in ImageSequence.Iterator(im)], info


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".omokage-"))


def check_sticker(path: Path, size: int, animated: bool, full_alpha: bool) -> None:
    frames, info = frames_of(path)
    assert frames[0].shape == (size, size, 4), path
    a = frames[0][..., 3]
    assert (a == 0).mean() > 0.2 and (a == 255).mean() > 0.1, path  # real transparency
    if full_alpha:  # antialiased edges and the faded bust cut keep partial alpha
        assert ((a > 0) & (a < 255)).sum() > 20, path
    if animated:
        assert len(frames) > 1 and info.get("loop") == 0, path
        assert max(np.abs(f.astype(int) - frames[0]).max() for f in frames[1:]) > 40, path
    else:
        assert len(frames) == 1, path


@pytest.fixture(scope="module")
def cli_pack(tmp_path_factory):
    """`omokage stickers` with every built-in expression, as a user runs it."""
    out = tmp_path_factory.mktemp("pack") / "stickers"
    character = default_character()
    before = sha(character)
    argv = ["stickers", "--character", str(character), "--out", str(out), "--size", "128",
            "--presets", str(out.parent / "no-presets.json"), "--quiet", "--threads", "1"]
    if weights_dir():
        argv += ["--weights", str(weights_dir())]
    return out, main(argv), before


def test_cli_writes_every_expression_as_still_and_loop(cli_pack, capsys):
    out, code, before = cli_pack
    assert code == 0
    assert sha(default_character()) == before  # the character is read, never written
    assert leftovers(out.parent) == []
    manifest = json.loads((out / MANIFEST).read_text())
    assert [s["expression"] for s in manifest["stickers"]] == list(BUILTIN_PRESETS)
    for name in BUILTIN_PRESETS:
        check_sticker(out / f"{name}.png", 128, animated=False, full_alpha=True)
        check_sticker(out / f"{name}-animated.png", 128, animated=True, full_alpha=True)
    # The expressions differ from one another (the engine really posed each one).
    stills = [frames_of(out / f"{n}.png")[0][0].astype(int) for n in ("smile", "blink", "tilt")]
    assert np.abs(stills[0] - stills[1]).max() > 60 and np.abs(stills[0] - stills[2]).max() > 60
    sheet = Image.open(out / SHEET)
    assert sheet.size[0] > 128 and sheet.size[1] > 128
    assert sorted(manifest["files"]) == sorted(p.name for p in out.iterdir())


def test_cli_refuses_a_used_folder_and_keeps_it(cli_pack, capsys):
    out, _, _ = cli_pack
    before = {p.name: sha(p) for p in out.iterdir()}
    assert main(["stickers", "--out", str(out), "--quiet"]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert {p.name: sha(p) for p in out.iterdir()} == before


def test_cli_never_writes_over_or_around_the_character(tmp_path, capsys):
    character = tmp_path / "me.png"
    character.write_bytes(default_character().read_bytes())
    before = sha(character)
    for out in (character, tmp_path):  # the file itself, and the folder it is in (forced)
        assert main(["stickers", "--character", str(character), "--out", str(out),
                     "--force", "--quiet"]) == 2
        assert "also an input" in capsys.readouterr().err
    assert sha(character) == before and sorted(p.name for p in tmp_path.iterdir()) == ["me.png"]


def test_cli_names_an_unknown_expression(tmp_path, capsys):
    assert main(["stickers", "--out", str(tmp_path / "s"), "--expressions", "blink,grin",
                 "--presets", str(tmp_path / "none.json"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "grin" in err and "available: blink" in err and not (tmp_path / "s").exists()


@pytest.fixture(scope="module")
def pipe(engine):  # noqa: F811
    from app.build import PipelineOptions, build

    pipeline = build(PipelineOptions(engine=engine, character=default_character(), track=False))
    yield pipeline
    pipeline.close()


@pytest.mark.parametrize("fmt", ["webp", "gif"])
def test_webp_and_gif_packs_decode_with_alpha(fmt, tmp_path, pipe):
    if fmt == "webp" and not webp_supported():
        pytest.skip("this Pillow has no WebP")
    presets = {n: BUILTIN_PRESETS[n] for n in ("wink", "nod")}
    pack = write_pack(pipe.render_pose, presets, tmp_path / "p", StickerOptions(size=160, format=fmt),
                      spec=pipe.pose_spec)
    assert [p.name for p in pack.files] == [f"wink.{fmt}", f"wink-animated.{fmt}",
                                             f"nod.{fmt}", f"nod-animated.{fmt}"]
    for p in pack.files:
        check_sticker(p, 160, animated="animated" in p.name, full_alpha=fmt == "webp")
        if fmt == "gif":  # one transparent palette entry: alpha is on or off
            assert set(np.unique(frames_of(p)[0][0][..., 3])) <= {0, 255}


def test_a_user_preset_gets_a_safe_file_name(tmp_path, pipe):
    mine = Preset("Joy / 喜び!", {"mouth_open": 1.0, "mouth_form": 1.0})
    pack = write_pack(pipe.render_pose, {mine.name: mine}, tmp_path / "p", StickerOptions(size=96),
                      spec=pipe.pose_spec)
    assert [p.name for p in pack.files] == ["Joy-喜び.png", "Joy-喜び-animated.png"]
    assert file_stem("../..") == "expression" and file_stem("a\\b:c") == "a-b-c"


# ---- the folder rules, with a fast stand-in for the engine -----------------------------
def fake_render(pose):
    """The default character, its mouth region tinted by mouth_open: a different picture
    per pose without the engine (these tests are about files, not pictures)."""
    img = np.array(Image.open(default_character()).convert("RGBA"))
    img[150:180, 230:290, 0] = int(255 * pose.get("mouth_open", 0.0))
    return img


SMALL = {n: BUILTIN_PRESETS[n] for n in ("surprised", "smile")}


class FailingDisk:
    """Opens files normally until `ok` files were written, then fails like a full disk."""

    def __init__(self, ok: int) -> None:
        self.ok, self.opened = ok, 0

    def __call__(self, path: Path):
        self.opened += 1
        if self.opened > self.ok:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return open(path, "xb")


@pytest.mark.parametrize("ok", [0, 1, 3, 5])
def test_a_failing_write_leaves_no_partial_folder(ok, tmp_path):
    with pytest.raises(StickerError, match="disk is full"):
        write_pack(fake_render, SMALL, tmp_path / "pack", StickerOptions(size=64),
                   opener=FailingDisk(ok))
    assert list(tmp_path.iterdir()) == []


def test_force_replaces_only_an_earlier_pack_and_keeps_it_on_failure(tmp_path):
    out = tmp_path / "pack"
    write_pack(fake_render, SMALL, out, StickerOptions(size=64))
    before = {p.name: sha(p) for p in out.iterdir()}
    with pytest.raises(StickerError, match="disk is full"):
        write_pack(fake_render, SMALL, out, StickerOptions(size=96), force=True,
                   opener=FailingDisk(2))
    assert {p.name: sha(p) for p in out.iterdir()} == before and leftovers(tmp_path) == []
    pack = write_pack(fake_render, SMALL, out, StickerOptions(size=96), force=True)
    assert Image.open(pack.files[0]).size == (96, 96)  # the earlier pack went, as a whole
    assert sorted(p.name for p in out.iterdir()) == sorted(before)
    (out / "holiday.jpg").write_bytes(b"not a sticker")  # the user's own file in there
    with pytest.raises(StickerError, match="holiday.jpg"):
        write_pack(fake_render, SMALL, out, StickerOptions(size=64), force=True)
    assert (out / "holiday.jpg").read_bytes() == b"not a sticker"


def test_an_empty_folder_is_used_and_the_window_picks_a_new_one_otherwise(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert default_pack_folder(empty, "Aoi") == empty
    write_pack(fake_render, SMALL, empty, StickerOptions(size=64))
    assert (empty / "smile.png").exists() and leftovers(tmp_path) == []
    assert default_pack_folder(tmp_path, "Aoi") == tmp_path / "Aoi-stickers"
    (tmp_path / "Aoi-stickers").mkdir()
    assert default_pack_folder(tmp_path, "Aoi") == tmp_path / "Aoi-stickers-2"


def test_apng_stickers_decode_to_exactly_the_frames_written():
    rng = np.random.default_rng(1)
    frames = []
    base = np.zeros((64, 64, 4), np.uint8)
    base[16:48, 16:48] = (200, 80, 40, 255)
    for i in range(6):
        f = base.copy()
        f[20:30, 20 + i:30 + i] = rng.integers(0, 256, (10, 10, 4), dtype=np.uint8)
        frames.append(f)
    import io

    got, info = frames_of(io.BytesIO(encode(frames, "png", 20)))
    assert len(got) == 6 and info.get("loop") == 0
    assert all(np.array_equal(g, f) for g, f in zip(got, frames))


@pytest.mark.parametrize("bad", [dict(size=32), dict(size=4096), dict(format="jpg"),
                                 dict(crop="face")])
def test_bad_options_are_explained(bad):
    with pytest.raises(StickerError, match="use"):
        StickerOptions(**bad).validate()
