"""The prepare measurement on real Live2D renders (koharu, a validation rig): `omokage prepare`
with the real locator on pictures made at other scales and backgrounds, the real engine
animating the prepared image and the true convention image, both scored by the eval."""
from __future__ import annotations

import math

import cv2
import pytest

from app.intake import prepare_eval as pe


@pytest.fixture(scope="module")
def engine():
    from engines.neural.runtime import NeuralEngine

    return NeuralEngine.load(threads=1)


def test_two_pictures_are_placed_and_scored_against_the_convention_image(tmp_path, engine):
    results, subjects = pe.run(["koharu"], 2, tmp_path, seed=3, engine=engine, say=lambda _: None)
    (koharu,) = subjects
    # the harness itself: the true convention image, scored as if prepared, has no gap
    again = koharu.scores({"x": koharu.ch.render({})}, 1.0, 0.0, 0.0)["x"]
    assert again == koharu.convention
    assert koharu.gains_against(koharu.ch.render({}), koharu.ch.render) == koharu.convention_gain
    for floor in (koharu.floor, koharu.own_floor):
        assert set(floor) == set(pe.POSES) and all(map(math.isfinite, floor.values()))
    # the locator sees the true convention image as one: its face box, from the eyes (koharu
    # is big-eyed: the eye span sets the scale), at the target
    from app.intake.frame import close_to_target

    assert close_to_target(koharu.seen) and koharu.seen.basis == "eye span", koharu.seen
    assert len(results) == 2
    for r in results:
        assert not r.error, r.error
        out = cv2.imread(str(tmp_path / r.name.replace("in_", "out_").rsplit(".", 1)[0])
                         + ".png", cv2.IMREAD_UNCHANGED)  # read back by another decoder
        assert out.shape == (512, 512, 4) and out[0, 0, 3] == 0
        # placed: the convention's face lands where the true convention image has it
        assert r.centre_err <= pe.MAX_CENTRE_PX and abs(r.size_err) <= pe.MAX_SIZE, r
        assert set(r.gap) == set(pe.POSES)
        for cat, gap in r.gap.items():
            assert math.isfinite(gap) and gap == pytest.approx(r.prepared[cat] - r.convention[cat])
            # koharu prepares well (about -1 dB at worst here); a framing traced wrongly by
            # even half a pixel costs 2-4 dB, a face in the wrong place far more
            assert gap > -3.0, (cat, r)
        assert set(r.own_gap) == set(pe.POSES)
        for cat, gap in r.own_gap.items():
            # a truth traced into the wrong pixels would cost the gain several dB
            assert math.isfinite(gap) and gap > -3.0, (cat, r)
    lines = pe.summary(results, subjects)
    assert lines[0].startswith("2 pictures of 1 characters (koharu); 2 prepared")
    assert sum(line.startswith("eyes ") for line in lines) == 2  # both gaps' tables


def test_the_held_out_rig_is_refused(capsys):
    with pytest.raises(SystemExit) as e:
        pe.main(["--characters", "tsumiki", "--n", "1"])
    assert e.value.code == 2
    assert "held-out" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        pe.main(["--characters", "nobody"])
    assert "not an allowed Live2D character" in capsys.readouterr().err


def test_weights_that_are_not_an_export_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        pe.main(["--characters", "koharu", "--n", "1", "--weights", str(tmp_path)])
    assert e.value.code == 2
    assert "holds no manifest.json" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing written there
