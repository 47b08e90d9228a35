"""Training runs, writes its checkpoints and validation images, and resumes where it stopped."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engines.datagen.dataset import ShardSampler
from engines.neural import train
from engines.posespec import DEFAULT_POSE_SPEC, HEAD_TURNS


def test_training_writes_checkpoints_and_resumes(data, tmp_path) -> None:
    run, ckpt = tmp_path / "run", tmp_path / "ckpt.pt"
    common = ["--data", str(data), "--run", str(run), "--checkpoint", str(ckpt), "--save-every", "2",
              "--val-every", "100", "--minutes", "5", "--lr-end", "1e-5"]
    assert train.main(common + ["--max-steps", "3"]) == 0
    first = torch.load(run / "state.pt")
    assert first["step"] == 3
    compact = torch.load(ckpt)
    assert set(compact) >= {"morpher", "rotator", "step"} and "opt_m" not in compact
    assert (run / "val_0000003.png").stat().st_size > 0
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 3 and np.isfinite(log[-1]["val_rotate_loss"])

    assert train.main(common + ["--max-steps", "5", "--weight-decay", "0.01", "--shape-warp", "1.0",
                              "--colour-jitter", "1.0", "--flip", "0.5"]) == 0
    second = torch.load(run / "state.pt")
    assert second["step"] == 5  # continued from 3, not restarted from 0
    # The resumed run trains with its own decay, not the one saved with the optimiser.
    assert second["opt_r"]["param_groups"][0]["weight_decay"] == 0.01
    moved = [not torch.equal(first["rotator"][k], second["rotator"][k]) for k in first["rotator"]]
    assert any(moved)


def test_relabelled_turns_stay_in_range_and_scale(data) -> None:
    b = ShardSampler({str(data): 1.0}, "train", seed=3).batch(36)
    scale = train.parse_turn_scale(["proc-=1.5,2.5,2.5"])
    out = train.relabel_turns(b, scale, 8)
    assert 0 < len(out["pose"]) <= 8
    turns = [DEFAULT_POSE_SPEC.names.index(t) for t in HEAD_TURNS]
    assert (np.abs(out["pose"][:, turns]) <= 30.0 + 1e-4).all()
    # Each kept row is an original row with its turns multiplied and nothing else changed.
    for i, row in enumerate(out["pose"]):
        j = int(np.flatnonzero((b["rest"] == out["rest"][i]).all((1, 2, 3)))[0])
        np.testing.assert_allclose(row[turns], b["pose"][j, turns] * np.array([1.5, 2.5, 2.5]), rtol=1e-5)
        others = [k for k in range(len(row)) if k not in turns]
        np.testing.assert_array_equal(row[others], b["pose"][j, others])
    with pytest.raises(SystemExit, match="PREFIX"):
        train.parse_turn_scale(["proc-=1,2"])


def test_learning_rate_decays_from_start_to_end() -> None:
    assert train.decayed_lr(1e-3, 1e-5, 0.0) == pytest.approx(1e-3)
    assert train.decayed_lr(1e-3, 1e-5, 1.0) == pytest.approx(1e-5)
    assert 1e-5 < train.decayed_lr(1e-3, 1e-5, 0.5) < 1e-3
