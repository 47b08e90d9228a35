"""The procedural characters' true backward flow: warping the rest drawing by it gives the
posed drawing (with any way of turning), at rest it is zero, and shards built with it carry it."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engines.datagen.procedural import draw_character, sample_identity
from engines.datagen.procedural.flow import FLOW_RES, backward_flow, rest_pose
from engines.datagen.procedural.geometry import Turning
from engines.datagen.procedural.source import ProceduralSource
from engines.neural.motion_checks import warp_by_flow


FAR_TURNING = Turning(depth=1.3, spread=0.88, fore=0.5, pivot_dy=25.0)


@pytest.mark.parametrize("seed,turning", [(0, None), (1, None), (0, FAR_TURNING)])
@pytest.mark.parametrize("pose", [{"head_yaw": 20.0}, {"head_roll": -15.0, "head_pitch": 8.0},
                                  {"body_yaw": 0.8, "mouth_open": 0.6}])
def test_warping_the_rest_drawing_by_the_flow_gives_the_posed_drawing(seed, turning, pose):
    ident = sample_identity(np.random.default_rng(seed))
    flow, mask = backward_flow(ident, pose, turning)
    assert flow.shape == (FLOW_RES, FLOW_RES, 2) and mask.shape == (FLOW_RES, FLOW_RES)
    assert 0.1 < mask.mean() < 0.6
    posed = draw_character(ident, pose, turning)
    ref = draw_character(ident, rest_pose(pose), turning)
    known = cv2.resize(mask.astype(np.uint8), (512, 512), interpolation=cv2.INTER_NEAREST) > 0
    known &= cv2.erode(known.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0  # away from edges
    err = lambda im: np.abs(im.astype(np.float32) - posed.astype(np.float32))[known].mean()
    # The pose moves things (standing still is wrong) and the flow says where they went.
    assert err(warp_by_flow(ref, flow)) < 0.5 * err(ref)
    assert np.abs(flow[mask]).max() * 256 > 5  # some part moved more than 5 px


def test_at_rest_nothing_moves_and_the_character_is_known():
    ident = sample_identity(np.random.default_rng(2))
    flow, mask = backward_flow(ident, {})
    alpha = cv2.resize(draw_character(ident, {})[..., 3], (FLOW_RES, FLOW_RES),
                       interpolation=cv2.INTER_NEAREST) > 0
    # Known over nearly all of the character (a draw call whose points the transform did not
    # map stays unknown) and hardly outside it (the ID drawing has no antialiased edges).
    assert mask[alpha].mean() > 0.85 and mask[~alpha].mean() < 0.01
    assert np.abs(flow).max() * 256 < 0.5  # under half a pixel of the 512 canvas


def test_a_source_with_flow_stores_it_in_its_triples():
    src = ProceduralSource(n_train=4, n_val=1, flow=True)
    triple = src.make_triple(src.characters("train")[0], np.random.default_rng(0))
    assert triple.flow is not None and triple.flow_mask.any()
    assert ProceduralSource(n_train=4, n_val=1).make_triple(
        src.characters("train")[0], np.random.default_rng(0)).flow is None


def test_ways_of_turning_move_the_layers_by_different_amounts():
    ident = sample_identity(np.random.default_rng(3))
    pose = {"head_yaw": 25.0}
    own, own_mask = backward_flow(ident, pose)
    far, far_mask = backward_flow(ident, pose, FAR_TURNING)
    head = own_mask & far_mask
    head[FLOW_RES // 2:] = False  # the upper half of the canvas: head and hair
    # The same character at the same angle: a deeper layout moves the head further
    # (px of the 512 canvas), and its pixels come from places whole pixels apart.
    own_px, far_px = (np.abs(f[head, 0]).mean() * 256 for f in (own, far))
    assert far_px > 1.2 * own_px > 1.2
    assert np.percentile(np.abs(own - far)[head] * 256, 90) > 2.0
    # The default Turning is the generator's own layout, bit for bit.
    assert np.array_equal(draw_character(ident, pose), draw_character(ident, pose, Turning()))


def test_a_source_with_turnings_draws_triples_that_turn_differently():
    plain = ProceduralSource(n_train=4, n_val=1)
    turned = ProceduralSource(n_train=4, n_val=1, turnings=True)
    char = plain.characters("train")[0]
    a = plain.make_triple(char, np.random.default_rng(5))
    b = turned.make_triple(char, np.random.default_rng(5))
    assert a.pose == b.pose and np.array_equal(a.rest, b.rest)  # same character and pose
    assert not np.array_equal(a.posed, b.posed)
