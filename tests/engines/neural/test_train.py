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

    # A schedule over steps carries across sessions: resumed at step 5 of 8, the rate is the
    # one of step 5, not of the start of a new time budget.
    assert train.main(common + ["--max-steps", "6", "--decay-steps", "8"]) == 0
    third = torch.load(run / "state.pt")
    assert third["step"] == 6
    want = train.decayed_lr(5e-4, 1e-5, 5 / 8)
    assert third["opt_r"]["param_groups"][0]["lr"] == pytest.approx(want)
    assert want < 0.5 * 5e-4


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


def test_flow_error_is_zero_for_the_true_flow_and_counts_only_known_pixels() -> None:
    rng = np.random.default_rng(0)
    b = {"flow": rng.normal(0, 0.05, (2, 128, 128, 2)).astype(np.float16),
         "flow_mask": np.zeros((2, 128, 128), np.uint8)}
    b["flow_mask"][:, 40:80, 40:80] = 1
    true = torch.from_numpy(b["flow"].astype(np.float32)).permute(0, 3, 1, 2)
    epe, n = train.flow_error_px(true, b, "cpu")
    assert float(epe) == pytest.approx(0.0, abs=1e-6) and int(n) == 2 * 40 * 40
    off = true.clone()
    off[:, 0] += 2.0 / 64.0  # 2 px of the 128 grid to the right, everywhere
    assert float(train.flow_error_px(off, b, "cpu")[0]) == pytest.approx(2.0, rel=1e-3)
    off[:, :, :10] += 1.0  # far off where the flow is unknown: not counted
    assert float(train.flow_error_px(off, b, "cpu")[0]) == pytest.approx(2.0, rel=1e-3)


def test_flips_mirror_the_flow_and_warps_forget_it() -> None:
    from engines.neural.flip_rows import flip_batch
    from engines.neural.shape_warp import FULL_KEYS, warp_batch

    rng = np.random.default_rng(1)
    n = 3
    b = {"rest": rng.integers(0, 255, (n, 256, 256, 4), dtype=np.uint8),
         "pose": np.zeros((n, len(DEFAULT_POSE_SPEC)), np.float32),
         "flow": rng.normal(0, 0.05, (n, 128, 128, 2)).astype(np.float16),
         "flow_mask": (rng.random((n, 128, 128)) > 0.5).astype(np.uint8)}
    f = flip_batch(b, np.random.default_rng(2), 1.0, ("rest",))
    np.testing.assert_array_equal(f["flow"][..., 0], -b["flow"][:, :, ::-1, 0])
    np.testing.assert_array_equal(f["flow"][..., 1], b["flow"][:, :, ::-1, 1])
    np.testing.assert_array_equal(f["flow_mask"], b["flow_mask"][:, :, ::-1])
    w = warp_batch(b, np.random.default_rng(3), 1.0, FULL_KEYS)
    assert w["flow_mask"].sum() == 0 and b["flow_mask"].sum() > 0  # the input is untouched


def test_a_rotator_trained_on_pictures_is_no_longer_marked_distilled(tmp_path) -> None:
    from engines.neural.model import Morpher, Rotator

    path = tmp_path / "ckpt.pt"
    torch.save({"morpher": Morpher().state_dict(), "rotator": Rotator().state_dict(), "step": 5,
                "mirror_distilled": True}, path)
    train.update_compact(path, Morpher(), None, 6)  # the morpher alone leaves the rotator's mark
    assert torch.load(path)["mirror_distilled"] is True
    train.update_compact(path, None, Rotator(), 7)
    assert "mirror_distilled" not in torch.load(path)


def _expression_data(root) -> None:
    """Rows whose expression parameters move (a disc in the face crop changes colour)."""
    import cv2

    from engines.datagen.dataset import Triple, pack_triples, shard_path, write_shard

    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        triples = []
        for i in range(8):
            rest = np.zeros((512, 512, 4), np.uint8)
            cv2.circle(rest, (256, 128), 50, (200, 150, 120, 255), -1)
            expr = rest.copy()
            smile = float(rng.uniform(0.3, 1.0))
            cv2.ellipse(expr, (236, 120), (12, 4), 0, 0, 180, (40, 20, 20, 255), -1)
            triples.append(Triple(rest, expr, expr.copy(), {"eye_left_smile": smile, "brow_left_angle": -smile},
                                  f"t{i}"))
        write_shard(shard_path(root, split, 0), pack_triples(triples))


def test_new_inputs_only_learns_the_new_parameters_and_keeps_every_old_weight(tmp_path) -> None:
    """A morpher made before the expression parameters is grown to read them and fine-tuned on
    them alone: every weight it had stays bit-identical (so every old pose renders exactly as
    before), and the new inputs' weights learn."""
    from engines.neural.model import (MORPH_POSE_DIM, POSE_INPUT_LAYERS, Morpher, Rotator,
                                      pose_dim_of)

    data = tmp_path / "expr"
    _expression_data(data)
    torch.manual_seed(1)
    old = {"morpher": Morpher(8).state_dict(), "rotator": Rotator().state_dict(), "step": 0}
    ckpt, run = tmp_path / "ckpt.pt", tmp_path / "run"
    torch.save(old, ckpt)
    args = ["--data", str(data), "--run", str(run), "--checkpoint", str(ckpt), "--only", "morpher",
            "--new-inputs-only", "--val-every", "100", "--lr", "1e-2", "--minutes", "5", "--max-steps", "4"]
    assert train.main(args) == 0
    new = torch.load(ckpt)["morpher"]
    assert pose_dim_of(new) == MORPH_POSE_DIM
    extra = MORPH_POSE_DIM - 8
    for k, v in old["morpher"].items():
        if k.removesuffix(".weight") in POSE_INPUT_LAYERS:
            assert torch.equal(new[k][:, :-extra], v), k
            assert new[k][:, -extra:].abs().sum() > 0, k  # started at zero, learnt
        else:
            assert torch.equal(new[k], v), k
    # Resuming keeps the freeze (the state remembers what the morpher read at the start).
    assert train.main(args[:-1] + ["6"]) == 0
    again = torch.load(ckpt)["morpher"]
    for k, v in old["morpher"].items():
        if k.removesuffix(".weight") not in POSE_INPUT_LAYERS:
            assert torch.equal(again[k], v), k
        else:
            assert torch.equal(again[k][:, :-extra], v), k
    with pytest.raises(SystemExit, match="--only morpher"):
        train.main(["--data", str(data), "--run", str(tmp_path / "r2"), "--checkpoint", str(ckpt),
                    "--new-inputs-only", "--max-steps", "1"])


def test_keep_old_poses_trains_the_decoder_and_holds_old_poses_to_the_starting_morpher(tmp_path) -> None:
    """--keep-old-poses: the whole decoder learns the new parameters from rows that show them,
    while every row at rest is held to the starting morpher's own output (zero loss where the
    grown morpher still renders as it did); the encoder stays fixed, and a resumed run keeps
    the starting morpher as its reference, not the checkpoint it has since overwritten."""
    from engines.neural.model import MORPH_POSE_DIM, Morpher, Rotator, grow_pose_inputs
    from engines.posespec import EXPRESSIONS

    data = tmp_path / "expr"
    _expression_data(data)
    torch.manual_seed(2)
    teacher = Morpher(8).eval()
    grown = Morpher(MORPH_POSE_DIM)
    grown.load_state_dict(grow_pose_inputs(teacher.state_dict(), MORPH_POSE_DIM - 8))
    b = ShardSampler({str(data): 1.0}, "train", seed=0).batch(4)
    with torch.no_grad():
        shown, _ = train.keep_old_loss(grown, teacher, b, "cpu", 8)
        idx = [DEFAULT_POSE_SPEC.names.index(n) for n in EXPRESSIONS]
        b["pose"][:, idx] = [DEFAULT_POSE_SPEC[n].default for n in EXPRESSIONS]
        at_rest, _ = train.keep_old_loss(grown, teacher, b, "cpu", 8)
    assert float(shown) > 1e-3 and float(at_rest) < 1e-6

    old = {"morpher": teacher.state_dict(), "rotator": Rotator().state_dict(), "step": 0}
    ckpt, run = tmp_path / "ckpt.pt", tmp_path / "run"
    torch.save(old, ckpt)
    args = ["--data", str(data), "--run", str(run), "--checkpoint", str(ckpt), "--only", "morpher",
            "--keep-old-poses", "--val-every", "100", "--lr", "1e-2", "--minutes", "5", "--max-steps", "3"]
    assert train.main(args) == 0
    assert train.main(args[:-1] + ["5"]) == 0
    new, state = torch.load(ckpt)["morpher"], torch.load(run / "state.pt")
    for k, v in old["morpher"].items():
        assert torch.equal(state["teacher"][k], v), k  # the reference is the starting morpher
        if k.startswith("encoder."):
            assert torch.equal(new[k], v), k
    assert not torch.equal(new["decoder.dec.u0.0.weight"], old["morpher"]["decoder.dec.u0.0.weight"])
    with pytest.raises(SystemExit, match="--edge-weight applies"):
        train.main(["--data", str(data), "--run", str(tmp_path / "r4"), "--checkpoint", str(ckpt),
                    "--only", "morpher", "--edge-weight", "1", "--max-steps", "1"])
    # The checkpoint's morpher now reads every parameter: a new run has nothing to add.
    with pytest.raises(SystemExit, match="nothing is new"):
        train.main(["--data", str(data), "--run", str(tmp_path / "r3"), "--checkpoint", str(ckpt),
                    "--only", "morpher", "--keep-old-poses", "--max-steps", "1"])


def test_committed_edges_costs_a_smear_more_than_a_line_a_pixel_off() -> None:
    """The pixel losses rank a smear above a line drawn two pixels off; committed_edges ranks
    them the other way (the smear draws no line at all), and is zero for the target."""
    import cv2

    img = np.full((2, 128, 128, 4), 220, np.uint8)
    cv2.ellipse(img[0], (64, 60), (24, 9), 0, 180, 360, (40, 20, 20, 255), 2)
    cv2.ellipse(img[1], (60, 70), (20, 8), 0, 0, 180, (40, 20, 20, 255), 2)
    target = train.to_tensor(img)
    rest = train.to_tensor(np.full_like(img, 220))
    w = train.changed_weight(rest, target, 40.0)
    smear = torch.nn.functional.avg_pool2d(target, 7, 1, 3)
    off = torch.roll(target, 2, 2)

    def pixels(x):
        return float(train.pixel_loss(x, target, w))

    assert pixels(smear) < pixels(off)
    assert float(train.committed_edges(target, target, w)) == 0.0
    assert float(train.committed_edges(off, target, w)) < 0.2 * float(train.committed_edges(smear, target, w))
