"""Procedural characters: determinism, local expression changes, parallax, the input convention."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from engines.convention import HEAD_BOX
from engines.datagen.dataset import ShardSampler
from engines.datagen.procedural import (
    Identity,
    ProceduralSource,
    draw_character,
    identity_for,
    sample_identity,
)
from engines.datagen.procedural.geometry import HEAD_ORIGIN
from engines.datagen.procedural.layout import layout_of
from engines.datagen.procedural.render import framed
from engines.posespec import DEFAULT_POSE_SPEC

REPO = Path(__file__).resolve().parents[3]
IDS = [f"proc-{i:06d}" for i in (0, 3, 17, 42, 99, 123)]


def changed(a: np.ndarray, b: np.ndarray, thr: int = 8) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).max(-1) > thr


def edge_shift(a: np.ndarray, b: np.ndarray, cols: slice, max_shift: int = 30) -> int:
    """Horizontal shift that best aligns the lower edge profile of mask b with that of mask a.

    The masks hold one band of rows; the profile is the lowest set row of each column.
    """
    def profile(m):
        rows = np.arange(m.shape[0])[:, None]
        return np.where(m, rows, -1).max(0).astype(float)

    pa, pb = profile(a), profile(b)
    xs = np.arange(cols.start, cols.stop)
    errs = [(np.abs(pa[xs] - pb[xs + s]).mean(), s) for s in range(-max_shift, max_shift + 1)]
    return min(errs)[1]


def left_right_edges(mask: np.ndarray) -> tuple[float, float]:
    rows = [np.nonzero(r)[0] for r in mask if r.any()]
    assert rows, "expected some pixels in the mask"
    return float(np.mean([r.min() for r in rows])), float(np.mean([r.max() for r in rows]))


def centroid_x(mask: np.ndarray) -> float:
    ys, xs = np.nonzero(mask)
    assert len(xs) > 0, "expected some pixels in the mask"
    return float(xs.mean())


def test_identity_is_deterministic_and_round_trips_json():
    assert identity_for("proc-000042") == identity_for("proc-000042")
    assert identity_for("proc-000042") != identity_for("proc-000043")
    a = sample_identity(np.random.default_rng(7))
    assert a == sample_identity(np.random.default_rng(7))
    back = Identity.from_json(a.to_json())
    assert back == a
    assert json.loads(a.to_json())["hair_color"].startswith("#")


def test_bad_identity_values_are_named():
    text = json.dumps({**dataclasses.asdict(Identity()), "tail_colour": "#ffffff"})
    with pytest.raises(ValueError, match="tail_colour"):
        Identity.from_json(text)
    with pytest.raises(ValueError, match="style='oil'"):
        Identity(style="oil")
    with pytest.raises(ValueError, match="rrggbb"):
        Identity(hair_tips="blue")
    with pytest.raises(ValueError, match="crown"):
        Identity(accessories=["crown"])


def test_drawing_and_triples_are_deterministic_for_a_seed():
    ident = identity_for("proc-000017")
    pose = {"head_yaw": 12.0, "mouth_open": 0.5, "eye_left_open": 0.3}
    assert np.array_equal(draw_character(ident, pose), draw_character(ident, pose))
    src = ProceduralSource(n_train=50, n_val=5)
    t1 = src.make_triple("proc-000003", np.random.default_rng([5, 1]))
    t2 = src.make_triple("proc-000003", np.random.default_rng([5, 1]))
    assert t1.pose == t2.pose
    for name in ("rest", "expr", "posed"):
        assert np.array_equal(getattr(t1, name), getattr(t2, name))


def test_triples_keep_one_identity_and_split_expression_from_head():
    src = ProceduralSource(n_train=50, n_val=5)
    rng = np.random.default_rng(3)
    spec = DEFAULT_POSE_SPEC
    head_names = spec.stage_names("rotate")
    for _ in range(6):
        t = src.make_triple("proc-000011", rng)
        assert np.array_equal(t.rest, draw_character(identity_for("proc-000011"), {}))
        assert set(t.pose) == set(spec.names)
        expr_only = {k: v for k, v in t.pose.items() if k not in head_names}
        # expr is exactly the expression part of the pose with the head at rest
        assert np.array_equal(t.expr, draw_character(identity_for("proc-000011"), expr_only))
        assert np.array_equal(t.posed, draw_character(identity_for("proc-000011"), t.pose))


def test_train_and_val_characters_are_disjoint():
    src = ProceduralSource(n_train=2000, n_val=300)
    train, val = src.characters("train"), src.characters("val")
    assert len(train) == 2000 and len(val) == 300
    assert not set(train) & set(val)
    with pytest.raises(ValueError, match="split"):
        src.characters("test")


def _eye_box(ident: Identity, side: int) -> tuple[int, int, int, int]:
    lay = layout_of(ident)
    x0, y0 = framed(ident, (side * lay.eye_dx - 1.7 * lay.eye_w, lay.eye_y - 1.8 * lay.eye_h - 6))[0]
    x1, y1 = framed(ident, (side * lay.eye_dx + 1.7 * lay.eye_w, lay.eye_y + 1.5 * lay.eye_h))[0]
    return int(x0), int(y0), int(x1) + 1, int(y1) + 1


@pytest.mark.parametrize("cid", IDS[:4])
def test_closing_eyes_changes_only_the_eyes(cid):
    ident = identity_for(cid)
    rest = draw_character(ident, {})
    both = changed(rest, draw_character(ident, {"eye_left_open": 0.0, "eye_right_open": 0.0}))
    inside = np.zeros_like(both)
    for side in (-1, 1):
        x0, y0, x1, y1 = _eye_box(ident, side)
        region = both[y0:y1, x0:x1]
        assert region.sum() > 80, f"{cid}: eye at side {side} did not close"
        inside[y0:y1, x0:x1] = True
    assert not (both & ~inside).any(), f"{cid}: closing the eyes changed pixels away from the eyes"
    # The character's left eye is on the image's right.
    left_only = changed(rest, draw_character(ident, {"eye_left_open": 0.0}))
    ys, xs = np.nonzero(left_only)
    assert xs.min() > 256, "eye_left_open must close the eye on the image's right"


@pytest.mark.parametrize("cid", IDS[:4])
def test_opening_the_mouth_changes_only_the_mouth(cid):
    ident = identity_for(cid)
    lay = layout_of(ident)
    rest = draw_character(ident, {})
    diff = changed(rest, draw_character(ident, {"mouth_open": 1.0}))
    ys, xs = np.nonzero(diff)
    assert len(xs) > 100
    my = framed(ident, (0.0, lay.mouth_y))[0, 1]
    assert ys.min() > my - 8 and ys.max() < my + 24
    assert xs.min() > 256 - 20 and xs.max() < 256 + 20
    # The open mouth shows a dark interior and white teeth.
    open_img = draw_character(ident, {"mouth_open": 1.0})
    region = open_img[diff]
    assert (region[:, :3].min(-1) > 235).any(), "no teeth"
    assert (region[:, :3].max(-1) < 140).any(), "no dark mouth interior"


def test_yaw_moves_layers_by_different_amounts():
    base = dataclasses.replace(identity_for("proc-000042"), scale=1.0, offset_y=0.0, side_locks="none", twin_tails=False,
                               back_hair="long", hair_len=1.0, accessories=[], bangs="straight",
                               buns=False, ahoge=False)
    recoloured = dataclasses.replace(base, hair_color="#10f010")
    lay = layout_of(base)
    # Rows around the bang tips: the jagged lower edge of the hair in front of the forehead.
    bang_rows = slice(int(HEAD_ORIGIN[1] + lay.bang_y - 18), int(HEAD_ORIGIN[1] + lay.bang_y + 6))
    back_rows = slice(196, 216)  # beside the neck, the only hair is the back hair
    masks = {}
    for yaw in (0.0, 25.0):
        pose = {"head_yaw": yaw}
        img = draw_character(base, pose)
        hair = changed(img, draw_character(recoloured, pose))
        eyes = changed(img, draw_character(base, {**pose, "eye_left_open": 0.0, "eye_right_open": 0.0}))
        front = hair[bang_rows]
        back = np.zeros_like(hair)
        back[back_rows] = hair[back_rows]
        masks[yaw] = (back, eyes, front)
    # The back hair's outer edges (its middle hides behind the body).
    d_back = np.mean([left_right_edges(masks[25.0][0])[k] - left_right_edges(masks[0.0][0])[k] for k in (0, 1)])
    d_eyes = centroid_x(masks[25.0][1]) - centroid_x(masks[0.0][1])
    d_front = edge_shift(masks[0.0][2], masks[25.0][2], slice(206, 276))
    assert d_back < 0 < d_eyes, (d_back, d_eyes, d_front)  # yaw > 0 turns the face to the image's right
    assert d_front > d_eyes + 1.0, (d_eyes, d_front)  # front hair moves more than the face
    assert d_eyes > 5.0
    print("parallax shifts (px): back hair", d_back, "eyes", d_eyes, "front hair", d_front)


def test_roll_is_clockwise_and_pitch_lifts_the_face():
    ident = identity_for("proc-000003")
    closed = {"eye_left_open": 0.0, "eye_right_open": 0.0}

    def eye_centres(pose):
        d = changed(draw_character(ident, pose), draw_character(ident, {**pose, **closed}))
        ys, xs = np.nonzero(d)
        left = xs < xs.mean()
        return np.array([xs[left].mean(), ys[left].mean()]), np.array([xs[~left].mean(), ys[~left].mean()])

    l0, r0 = eye_centres({})
    l1, r1 = eye_centres({"head_roll": 20.0})
    assert r1[1] - l1[1] > 8.0, "roll > 0 must tilt the head clockwise (image-right eye lower)"
    u0, _ = eye_centres({"head_pitch": 25.0})
    assert u0[1] < l0[1] - 4.0, "pitch > 0 (chin up) must move the face up"


@pytest.mark.parametrize("seed", range(6))
def test_every_rest_image_meets_the_input_convention(seed):
    ident = sample_identity(np.random.default_rng(1000 + seed))
    img = draw_character(ident, {})
    assert img.shape == (512, 512, 4) and img.dtype == np.uint8
    a = img[..., 3]
    assert a[:40].max() == 0 and a[:, :60].max() == 0 and a[:, -60:].max() == 0, "background not clear"
    assert a[500:, 256].min() == 255, "the body should reach the bottom edge"
    # The face skin (found by recolouring the skin) lies inside the head box.
    other = dataclasses.replace(ident, skin="#20ff20")
    skin = changed(img, draw_character(other, {}))
    x0, y0, x1, y1 = HEAD_BOX
    ys, xs = np.nonzero(skin[:y1])
    assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0, (xs.min(), xs.max(), ys.min())
    # Upright and centred: the skin is symmetric about the box centre.
    assert abs(xs.mean() - (x0 + x1) / 2) < 4


def test_build_cli_writes_readable_shards(tmp_path):
    out = tmp_path / "proc"
    cmd = [sys.executable, "-m", "engines.datagen.procedural", "build", "--out", str(out),
           "--split", "val", "--shards", "1", "--shard-size", "3", "--seed", "4"]
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
    batch = ShardSampler({str(out): 1.0}, split="val").batch(2)
    assert batch["rest"].shape == (2, 256, 256, 4)
    assert batch["rest_crop"].shape == (2, 128, 128, 4)
    assert batch["pose"].shape == (2, len(DEFAULT_POSE_SPEC))
    assert all(str(c).startswith("proc-9") for c in batch["character"])


def test_sheet_cli_writes_an_image(tmp_path):
    out = tmp_path / "sheet.png"
    subprocess.run([sys.executable, "-m", "engines.datagen.procedural", "sheet", "--out", str(out),
                    "--n", "2", "--cell", "64"], cwd=REPO, check=True, capture_output=True)
    img = cv2.imread(str(out))
    assert img is not None and img.shape[1] == 64 * 10 and img.shape[0] > 2 * 64
    # The rows differ: two different identities.
    rows = img[-128:]
    assert np.abs(rows[:64].astype(int) - rows[64:].astype(int)).mean() > 3


def test_default_character_is_reproduced_by_its_parameters():
    ident = Identity.from_json((REPO / "assets" / "default_character.json").read_text())
    png = cv2.imread(str(REPO / "assets" / "default_character.png"), cv2.IMREAD_UNCHANGED)
    assert png is not None and png.shape == (512, 512, 4)
    drawn = draw_character(ident, {})
    stored = cv2.cvtColor(png, cv2.COLOR_BGRA2RGBA)
    assert np.abs(drawn.astype(int) - stored.astype(int)).mean() < 0.5
    assert stored[..., 3][:40].max() == 0 and stored[0, 0, 3] == 0


def test_brows_iris_body_and_breathing_move_the_right_way():
    ident = identity_for("proc-000003")
    lay = layout_of(ident)
    rest = draw_character(ident, {})
    # Brows: only a band above the eyes changes, and the brows go up.
    up = draw_character(ident, {"brow_left": 1.0, "brow_right": 1.0})
    ys, _ = np.nonzero(changed(rest, up))
    eye_top = framed(ident, (0.0, lay.eye_y - 1.15 * lay.eye_h))[0, 1]
    assert len(ys) > 40 and ys.max() < eye_top + 2
    down = draw_character(ident, {"brow_left": -1.0, "brow_right": -1.0})
    brow_rows = lambda img: np.nonzero(changed(img, down))[0].mean()  # noqa: E731
    assert brow_rows(up) < brow_rows(rest)
    # Iris: +x moves the irises toward the image's right (found by recolouring them).
    green = dataclasses.replace(ident, iris_color="#00ff00", iris_color2="#00ff00")

    def iris_edges(pose):  # the eyelids clip the leading side, the trailing side shows the move
        mask = changed(draw_character(ident, pose), draw_character(green, pose), thr=40)[:, 256:]
        return left_right_edges(mask)

    assert iris_edges({"iris_x": 1.0})[0] > iris_edges({})[0] + 3.0
    assert iris_edges({"iris_x": -1.0})[1] < iris_edges({})[1] - 3.0
    # Body turn moves the chest (collar, ribbon) to the right; breathing lifts the shoulders.
    accent = dataclasses.replace(ident, cloth_accent="#00ff00")

    def accent_x(pose):
        return centroid_x(changed(draw_character(ident, pose), draw_character(accent, pose)))

    assert accent_x({"body_yaw": 1.0}) > accent_x({}) + 3.0 > accent_x({"body_yaw": -1.0}) + 6.0
    breath = draw_character(ident, {"breathing": 1.0})
    col = 256 + 90
    top_rest = np.nonzero(rest[200:, col, 3] > 128)[0].min()
    top_breath = np.nonzero(breath[200:, col, 3] > 128)[0].min()
    assert top_breath < top_rest


@pytest.mark.parametrize("cid", IDS[:3])
def test_smiling_lids_arch_as_the_eyes_close_on_the_named_side(cid):
    ident = identity_for(cid)
    shut = {"eye_left_open": 0.0, "eye_right_open": 0.0}
    # An open eye shows no smile (as on the Live2D rigs); a closing one arches up.
    assert not changed(draw_character(ident, {}), draw_character(ident, {"eye_left_smile": 1.0})).any()
    closed, happy = draw_character(ident, shut), draw_character(ident, {**shut, "eye_left_smile": 1.0})
    moved = changed(closed, happy)
    x0, y0, x1, y1 = _eye_box(ident, 1)
    assert moved[y0:y1, x0:x1].sum() > 20 and not moved[:, :256].any()

    def lash_y(img):  # the dark lash line's mean height over the eye's middle third
        x0, y0, x1, y1 = _eye_box(ident, 1)
        w = (x1 - x0) // 3
        grey = img[y0:y1, x0 + w:x1 - w, :3].mean(-1)
        ys, _ = np.nonzero((grey < 90) & (img[y0:y1, x0 + w:x1 - w, 3] > 200))
        assert len(ys) > 0
        return ys.mean()

    assert lash_y(happy) < lash_y(closed) - 1.0  # the middle of the line rises: ^ not _


@pytest.mark.parametrize("cid", IDS[:3])
def test_brow_angle_tilts_the_inner_end(cid):
    ident = identity_for(cid)
    troubled = draw_character(ident, {"brow_left_angle": 1.0})
    angry = draw_character(ident, {"brow_left_angle": -1.0})
    moved = changed(troubled, angry)
    ys, xs = np.nonzero(moved)
    assert len(xs) > 10 and xs.min() > 256  # the character's left brow is on the image's right
    lum = lambda img: img[..., :3].astype(int).sum(-1)  # noqa: E731
    darker_up = moved & (lum(troubled) < lum(angry))  # where the troubled brow is drawn
    darker_down = moved & (lum(angry) < lum(troubled))
    assert np.nonzero(darker_up)[0].mean() < np.nonzero(darker_down)[0].mean()


def test_expressions_are_sampled_only_when_asked():
    from engines.datagen.procedural.source import sample_expression
    from engines.posespec import EXPRESSIONS

    rng = np.random.default_rng(0)
    plain = [sample_expression(rng) for _ in range(300)]
    assert not any(set(p) & set(EXPRESSIONS) for p in plain)
    rng = np.random.default_rng(0)
    rich = [sample_expression(rng, expressions=True) for _ in range(300)]
    smiles = [p for p in rich if p.get("eye_left_smile", 0) > 0.2 or p.get("eye_right_smile", 0) > 0.2]
    assert len(smiles) > 30 and any("brow_left_angle" in p for p in rich)
    # Most smiles come with closing eyes, where they show.
    assert np.mean([min(p.get("eye_left_open", 1.0), p.get("eye_right_open", 1.0)) < 0.6 for p in smiles]) > 0.6
