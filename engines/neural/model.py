"""The two networks of the neural engine (PyTorch; used for training and export only).

Both are split into an encoder that sees only the character (run once in prepare() and
cached) and a small decoder that takes the cached features plus the pose (run per frame).
Images are premultiplied RGBA in [0, 1].

Face morpher (GANimation style) on the 128x128 face crop:
    out = A * warp(rest, small flow) + (1 - A) * C
Face rotator (appearance flow) on the whole image, predicted at 128x128:
    out = M * grid_sample(morphed, identity + flow) + (1 - M) * C
The rotator's grid, colour and mask are upsampled and applied at full resolution.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from engines.posespec import DEFAULT_POSE_SPEC

# How many parameters each network reads when made for the current PoseSpec; a checkpoint
# says its own (pose_dim_of), and an older one is grown to these (grow_pose_inputs).
MORPH_POSE_DIM = len(DEFAULT_POSE_SPEC.stage_names("morph"))
ROTATE_POSE_DIM = len(DEFAULT_POSE_SPEC.stage_names("rotate"))
MORPH_MAX_WARP = 6.0 / 128.0  # up to ~6 px of the 128 crop, in normalised units of the half-size
# Feature channels at 64, 32, 16 and 8 px. Sized for the CPU budget: each per-frame decoder
# costs ~0.19 GMAC (~4 ms in onnxruntime on one core).
CHANS = (16, 32, 64, 96)


def conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.2, inplace=True))


class Encoder(nn.Module):
    """128x128 RGBA -> features at 64, 32, 16 and 8 pixels (cached per character)."""

    def __init__(self, chans: tuple[int, int, int, int] = CHANS) -> None:
        super().__init__()
        c1, c2, c3, c4 = chans
        self.b1 = nn.Sequential(conv(4, c1, 2), conv(c1, c1))  # 64
        self.b2 = nn.Sequential(conv(c1, c2, 2), conv(c2, c2))  # 32
        self.b3 = nn.Sequential(conv(c2, c3, 2), conv(c3, c3))  # 16
        self.b4 = nn.Sequential(conv(c3, c4, 2), conv(c4, c4))  # 8

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        f1 = self.b1(x)
        f2 = self.b2(f1)
        f3 = self.b3(f2)
        f4 = self.b4(f3)
        return f1, f2, f3, f4


class PoseDecoder(nn.Module):
    """Cached features + pose -> output maps at 128x128.

    The pose enters as constant maps concatenated at every scale, so each level can decide
    where the change goes from the character's own features.
    """

    def __init__(self, pose_dim: int, out_ch: int, chans: tuple[int, int, int, int] = CHANS, top: int = 16) -> None:
        super().__init__()
        c1, c2, c3, c4 = chans
        p = self.pose_dim = pose_dim
        self.mid = nn.Sequential(conv(c4 + p, c4), conv(c4, c4))  # 8
        self.u3 = nn.Sequential(conv(c4 + c3 + p, c3), conv(c3, c3))  # 16
        self.u2 = nn.Sequential(conv(c3 + c2 + p, c2), conv(c2, c2))  # 32
        self.u1 = nn.Sequential(conv(c2 + c1 + p, c1), conv(c1, c1))  # 64
        # 128, sees the image itself; `top` channels wide. This level and the head are a third
        # of the decoder's work, so a lighter decoder thins them first.
        self.u0 = conv(c1 + 4, top)
        self.head = nn.Conv2d(top, out_ch, 3, 1, 1)

    @staticmethod
    def _pose_map(pose: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return pose[:, :, None, None].expand(-1, -1, like.shape[2], like.shape[3])

    @staticmethod
    def _up(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)

    def forward(self, image: torch.Tensor, f1, f2, f3, f4, pose: torch.Tensor) -> torch.Tensor:
        x = self.mid(torch.cat([f4, self._pose_map(pose, f4)], 1))
        x = self.u3(torch.cat([self._up(x), f3, self._pose_map(pose, f3)], 1))
        x = self.u2(torch.cat([self._up(x), f2, self._pose_map(pose, f2)], 1))
        x = self.u1(torch.cat([self._up(x), f1, self._pose_map(pose, f1)], 1))
        x = self.u0(torch.cat([self._up(x), image], 1))
        return self.head(x)


def _spread(x: torch.Tensor, dim: int, n: int) -> torch.Tensor:
    """Stretch a 3-wide (first, inside, last) axis to n: first, inside repeated n - 2 times,
    last. Written as slices, an expand and a concat: in onnxruntime, copies (a Gather per
    axis took 7% of the folded rotator decoder's time)."""
    inside = x.narrow(dim, 1, 1)
    shape = [-1] * x.dim()
    shape[dim] = int(n) - 2
    return torch.cat([x.narrow(dim, 0, 1), inside.expand(*shape), x.narrow(dim, 2, 1)], dim)


class FoldedPoseDecoder(nn.Module):
    """The function of a trained PoseDecoder with the pose folded out of its convolutions.

    A convolution over [features, the pose broadcast to a constant map] is a convolution over
    the features plus the pose's share, and that share is the same at every pixel but the
    border ones (where the zero padding cuts the kernel): it is the pose convolved over a 3x3
    constant map (corner, edge, inside), spread to the level's size. So the pose enters each
    level as a bias map and the convolutions read image features only: fewer channels to
    concatenate per frame (the shipped rotator decoder is written this way, `export --fold`)
    and one value range, as int8 quantisation wants (measured in the README, *Speed*)."""

    def __init__(self, dec: PoseDecoder) -> None:
        super().__init__()
        self.pose_dim = p = dec.pose_dim
        self.levels = nn.ModuleList()
        self.pose_w = nn.ParameterList()
        for level in (dec.mid, dec.u3, dec.u2, dec.u1):
            first = level[0][0]
            c = nn.Conv2d(first.in_channels - p, first.out_channels, 3, 1, 1)
            with torch.no_grad():
                c.weight.copy_(first.weight[:, : first.in_channels - p])
                c.bias.copy_(first.bias)
            self.pose_w.append(nn.Parameter(first.weight[:, first.in_channels - p:].detach().clone(),
                                            requires_grad=False))
            self.levels.append(nn.ModuleList([c, level[0][1], level[1]]))
        self.u0, self.head = dec.u0, dec.head

    def _level(self, i: int, x: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        conv, act, second = self.levels[i]
        share = F.conv2d(pose[:, :, None, None].expand(-1, -1, 3, 3), self.pose_w[i], padding=1)
        share = _spread(_spread(share, 2, x.shape[2]), 3, x.shape[3])
        return second(act(conv(x) + share))

    def forward(self, image: torch.Tensor, f1, f2, f3, f4, pose: torch.Tensor) -> torch.Tensor:
        up = PoseDecoder._up
        x = self._level(0, f4, pose)
        x = self._level(1, torch.cat([up(x), f3], 1), pose)
        x = self._level(2, torch.cat([up(x), f2], 1), pose)
        x = self._level(3, torch.cat([up(x), f1], 1), pose)
        x = self.u0(torch.cat([up(x), image], 1))
        return self.head(x)


def identity_grid(n: int, h: int, w: int, device=None) -> torch.Tensor:
    ys = torch.linspace(-1 + 1 / h, 1 - 1 / h, h, device=device)
    xs = torch.linspace(-1 + 1 / w, 1 - 1 / w, w, device=device)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], -1)[None].expand(n, -1, -1, -1)


class MorpherDecoder(nn.Module):
    """Per-frame half of the morpher: returns the morphed crop and its maps."""

    def __init__(self, pose_dim: int = MORPH_POSE_DIM) -> None:
        super().__init__()
        self.dec = PoseDecoder(pose_dim, 1 + 4 + 2)

    def maps(self, rest, f1, f2, f3, f4, pose):
        """(alpha, colour, flow): the blend mask, the premultiplied colour change and the
        warp's grid offset. The ONNX decoder gives these and the runtime warps and blends
        with OpenCV (onnxruntime's GridSample took a sixth of the decoder's time)."""
        y = self.dec(rest, f1, f2, f3, f4, pose)
        alpha = torch.sigmoid(y[:, 0:1] + 3.0)  # starts near "keep the input"
        color = torch.sigmoid(y[:, 1:5])
        rgb = color[:, :3] * color[:, 3:4]  # premultiplied colour change
        color = torch.cat([rgb, color[:, 3:4]], 1)
        flow = torch.tanh(y[:, 5:7]) * MORPH_MAX_WARP
        return alpha, color, flow

    def forward(self, rest, f1, f2, f3, f4, pose):
        alpha, color, flow = self.maps(rest, f1, f2, f3, f4, pose)
        n, _, h, w = rest.shape
        grid = identity_grid(n, h, w, rest.device) + flow.permute(0, 2, 3, 1)
        warped = F.grid_sample(rest, grid, mode="bilinear", padding_mode="border", align_corners=False)
        out = alpha * warped + (1 - alpha) * color
        return out, alpha


# The rotator's prior motions, in normalised image units (the 512 canvas spans -1..1).
# Roll turns about the neck, just below the head box (y = 205 of 512).
ROLL_PIVOT_Y = 2.0 * 205.0 / 512.0 - 1.0
MAX_ROLL_RAD = math.radians(30.0)
SHIFT_SCALE = 0.1  # a participation of 1 moves 0.1 units (25 px at 512) at full yaw/pitch/body
# The motion template (engines/neural/motion_template.py): per pixel of the 128 grid, the
# flow per unit of each piecewise-linear pose feature, fitted on the training rigs' true
# correspondence. Zeros (the default) leave the decoder exactly as without it.
TEMPLATE_FEATURES = 9
GRID_SIZE = 128


class RotatorDecoder(nn.Module):
    """Per-frame half of the rotator: grid offset, colour change and blend mask at 128.

    The grid offset is a residual plus three motions that are linear in the pose: sideways
    for yaw and body turn, vertical for pitch, a rotation about the neck for roll. The
    network predicts only how much each pixel takes part in each (a map per motion, like a
    depth map for parallax), which depends on what the pixel is (face, hair, body) rather
    than on the pose, so it carries over to unseen characters and to the ends of the range.
    """

    N_OUT = 2 + 4 + 1 + 4  # residual flow, colour, mask, participation of yaw/pitch/roll/body

    def __init__(self, pose_dim: int = ROTATE_POSE_DIM, top: int = 16) -> None:
        super().__init__()
        self.dec = PoseDecoder(pose_dim, self.N_OUT, top=top)
        # Identity-free prior motion the network refines (a residual over it); a buffer, so
        # it travels with the weights (into the ONNX graph as a constant when it is not zero).
        self.register_buffer("template", torch.zeros(TEMPLATE_FEATURES * 2, GRID_SIZE, GRID_SIZE))

    def forward(self, rest, f1, f2, f3, f4, pose):
        y = self.dec(rest, f1, f2, f3, f4, pose)
        color = torch.sigmoid(y[:, 2:6])
        color = torch.cat([color[:, :3] * color[:, 3:4], color[:, 3:4]], 1)
        mask = torch.sigmoid(y[:, 6:7] + 3.0)  # starts near "use the warp"
        flow = y[:, 0:2] * 0.25 + prior_flow(y[:, 7:11], pose)
        if self.uses_template():  # a zero template adds nothing: keep it out of the ONNX graph
            flow = flow + template_flow(self.template, pose)
        return flow, color, mask

    def uses_template(self) -> bool:
        return bool(self.template.abs().max() > 0)


def template_features(pose: torch.Tensor) -> torch.Tensor:
    """(N, 5) normalised rotate pose -> (N, 9) features, zero at rest: one slope per sign of
    each turn (Live2D deforms linearly between keyforms, so a pixel's motion is piecewise
    linear in each angle) and breathing from its rest value."""
    turns = pose[:, :4]
    signed = torch.stack([F.relu(turns), F.relu(-turns)], 2).reshape(pose.shape[0], 8)
    return torch.cat([signed, (pose[:, 4:5] + 1.0) * 0.5], 1)


def template_flow(template: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
    """(18, H, W) template + (N, 5) pose -> (N, 2, H, W) grid offset."""
    _, h, w = template.shape
    flat = template.reshape(TEMPLATE_FEATURES, 2 * h * w)
    return (template_features(pose) @ flat).reshape(pose.shape[0], 2, h, w)


def prior_flow(part: torch.Tensor, pose: torch.Tensor, grid: torch.Tensor | None = None) -> torch.Tensor:
    """(N,4,H,W) participation maps + (N,5) normalised rotate pose -> (N,2,H,W) grid offset.
    `grid`: the maps' pixel positions on the canvas (N,H,W,2; default: the whole canvas)."""
    n, _, h, w = part.shape
    yaw, pitch, roll, body = (pose[:, i, None, None] for i in range(4))
    g = identity_grid(n, h, w, part.device) if grid is None else grid
    gx, gy = g[..., 0], g[..., 1] - ROLL_PIVOT_Y
    a = roll * MAX_ROLL_RAD
    cos, sin = torch.cos(a), torch.sin(a)
    rx = cos * gx - sin * gy - gx
    ry = sin * gx + cos * gy - gy
    dx = SHIFT_SCALE * (part[:, 0] * yaw + part[:, 3] * body) + part[:, 2] * rx
    dy = SHIFT_SCALE * part[:, 1] * pitch + part[:, 2] * ry
    return torch.stack([dx, dy], 1)


def upgrade_rotator_state(state: dict) -> dict:
    """A rotator state dict without participation maps or motion template -> the current
    layout (new output channels and the template start at zero, so the network behaves
    exactly as before)."""
    if "decoder.template" not in state:
        state = {**state, "decoder.template": torch.zeros(TEMPLATE_FEATURES * 2, GRID_SIZE, GRID_SIZE)}
    key_w, key_b = "decoder.dec.head.weight", "decoder.dec.head.bias"
    w = state.get(key_w)
    if w is None or w.shape[0] == RotatorDecoder.N_OUT:
        return state
    state = dict(state)
    extra = RotatorDecoder.N_OUT - w.shape[0]
    state[key_w] = torch.cat([w, w.new_zeros((extra, *w.shape[1:]))], 0)
    state[key_b] = torch.cat([state[key_b], state[key_b].new_zeros(extra)], 0)
    return state


# The decoder convolutions that read the pose maps; the pose channels come last in each.
POSE_INPUT_LAYERS = ("decoder.dec.mid.0.0", "decoder.dec.u3.0.0", "decoder.dec.u2.0.0", "decoder.dec.u1.0.0")


def grow_pose_inputs(state: dict, extra: int) -> dict:
    """A state dict whose decoder reads `extra` more pose parameters (appended after the
    existing ones), with zero weights on them: the grown network behaves exactly as before
    whatever the new values are, and fine-tuning teaches it the new parameters (vowels,
    happy or surprised eyes, angry or troubled brows) without training from scratch."""
    if extra < 0:
        raise ValueError(f"cannot remove pose inputs (extra={extra})")
    state = dict(state)
    for layer in POSE_INPUT_LAYERS:
        w = state[f"{layer}.weight"]
        state[f"{layer}.weight"] = torch.cat([w, w.new_zeros((w.shape[0], extra, *w.shape[2:]))], 1)
    return state


def pose_dim_of(state: dict) -> int:
    """How many pose parameters a morpher or rotator state dict reads."""
    w_mid = state["decoder.dec.mid.0.0.weight"]
    w_mid2 = state["decoder.dec.mid.1.0.weight"]  # features only: its input width is the feature width
    return int(w_mid.shape[1] - w_mid2.shape[1])


def apply_rotation(image: torch.Tensor, flow: torch.Tensor, color: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Apply the rotator's low-resolution maps to a (possibly larger) premultiplied image."""
    n, _, h, w = image.shape
    if flow.shape[-1] != w:
        flow = F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False)
        color = F.interpolate(color, size=(h, w), mode="bilinear", align_corners=False)
        mask = F.interpolate(mask, size=(h, w), mode="bilinear", align_corners=False)
    grid = identity_grid(n, h, w, image.device) + flow.permute(0, 2, 3, 1)
    warped = F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return mask * warped + (1 - mask) * color


class Morpher(nn.Module):
    def __init__(self, pose_dim: int = MORPH_POSE_DIM) -> None:
        super().__init__()
        self.encoder = Encoder()
        self.decoder = MorpherDecoder(pose_dim)

    def forward(self, rest: torch.Tensor, pose: torch.Tensor):
        return self.decoder(rest, *self.encoder(rest), pose)


class Rotator(nn.Module):
    def __init__(self, pose_dim: int = ROTATE_POSE_DIM, top: int = 16) -> None:
        super().__init__()
        self.encoder = Encoder()
        self.decoder = RotatorDecoder(pose_dim, top)

    def forward(self, rest128: torch.Tensor, pose: torch.Tensor):
        return self.decoder(rest128, *self.encoder(rest128), pose)


def load_networks(checkpoint) -> tuple[Morpher, Rotator, dict]:
    """Both networks from a compact checkpoint (older rotator layouts upgraded), in eval
    mode, plus the checkpoint's dict (steps)."""
    st = torch.load(checkpoint, map_location="cpu")
    morpher = Morpher(pose_dim_of(st["morpher"])).eval()
    rotator = Rotator(pose_dim_of(st["rotator"]), top=top_width(st["rotator"])).eval()
    morpher.load_state_dict(st["morpher"])
    rotator.load_state_dict(upgrade_rotator_state(st["rotator"]))
    return morpher, rotator, st


def top_width(state: dict) -> int:
    """The width of a decoder state dict's 128-px level (16, or less for a lighter one)."""
    return int(state["decoder.dec.u0.0.weight"].shape[0])
