"""Distilling the rotator's mirror ensemble into one lighter pass: the target is the runtime's
ensemble, training moves the student towards it, and the export runs one pass."""
from __future__ import annotations

import json
import shutil

import numpy as np
import torch
from PIL import Image

from engines.neural import distill
from engines.neural.compose import stage_vectors
from engines.neural.export import export
from engines.neural.model import load_networks, top_width
from engines.neural.runtime import WEIGHTS_DIR, NeuralEngine
from engines.neural.train import COMPACT_CHECKPOINT
from engines.resources import default_character

POSE = {"head_yaw": 20.0, "head_roll": -10.0, "body_yaw": 0.5, "breathing": 0.3}


def test_the_ensemble_target_is_the_runtimes_ensemble() -> None:
    engine = NeuralEngine.load(threads=1)
    engine.turn_scale = {}
    prepared = engine.prepare(np.asarray(Image.open(default_character()).convert("RGBA")))
    vec = engine.pose_spec.to_vector(POSE)[None]
    _, pr = stage_vectors(engine.pose_spec, vec)
    want = engine._rotation_maps(prepared, vec, pr)
    _, teacher, _ = load_networks(COMPACT_CHECKPOINT)
    got = distill.ensemble_maps(teacher, torch.from_numpy(prepared.small), vec, engine.pose_spec)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g[0].numpy(), w, atol=2e-3)


def test_distilling_moves_the_student_towards_the_ensemble_and_exports_one_pass(data, tmp_path) -> None:
    run = tmp_path / "run"
    assert distill.main(["--data", str(data), "--teacher", str(COMPACT_CHECKPOINT), "--top", "8",
                         "--run", str(run), "--max-steps", "12", "--val-every", "100", "--lr", "1e-3"]) == 0
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [0, 12] and log[1]["val_loss"] < log[0]["val_loss"]
    st = torch.load(run / "ckpt.pt")
    assert st["mirror_distilled"] and top_width(st["rotator"]) == 8 and "opt" not in st

    weights = tmp_path / "weights"  # the shipped weights with their turn calibration
    shutil.copytree(WEIGHTS_DIR, weights, ignore=shutil.ignore_patterns("*.pt", "*.lock", "*int8*"))
    before = json.loads((weights / "manifest.json").read_text())
    manifest = export(COMPACT_CHECKPOINT, weights, rotator_from=run / "ckpt.pt")
    assert manifest["mirror_distilled"] is True
    assert manifest["turn_scale"] == before["turn_scale"]  # distilled from those weights
    for name in ("morpher_encoder", "morpher_decoder", "rotator_encoder"):
        assert manifest["files"][name]["sha256"] == before["files"][name]["sha256"]

    rgba = np.asarray(Image.open(default_character()).convert("RGBA"))
    ensemble, single = (NeuralEngine.load(weights, threads=1, mirror_ensemble=m) for m in (True, False))
    a, b = ensemble.render(ensemble.prepare(rgba), POSE), single.render(single.prepare(rgba), POSE)
    np.testing.assert_array_equal(a, b)  # the ensemble is inside the one pass
    assert not np.array_equal(a, rgba)
