"""The true backward flow of real Live2D renders: warping the reference with it gives the pose."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engines.datagen.dataset import mirror_flow
from engines.datagen.live2d import Live2DCharacter
from engines.datagen.live2d.flow import FLOW_RES, backward_flow
from engines.datagen.live2d.models import fetch_model
from engines.neural.motion_checks import floor, warp_by_flow as warp


@pytest.fixture(scope="module")
def z16() -> Live2DCharacter:
    return Live2DCharacter(fetch_model("z16"))


@pytest.mark.parametrize("pose", [{"head_yaw": 25.0}, {"head_roll": -20.0, "head_pitch": 10.0}])
def test_warping_the_reference_with_the_true_flow_reproduces_the_posed_render(z16, pose):
    ref, ref_meshes, matrix, frame = z16.render_with_meshes({})
    posed, posed_meshes, _, _ = z16.render_with_meshes(pose)
    flow, mask = backward_flow(ref_meshes, posed_meshes, matrix, frame)
    assert flow.shape == (FLOW_RES, FLOW_RES, 2) and mask.shape == (FLOW_RES, FLOW_RES)
    assert 0.02 < mask.mean() < 0.9
    known = cv2.resize(mask, (512, 512), interpolation=cv2.INTER_NEAREST) > 0
    known &= cv2.erode(known.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0  # away from mask edges
    err = lambda im: np.abs(im.astype(np.float32) - posed.astype(np.float32))[known].mean()
    # The pose moves things (standing still is wrong) and the flow says where they went.
    assert err(warp(ref, flow)) < 0.5 * err(ref)
    # The head moved a few pixels somewhere, and the flow knows it.
    assert np.abs(flow[mask > 0]).max() * 256 > 3.0


def test_mirrored_flow_describes_the_mirrored_images(z16):
    ref, ref_meshes, matrix, frame = z16.render_with_meshes({})
    posed, posed_meshes, _, _ = z16.render_with_meshes({"head_yaw": 25.0})
    flow, mask = backward_flow(ref_meshes, posed_meshes, matrix, frame)
    mflow, mmask = mirror_flow(flow, mask)
    ref_m, posed_m = ref[:, ::-1].copy(), posed[:, ::-1].copy()
    known = cv2.resize(mmask, (512, 512), interpolation=cv2.INTER_NEAREST) > 0
    known &= cv2.erode(known.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    err = lambda im: np.abs(im.astype(np.float32) - posed_m.astype(np.float32))[known].mean()
    assert err(warp(ref_m, mflow)) < 0.5 * err(ref_m)
    # Not the same as using the unmirrored flow on mirrored images.
    assert err(warp(ref_m, mflow)) < err(warp(ref_m, flow[:, ::-1].copy()))


def test_the_motion_measure_floor_is_low_but_not_zero_for_a_perfect_warp():
    """A true-flow warp moves things where they went (far below standing still's 1.0); what
    is left is the optical-flow estimate's own error and what no warp can show."""
    f = floor(["z16"], ("head_roll",))
    assert 0.0 < f["head_roll"] < 0.6
