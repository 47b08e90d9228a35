"""Real renders of a small allowed Live2D model (z16, fetched through npm into the cache)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engines.convention import HEAD_BOX
from engines.datagen.live2d import Live2DCharacter, ModelError
from engines.datagen.live2d import framing as fr
from engines.datagen.live2d.models import fetch_model


@pytest.fixture(scope="module")
def z16() -> Live2DCharacter:
    return Live2DCharacter(fetch_model("z16"))


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1) > 40


def centroid(mask: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(mask)
    assert len(xs) > 0, "nothing changed"
    return float(xs.mean()), float(ys.mean())


def test_render_is_straight_alpha_rgba_on_transparent_background(z16):
    img = z16.render({})
    assert img.shape == (512, 512, 4) and img.dtype == np.uint8
    assert img[0, 0, 3] == 0 and img[511, 0, 3] == 0  # corners transparent
    x0, y0, x1, y1 = HEAD_BOX
    head = img[y0:y1, x0:x1]
    assert (head[..., 3] == 255).mean() > 0.5  # the head is opaque inside the box
    # Straight alpha: half-transparent edge pixels keep full-strength colours, not darkened ones.
    edge = (img[..., 3] > 20) & (img[..., 3] < 200)
    assert edge.any()
    assert img[edge][:, :3].max(axis=-1).mean() > 90


def test_eyes_closed_differs_in_the_eye_region_only(z16):
    rest = z16.render({})
    closed = z16.render({"eye_left_open": 0.0, "eye_right_open": 0.0})
    diff = changed(rest, closed)
    assert diff.sum() > 300
    ys, xs = np.nonzero(diff)
    x0, y0, x1, y1 = HEAD_BOX
    # Everything that changed lies in one horizontal band inside the head box ...
    assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1
    assert ys.max() - ys.min() < 40
    # ... on both sides of the face centre (two eyes), nothing at the mouth or beyond.
    assert (xs < 256).sum() > 100 and (xs > 256).sum() > 100


def test_left_and_right_follow_the_posespec(z16):
    rest = z16.render({})
    lx, _ = centroid(changed(rest, z16.render({"eye_left_open": 0.0})))
    rx, _ = centroid(changed(rest, z16.render({"eye_right_open": 0.0})))
    assert lx > 256 > rx  # the character's own left eye is on the image's right


def _eye_centres(ch: Live2DCharacter, pose: dict, **kw) -> tuple[tuple[float, float], tuple[float, float]]:
    base = ch.render(pose, **kw)
    left = centroid(changed(base, ch.render({**pose, "eye_left_open": 0.0}, **kw)))
    right = centroid(changed(base, ch.render({**pose, "eye_right_open": 0.0}, **kw)))
    return left, right


def test_head_angle_signs_follow_the_posespec(z16):
    (lx0, ly0), (rx0, ry0) = _eye_centres(z16, {})
    (lxp, _), (rxp, _) = _eye_centres(z16, {"head_yaw": 30.0})
    (lxm, _), (rxm, _) = _eye_centres(z16, {"head_yaw": -30.0})
    assert lxp + rxp > lx0 + rx0 + 8 > lxm + rxm + 16  # yaw > 0: the face turns toward the image's right
    (_, lyp), (_, ryp) = _eye_centres(z16, {"head_pitch": 30.0})
    assert lyp + ryp < ly0 + ry0 - 6  # pitch > 0: chin up, features move up
    (_, lyr), (_, ryr) = _eye_centres(z16, {"head_roll": 30.0})
    assert lyr > ryr + 4  # roll > 0: clockwise, the image-right eye drops


def test_framing_lands_the_face_in_the_head_box(z16):
    # Measured from scratch (not the cached value) and checked on the render itself.
    eyes, mouth, head = fr.measure(lambda p, s, tx, ty: z16._draw(p, {}, {}, s, tx, ty, 512), z16.model.canvas)
    fresh = fr.framing_from_landmarks(eyes, mouth, head, "z16")
    assert fresh.scale == pytest.approx(z16.framing.scale, rel=0.02)
    rest = z16.render({}, framing=fresh)
    ex, ey = centroid(changed(rest, z16.render({"eye_left_open": 0, "eye_right_open": 0}, framing=fresh)))
    mx, my = centroid(changed(rest, z16.render({"mouth_open": 1.0}, framing=fresh)))
    x0, y0, x1, y1 = HEAD_BOX
    assert abs(ex - (x0 + x1) / 2) < 6
    assert abs(ey - (y0 + fr.EYE_LINE_Y * (y1 - y0))) < 6
    assert x0 < mx < x1 and ey < my < y1
    # The head fills the box: opaque pixels reach its left, right and top thirds.
    alpha = rest[..., 3] > 128
    assert alpha[y0:y1, x0:x0 + 20].any() and alpha[y0:y1, x1 - 20:x1].any() and alpha[y0:y0 + 30, x0:x1].any()


def test_mapping_respects_the_models_own_ranges(z16):
    m = z16.mapping
    # z16's eyes look closed at its default 1.0; its idle motion holds them open at 0.5.
    eye = m.axes["eye_left_open"]
    assert eye.hi == pytest.approx(0.5) and eye.lo == pytest.approx(0.0)
    rest = m.to_params({})
    assert rest["PARAM_EYE_L_OPEN"] == pytest.approx(0.5)
    assert rest["PARAM_ANGLE_X"] == 0.0 and rest["PARAM_MOUTH_OPEN_Y"] == 0.0
    rng = np.random.default_rng(0)
    spec = z16.spec
    for _ in range(200):
        pose = {p.name: rng.uniform(p.lo - 0.5 * (p.hi - p.lo), p.hi + 0.5 * (p.hi - p.lo)) for p in spec.params}
        for pid, v in m.to_params(pose).items():
            info = z16.params[pid]
            assert info.lo - 1e-6 <= v <= info.hi + 1e-6, (pid, v, info)
    ax = z16.params["PARAM_ANGLE_X"]
    assert m.to_params({"head_yaw": 30.0})["PARAM_ANGLE_X"] == pytest.approx(ax.hi)
    assert m.to_params({"head_yaw": -30.0})["PARAM_ANGLE_X"] == pytest.approx(ax.lo)


def test_mapping_reads_unusual_ranges():
    from engines.datagen.live2d.mapping import PoseMapping
    from engines.datagen.live2d.rig import ParamInfo

    # shizuku-like: eyes -1..2 (open 1), mouth 0..2, no PARAM_BODY_ANGLE_X but PARAM_BODY_X.
    params = {p.id: p for p in (
        ParamInfo("PARAM_EYE_L_OPEN", -1.0, 2.0, 1.0), ParamInfo("PARAM_MOUTH_OPEN_Y", 0.0, 2.0, 0.0),
        ParamInfo("PARAM_BODY_X", -10.0, 10.0, 0.0), ParamInfo("PARAM_ANGLE_X", -15.0, 15.0, 12.0),
    )}
    m = PoseMapping(params)
    assert m.to_params({"eye_left_open": 0.0})["PARAM_EYE_L_OPEN"] == 0.0
    assert m.to_params({})["PARAM_EYE_L_OPEN"] == 1.0
    assert m.to_params({"mouth_open": 1.0})["PARAM_MOUTH_OPEN_Y"] == 1.0
    assert m.to_params({"body_yaw": -1.0})["PARAM_BODY_X"] == -10.0
    assert m.to_params({})["PARAM_ANGLE_X"] == 0.0  # rest is explicit, not the model's default 12
    assert m.to_params({"head_yaw": 30.0})["PARAM_ANGLE_X"] == 15.0
    assert not m.supports("iris_x") and "PARAM_EYE_BALL_X" not in m.to_params({"iris_x": 1.0})


def test_bad_model_paths_say_what_is_wrong(tmp_path):
    with pytest.raises(ModelError, match="no such model file"):
        Live2DCharacter(tmp_path / "missing.model.json")
    cubism3 = tmp_path / "x.model3.json"
    cubism3.write_text(json.dumps({"model": "x.moc3", "textures": []}))
    with pytest.raises(ModelError, match="not a Cubism 2"):
        Live2DCharacter(cubism3)
    broken = tmp_path / "b.model.json"
    broken.write_text(json.dumps({"model": "b.moc", "textures": ["t.png"]}))
    with pytest.raises(ModelError, match="model file b.moc is missing"):
        Live2DCharacter(broken)
    (tmp_path / "b.moc").write_bytes(b"moc")
    with pytest.raises(ModelError, match="texture t.png is missing"):
        Live2DCharacter(broken)


def test_controls_without_visible_effect_are_not_supported(z16):
    rest = z16.render({})
    for p in z16.spec.params:
        ends = [v for v in (p.lo, p.hi) if v != p.default]
        moved = max(int(changed(rest, z16.render({p.name: v})).sum()) for v in ends)
        if z16.supports(p.name):
            assert moved > 0, p.name
        elif p.pair is None or not z16.supports(p.pair):
            assert moved < 20, p.name
    # z16 has the eyes, mouth and head controls the engine needs.
    for name in ("eye_left_open", "eye_right_open", "mouth_open", "head_yaw", "head_pitch", "head_roll"):
        assert z16.supports(name)


def _dark_centroid(img: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    w = (255.0 - img[..., :3].mean(axis=-1)) * (img[..., 3] / 255.0) * mask
    ys, xs = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    return float((w * xs).sum() / w.sum()), float((w * ys).sum() / w.sum())


def test_brow_and_iris_signs_follow_the_posespec(z16):
    up = z16.render({"brow_left": 1.0, "brow_right": 1.0})
    down = z16.render({"brow_left": -1.0, "brow_right": -1.0})
    m = changed(up, down)
    assert m.sum() > 30
    assert _dark_centroid(up, m)[1] < _dark_centroid(down, m)[1]  # +1 raises the brows
    right, left = z16.render({"iris_x": 1.0}), z16.render({"iris_x": -1.0})
    m = changed(right, left)
    assert _dark_centroid(right, m)[0] > _dark_centroid(left, m)[0] + 1  # +1: toward the image's right
    high, low = z16.render({"iris_y": 1.0}), z16.render({"iris_y": -1.0})
    m = changed(high, low)
    assert _dark_centroid(high, m)[1] < _dark_centroid(low, m)[1] - 0.5  # +1: up


def test_turn_gains_scale_how_far_each_part_turns(z16):
    rest = z16.render({})
    yaw = {"head_yaw": 20.0}
    rigged = z16.render(yaw)
    parts = z16.model.part_count
    # Gain 0 everywhere: no part follows the turn; gain 1: the rig as drawn.
    assert np.array_equal(z16.render(yaw, turn_gains=np.zeros(parts)), rest)
    assert np.array_equal(z16.render(yaw, turn_gains=np.ones(parts)), rigged)
    # Half the turn lands between rest and the full turn.
    (lx0, _), (rx0, _) = _eye_centres(z16, {})
    (lx1, _), (rx1, _) = _eye_centres(z16, yaw)
    (lxh, _), (rxh, _) = _eye_centres(z16, yaw, turn_gains=np.full(parts, 0.5))
    assert lx0 + rx0 + 2 < lxh + rxh < lx1 + rx1 - 2
    # Holding one part still changes the render, and the next plain render is the rig again.
    for part in range(parts):
        gains = np.ones(parts)
        gains[part] = 0.0
        if not np.array_equal(z16.render(yaw, turn_gains=gains), rigged):
            break
    else:
        pytest.fail("no single part's gain changed the render")
    assert np.array_equal(z16.render(yaw), rigged)
    # Above 1 a part stops at the rig's extreme keyform; no part vanishes past it.
    extreme = {"head_yaw": 30.0, "head_pitch": -30.0}
    assert np.array_equal(z16.render(extreme, turn_gains=np.full(parts, 1.5)), z16.render(extreme))
    with pytest.raises(ModelError, match="turn gains"):
        z16.render(yaw, turn_gains=[1.0])


@pytest.fixture(scope="module")
def chitose() -> Live2DCharacter:
    return Live2DCharacter(fetch_model("chitose"))


def test_eye_smile_curves_closing_lids_and_is_probed_there(chitose):
    """A rig's eye smile shows only as the eye closes, so it is probed from closed eyes (an
    open-eye probe would call it dead and the data would never teach happy eyes)."""
    ch = chitose
    assert ch.supports("eye_left_smile") and ch.supports("eye_right_smile")
    assert not changed(ch.render({"eye_left_smile": 1.0}), ch.render({})).any()
    shut = {"eye_left_open": 0.0, "eye_right_open": 0.0}
    happy = changed(ch.render({**shut, "eye_left_smile": 1.0}), ch.render(shut))
    assert happy.sum() > 20
    assert centroid(happy)[0] > 256  # the character's left eye is on the image's right


def test_brow_angle_moves_the_named_brow(chitose):
    for name, side in (("brow_left_angle", 1), ("brow_right_angle", -1)):
        assert chitose.supports(name)
        moved = changed(chitose.render({name: -1.0}), chitose.render({name: 1.0}))
        assert moved.sum() > 20
        assert (centroid(moved)[0] - 256) * side > 0
