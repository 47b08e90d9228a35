"""The rotator with a second, finer view of the head (training-side experiment).

The rotator sees the whole 512 canvas at 128 px, so the head box (128 px at 512) is 32 px
wide there and an eye a few pixels: too coarse to tell face features, the face outline and
the hair layers apart, which is what a head turn moves by different amounts (parallax). Here
a second encoder-decoder looks at the head region (EVAL_HEAD_REGION, 256 px at 512) at twice
the resolution of the whole-canvas view and adds a refinement to the grid there: a residual
and changes of the per-pixel participation in the four turn motions. Its output layer starts
at zero, so a HeadViewRotator made from a trained Rotator renders exactly as that rotator
until trained.

Training shards hold the canvas at 256 px, so the head region is 128 px there and the head
view reads it 1:1. The combined grid is at 256 (2x the rotator's grid); the end-point error
against the stored 128-px true flow is taken after 2x2 average pooling.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from engines.convention import CANVAS, EVAL_HEAD_REGION
from engines.neural.model import (ROTATE_POSE_DIM, Encoder, PoseDecoder, Rotator, identity_grid,
                                  prior_flow)

FINE = 256  # canvas side of the combined grid (the training images' side)
FEATHER_PX = 12  # the refinement fades out over this many px of the fine grid at the region's edges


def head_slices(side: int = FINE) -> tuple[slice, slice]:
    """Rows and columns of the head region on a canvas of `side` px."""
    k = side / CANVAS
    x0, y0, x1, y1 = (round(v * k) for v in EVAL_HEAD_REGION)
    return slice(y0, y1), slice(x0, x1)


def feather(h: int, w: int, px: int = FEATHER_PX, top_open: bool = True) -> torch.Tensor:
    """(1,1,h,w) weights: 1 inside, ramping to 0 over `px` at the edges; the top edge is the
    canvas border (nothing beyond it to blend with), so it stays 1 when `top_open`."""
    def ramp(n: int) -> torch.Tensor:  # 0 -> 1 over px from the first element on
        return torch.clamp((torch.arange(n, dtype=torch.float32) + 0.5) / px, max=1.0)

    ry = ramp(h).flip(0) if top_open else torch.minimum(ramp(h), ramp(h).flip(0))
    rx = torch.minimum(ramp(w), ramp(w).flip(0))
    return (ry[:, None] * rx[None, :])[None, None]


class HeadViewRotator(nn.Module):
    """Rotator (whole canvas at 128) + head view (head region at 2x); forward takes the canvas
    at FINE px and returns grid offset, colour and mask at FINE px."""

    N_HEAD_OUT = 2 + 4  # residual flow, participation changes of yaw/pitch/roll/body

    def __init__(self, base: Rotator | None = None, pose_dim: int = ROTATE_POSE_DIM) -> None:
        super().__init__()
        self.base = base if base is not None else Rotator(pose_dim)
        self.head_encoder = Encoder()
        self.head_decoder = PoseDecoder(pose_dim, self.N_HEAD_OUT)
        nn.init.zeros_(self.head_decoder.head.weight)
        nn.init.zeros_(self.head_decoder.head.bias)
        rows, cols = head_slices()
        self.register_buffer("window", feather(rows.stop - rows.start, cols.stop - cols.start))

    def forward(self, rest: torch.Tensor, pose: torch.Tensor):
        return self.maps(rest, pose)[:3]

    def maps(self, rest: torch.Tensor, pose: torch.Tensor):
        """Grid offset, colour and mask at FINE px, and the grid offset on the rotator's 128
        grid (the plain rotator's grid plus the pooled refinement: exactly the plain
        rotator's while the refinement is zero)."""
        n, _, side, _ = rest.shape
        if side != FINE:
            raise ValueError(f"the head view takes the canvas at {FINE} px, got {side}")
        flow, color, mask = self.base(F.avg_pool2d(rest, FINE // 128), pose)
        up = lambda t: F.interpolate(t, size=(FINE, FINE), mode="bilinear", align_corners=False)
        fine, color, mask = up(flow), up(color), up(mask)
        rows, cols = head_slices()
        head = rest[:, :, rows, cols]
        y = self.head_decoder(head, *self.head_encoder(head), pose)
        grid = identity_grid(n, FINE, FINE, rest.device)[:, rows, cols]
        delta = y[:, 0:2] * 0.25 + prior_flow(y[:, 2:6], pose, grid)
        placed = torch.zeros_like(fine)
        placed[:, :, rows, cols] = self.window * delta
        return fine + placed, color, mask, flow + F.avg_pool2d(placed, FINE // 128)


def run_rotator(rotator: nn.Module, rest: torch.Tensor, pose: torch.Tensor):
    """(grid offset, colour, mask, grid offset on the 128 grid) of either rotator for a
    training canvas `rest` (N,4,FINE,FINE): the plain one reads the 128-px view."""
    if isinstance(rotator, HeadViewRotator):
        return rotator.maps(rest, pose)
    flow, color, mask = rotator(F.avg_pool2d(rest, rest.shape[-1] // 128), pose)
    return flow, color, mask, flow


def load_rotator_state(rotator: nn.Module, state: dict) -> None:
    """A rotator state dict into a Rotator or a HeadViewRotator (a plain rotator's state
    becomes the head view's base, its refinement staying at zero)."""
    from engines.neural.model import upgrade_rotator_state

    head_state = any(k.startswith("base.") for k in state)
    if isinstance(rotator, HeadViewRotator) and not head_state:
        rotator.base.load_state_dict(upgrade_rotator_state(state))
    elif isinstance(rotator, HeadViewRotator):
        rotator.load_state_dict(state)
    else:
        rotator.load_state_dict(upgrade_rotator_state(state))


def load_rotator(checkpoint) -> nn.Module:
    """The rotator of a compact checkpoint, plain or with a head view, in eval mode."""
    state = torch.load(checkpoint, map_location="cpu")["rotator"]
    rotator = HeadViewRotator() if any(k.startswith("base.") for k in state) else Rotator()
    load_rotator_state(rotator, state)
    return rotator.eval()
