"""Evaluation against true renders of an unseen procedural character, with the real engine."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engines.neural import evaluate as ev
from engines.neural.runtime import NeuralEngine


def test_score_is_perfect_for_the_truth_and_worse_for_the_rest_image() -> None:
    from engines.datagen.procedural import draw_character, identity_for

    ident = identity_for("proc-900001")
    rest = draw_character(ident, {})
    truth = draw_character(ident, {"mouth_open": 1.0})
    perfect = ev.score(rest, truth, truth)
    baseline = ev.score(rest, rest, truth)
    assert perfect["psnr_changed"] > 90 and perfect["ssim_head"] == pytest.approx(1.0)
    assert baseline["psnr_changed"] < 30 and baseline["ssim_head"] < 1.0


def test_evaluate_writes_every_category_and_a_sheet(tmp_path) -> None:
    from engines.datagen.procedural import draw_character, identity_for

    ident = identity_for("proc-900002")
    engine = NeuralEngine.load(threads=1)
    result = ev.evaluate({"proc-900002": lambda pose: draw_character(ident, pose)}, engine, tmp_path / "sheet.png")
    assert set(result["categories"]) == set(ev.CATEGORIES)
    for cat, entry in result["categories"].items():
        assert entry["n"] == len(ev.CATEGORIES[cat])
        for who in ("engine", "identity"):
            assert set(entry[who]) == {"psnr_head", "ssim_head", "psnr_changed"}
    json.dumps(result)  # plain JSON
    from PIL import Image

    sheet = np.asarray(Image.open(tmp_path / "sheet.png"))
    assert sheet.shape[1] == 2 * 160 * len(ev.CATEGORIES)


def test_eval_command_says_what_is_missing(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        ev.main(["--json", str(tmp_path / "o.json")])
    assert e.value.code == 2
    assert "nothing to evaluate" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ev.main(["--live2d", str(tmp_path / "missing.model.json"), "--json", str(tmp_path / "o.json")])
    assert "does not exist" in capsys.readouterr().err
