"""The head-view rotator: made from a trained rotator it renders exactly as that rotator
until its refinement learns something, and the refinement stays inside the head region."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from engines.neural.head_view import (FINE, HeadViewRotator, feather, head_slices,  # noqa: E402
                                       load_rotator_state, run_rotator)
from engines.neural.model import apply_rotation, load_networks  # noqa: E402
from engines.neural.runtime import WEIGHTS_DIR  # noqa: E402


@pytest.fixture(scope="module")
def shipped_rotator():
    _, rotator, _ = load_networks(WEIGHTS_DIR / "training_checkpoint.pt")
    return rotator


def _inputs(n=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    rest = torch.rand(n, 4, FINE, FINE, generator=g)
    rest = torch.cat([rest[:, :3] * rest[:, 3:4], rest[:, 3:4]], 1)
    pose = torch.rand(n, 5, generator=g) * 2 - 1
    return rest, pose


def test_a_fresh_head_view_renders_as_its_base(shipped_rotator):
    hv = HeadViewRotator(shipped_rotator).eval()
    rest, pose = _inputs()
    with torch.no_grad():
        fine, color, mask, grid = run_rotator(hv, rest, pose)
        flow0, color0, mask0, grid0 = run_rotator(shipped_rotator, rest, pose)
        same = apply_rotation(rest, flow0, color0, mask0)  # the plain rotator's own warp at FINE
        out = apply_rotation(rest, fine, color, mask)
    assert torch.equal(grid, grid0)
    assert (out - same).abs().max() < 1e-5


def test_the_refinement_stays_in_the_head_region_and_fades_at_its_edges(shipped_rotator):
    hv = HeadViewRotator(shipped_rotator).eval()
    with torch.no_grad():  # a refinement that is not zero: a constant sideways residual
        hv.head_decoder.head.bias[0] = 0.4
    rest, pose = _inputs()
    with torch.no_grad():
        fine, _, _, grid = run_rotator(hv, rest, pose)
        base, _, _, grid0 = run_rotator(shipped_rotator, rest, pose)
    base_fine = F.interpolate(base, size=(FINE, FINE), mode="bilinear", align_corners=False)
    changed = (fine - base_fine).abs().amax(1)[0] > 1e-6
    rows, cols = head_slices()
    inside = torch.zeros_like(changed)
    inside[rows, cols] = True
    assert changed[inside].float().mean() > 0.9 and not changed[~inside].any()
    assert (grid - grid0).abs().max() > 0.01  # the 128 grid sees it too
    w = feather(rows.stop - rows.start, cols.stop - cols.start)[0, 0]
    assert w[0, 64] == 1.0  # the canvas' top edge: nothing above to blend with
    assert w[-1, 64] < 0.1 and w[64, 0] < 0.1 and w[64, -1] < 0.1 and w[64, 64] == 1.0


def test_a_plain_state_loads_as_the_base_and_a_head_view_state_round_trips(shipped_rotator):
    hv = HeadViewRotator()
    load_rotator_state(hv, shipped_rotator.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(hv.base.state_dict().values(),
                                                 shipped_rotator.state_dict().values()))
    with torch.no_grad():
        hv.head_decoder.head.bias[1] = 0.3
    again = HeadViewRotator()
    load_rotator_state(again, hv.state_dict())
    assert torch.equal(again.head_decoder.head.bias, hv.head_decoder.head.bias)


def test_the_head_view_wants_the_training_canvas_size(shipped_rotator):
    with pytest.raises(ValueError, match="256"):
        HeadViewRotator(shipped_rotator)(torch.zeros(1, 4, 128, 128), torch.zeros(1, 5))
