"""The rotator's pose-linear prior motions, the upgrade of older checkpoints and growing the pose input."""
from __future__ import annotations

import math

import pytest

import torch

from engines.neural.model import ROLL_PIVOT_Y, SHIFT_SCALE, Rotator, identity_grid, prior_flow, upgrade_rotator_state


def test_prior_motions_follow_the_pose() -> None:
    n, h, w = 1, 32, 32
    g = identity_grid(n, h, w)[0]
    roll_only = torch.zeros(n, 4, h, w)
    roll_only[:, 2] = 1.0
    flow = prior_flow(roll_only, torch.tensor([[0.0, 0.0, 1.0, 0.0, -1.0]]))[0]
    # Every pixel samples the point turned 30 degrees about the neck pivot: distances kept.
    src = g + flow.permute(1, 2, 0)
    pivot = torch.tensor([0.0, ROLL_PIVOT_Y])
    torch.testing.assert_close((src - pivot).norm(dim=-1), (g - pivot).norm(dim=-1), atol=1e-5, rtol=0)
    v0, v1 = g[0, 0] - pivot, src[0, 0] - pivot
    angle = math.atan2(v0[0] * v1[1] - v0[1] * v1[0], float(v0 @ v1))
    assert math.isclose(abs(angle), math.radians(30.0), abs_tol=1e-4)

    yaw_only = torch.zeros(n, 4, h, w)
    yaw_only[:, 0] = 2.0
    flow = prior_flow(yaw_only, torch.tensor([[-0.5, 0.0, 0.0, 0.0, -1.0]]))[0]
    torch.testing.assert_close(flow[0], torch.full((h, w), -SHIFT_SCALE))
    assert flow[1].abs().max() == 0


def test_old_checkpoints_upgrade_without_changing_the_output() -> None:
    torch.manual_seed(0)
    rot = Rotator().eval()
    state = rot.state_dict()
    old = dict(state)
    old["decoder.dec.head.weight"] = state["decoder.dec.head.weight"][:7]
    old["decoder.dec.head.bias"] = state["decoder.dec.head.bias"][:7]
    del old["decoder.template"]
    rot.load_state_dict(upgrade_rotator_state(old))
    assert rot.decoder.template.abs().max() == 0
    x, pose = torch.rand(2, 4, 128, 128), torch.rand(2, 5) * 2 - 1
    with torch.no_grad():
        flow, _, _ = rot(x, pose)
        raw = rot.decoder.dec(x, *rot.encoder(x), pose)
    torch.testing.assert_close(flow, raw[:, 0:2] * 0.25)
    assert upgrade_rotator_state(state) is state  # current layout passes through


@pytest.mark.parametrize("cls", ["Morpher", "Rotator"])
def test_new_pose_parameters_start_at_zero_weight_and_can_learn(cls) -> None:
    """Expression parameters are added by fine-tuning: a grown network behaves exactly as the
    old one whatever the new inputs are, and the new inputs receive gradient."""
    from engines.neural import model as mdl

    torch.manual_seed(0)
    old = getattr(mdl, cls)().eval()
    dim = mdl.pose_dim_of(old.state_dict())
    grown = getattr(mdl, cls)(dim + 3).eval()
    grown.load_state_dict(mdl.grow_pose_inputs(old.state_dict(), 3))
    assert mdl.pose_dim_of(grown.state_dict()) == dim + 3
    x = torch.rand(2, 4, 128, 128)
    pose = torch.rand(2, dim) * 2 - 1
    new = torch.cat([pose, torch.rand(2, 3) * 2 - 1], 1)
    with torch.no_grad():
        for a, b in zip(old(x, pose), grown(x, new)):
            assert torch.equal(a, b)
    out = grown(x, new)[0]
    out.mean().backward()
    w = grown.decoder.dec.mid[0][0].weight.grad
    assert w[:, -3:].abs().sum() > 0  # the new inputs can learn
    with pytest.raises(ValueError):
        mdl.grow_pose_inputs(old.state_dict(), -1)


def test_a_morpher_grown_for_the_expressions_renders_every_older_pose_as_before() -> None:
    """Once its new inputs have learnt (non-zero weights), a grown morpher still renders every
    pose that leaves the expression parameters at rest exactly as the morpher it grew from:
    the networks read those parameters relative to their defaults (PoseParam.centred), so at
    rest the new inputs are 0 (an eye smile's default is the bottom of its range, which the
    older -1..1 reading would have fed as -1)."""
    import numpy as np

    from engines.neural import model as mdl
    from engines.neural.compose import stage_vectors
    from engines.posespec import DEFAULT_POSE_SPEC, EXPRESSIONS

    torch.manual_seed(3)
    old = mdl.Morpher(8).eval()
    grown = mdl.Morpher(mdl.MORPH_POSE_DIM).eval()
    extra = mdl.MORPH_POSE_DIM - 8
    state = mdl.grow_pose_inputs(old.state_dict(), extra)
    for layer in mdl.POSE_INPUT_LAYERS:
        state[f"{layer}.weight"][:, -extra:] = torch.randn_like(state[f"{layer}.weight"][:, -extra:])
    grown.load_state_dict(state)
    rng = np.random.default_rng(0)
    older = [p for p in DEFAULT_POSE_SPEC.params if p.name not in EXPRESSIONS]
    poses = np.stack([DEFAULT_POSE_SPEC.to_vector({p.name: rng.uniform(p.lo, p.hi) for p in older})
                      for _ in range(3)])
    pm, _ = stage_vectors(DEFAULT_POSE_SPEC, poses)
    x = torch.rand(3, 4, 128, 128)
    with torch.no_grad():
        a = old(x, torch.from_numpy(pm[:, :8]))[0]
        b = grown(x, torch.from_numpy(pm))[0]
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
        smiling = pm.copy()
        smiling[:, DEFAULT_POSE_SPEC.stage_names("morph").index("eye_left_smile")] = 1.0
        assert (grown(x, torch.from_numpy(smiling))[0] - a).abs().max() > 1e-3  # the new input acts


@pytest.mark.parametrize("pose_dim", [5, 12])
def test_the_folded_decoder_computes_the_trained_function(pose_dim) -> None:
    """The pose folded into a bias map per level gives the same outputs, the border pixels
    (where the zero padding cuts the kernel) included, and really carries the pose."""
    from engines.neural.model import FoldedPoseDecoder, PoseDecoder

    torch.manual_seed(3)
    dec = PoseDecoder(pose_dim, 7).eval()
    for p in dec.parameters():  # trained-like weights, not the initialisation's
        p.data.normal_(0.0, 0.2)
    image = torch.rand(2, 4, 128, 128)
    feats = [torch.rand(2, c, s, s) for c, s in ((16, 64), (32, 32), (64, 16), (96, 8))]
    pose = torch.rand(2, pose_dim) * 2 - 1
    with torch.no_grad():
        want = dec(image, *feats, pose)
        folded = FoldedPoseDecoder(dec)
        torch.testing.assert_close(folded(image, *feats, pose), want, atol=1e-4, rtol=1e-4)
        folded.pose_w[3].mul_(1.5)
        assert float((folded(image, *feats, pose) - want).abs().max()) > 1e-3
