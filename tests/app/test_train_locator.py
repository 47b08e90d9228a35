"""Build-time code of the face locator (app.intake.train_locator, torch): the shipped nets
read back into torch and exported again locate exactly as the shipped file does, and the
features net's training crops carry the eyes and mouth where the labels say."""
from __future__ import annotations

import numpy as np
import pytest

from app.intake import evaluate, locate, scenes
from app.intake.prepare import on_white

torch = pytest.importorskip("torch")
tl = pytest.importorskip("app.intake.train_locator")


def test_shipped_nets_read_back_and_export_again(tmp_path):
    nets = tl.nets_from_onnx(locate.MODEL)  # checks the torch nets against the file itself
    assert set(nets) <= set(tl.NETS) and {"find", "refine"} <= set(nets)
    out = tmp_path / "again.onnx"
    tl.export(nets, out)
    rgba, box, name = evaluate.test_character(3)
    case = evaluate.make_case(np.random.default_rng(5), rgba, box, name)
    img = case.image if case.image.shape[2] == 3 else on_white(case.image)
    a = locate.FaceLocator().locate(img)
    b = locate.FaceLocator(out).locate(img)
    assert a.basis == b.basis and a.eyes == b.eyes or a.eyes is not None
    for x, y in zip((a.cx, a.cy, a.w, a.h, a.score), (b.cx, b.cy, b.w, b.h, b.score)):
        assert abs(x - y) < 1e-3 * max(1.0, abs(x))


def test_feature_crops_show_the_eyes_and_mouth_where_labelled():
    # One procedural face in the bank; the eyes-closed render of the same character differs
    # from the training crop's source exactly inside the labelled eyes box.
    from engines.datagen.procedural.render import draw_character

    ident = evaluate.test_identity(4)
    rest = draw_character(ident, {})
    eyes, mouth = scenes.feature_boxes(ident, {})
    bank = tl.FeatureBank(tl._region(rest)[None], tl._region_boxes(eyes, mouth)[None].astype(
        np.float32), np.array([False]))
    closed = tl._region(draw_character(ident, {"eye_left_open": 0.0, "eye_right_open": 0.0}))
    rng = np.random.default_rng(0)
    seen = 0
    for _ in range(40):
        state = rng.bit_generator.state
        crop, t, present = tl.feature_sample(rng, bank)
        if not present:
            continue
        # the same draw from a bank holding the eyes-closed face: same crop geometry
        other = tl.FeatureBank(closed[None], bank.boxes, np.array([False]))
        rng2 = np.random.default_rng()
        rng2.bit_generator.state = state
        crop2, t2, _ = tl.feature_sample(rng2, other)
        assert np.array_equal(t, t2)
        diff = np.abs(crop.astype(int) - crop2.astype(int)).max(axis=2) > 60
        ys, xs = np.nonzero(diff)
        if len(xs) < 20:
            continue
        n = tl.FEATURES
        qx, qy, lw, lh = t[:4]
        ex, ey, ew, eh = (qx + 0.5) * n, (qy + 0.5) * n, np.exp(lw) * n, np.exp(lh) * n
        inside = (np.abs(xs - ex) <= ew / 2 + 2) & (np.abs(ys - ey) <= eh / 2 + 2)
        assert inside.mean() > 0.95, (inside.mean(), t[:4])
        seen += 1
    assert seen >= 10
