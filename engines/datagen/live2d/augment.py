"""Augmentations that make apparent new identities out of few characters.

All of them are the same for the three images of a triple: per-part colour changes, random
values of parameters the engine does not control (hair sway, arms, blush, brow shape), small
scale/offset jitter and horizontal flips (with the pose mirrored). Per-part turn gains change
how far each part (hair, face, eyes, ears) follows a head turn, so one rig shows many rigs'
ways of turning and the rotator learns what turns do in general rather than each rig's.
"""
from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass

import numpy as np

# Part id patterns -> colour category. The first match wins.
PART_CATEGORIES: tuple[tuple[str, str], ...] = (
    (r"EYE_BALL", "iris"),
    (r"HAIR|AHO|KAMI", "hair"),
    (r"FACE|EAR|NECK|NOSE", "skin"),
    (r"BODY|CLOTH|UNIFORM|PAJAMA|LEG|HEADSET|HAT|ITEM", "clothes"),
)
# Live2D parameters safe to randomise (identical across a triple): they change looks, not pose.
FREE_PARAMS = re.compile(
    r"^PARAM_(HAIR|KAMIYURE|ARM|HAND_[LR]$|HAND_0|SKIRT|TIE$|NECKTIE|RIBON|BUST|PONPON|TAIL$"
    r"|FINGER|CHEEK$|BROW_[LR]_(X|ANGLE|FORM)$|EYE_BALL_FORM$)"
)
Color = tuple[float, float, float]


def part_category(part_id: str) -> str | None:
    for pat, cat in PART_CATEGORIES:
        if re.search(pat, part_id):
            return cat
    return None


def _tint(rng: np.random.Generator, strength: tuple[float, float], sat: tuple[float, float]) -> tuple[Color, Color]:
    """A random (multiply, screen) pair: multiply tints toward a hue, screen lifts dark parts."""
    h = rng.random()
    k = rng.uniform(*strength)
    r, g, b = colorsys.hsv_to_rgb(h, rng.uniform(*sat), 1.0)
    mul = (1 - k + k * r, 1 - k + k * g, 1 - k + k * b)
    lift = rng.uniform(0.0, 0.35) * k
    sr, sg, sb = colorsys.hsv_to_rgb(h, 0.8, lift)
    return mul, (sr, sg, sb)


@dataclass
class Augment:
    color_prob: float = 0.75
    params_prob: float = 0.7
    flip_prob: float = 0.5
    scale_jitter: float = 0.06  # +- fraction
    offset_jitter: float = 8.0  # +- pixels at 512
    skin_strength: float = 0.15
    free_param_share: float = 0.6  # fraction of each side of the range used
    gain_prob: float = 0.0  # share of triples whose parts follow turns by random gains
    gain_sigma: float = 0.25  # spread of log(gain) per part
    gain_floor: float = 0.55  # lowest per-part gain (a part turning that much less than rigged)
    supersample_prob: float = 0.0  # share of triples drawn at 2-4x and shrunk (Live2DCharacter.render)
    enabled: bool = True

    def part_colors(self, rng: np.random.Generator, part_ids: list[str]) -> dict[int, tuple[Color, Color]]:
        if not self.enabled or rng.random() >= self.color_prob:
            return {}
        chosen: dict[str, tuple[Color, Color]] = {}
        for cat in ("hair", "iris", "clothes", "skin"):
            if rng.random() < 0.6:
                if cat == "skin":
                    # Skin stays skin: warm/cool shifts only.
                    h = 0.03 + rng.uniform(-0.03, 0.05)
                    k = rng.uniform(0.0, self.skin_strength)
                    r, g, b = colorsys.hsv_to_rgb(h % 1.0, 0.35, 1.0)
                    chosen[cat] = ((1 - k + k * r, 1 - k + k * g, 1 - k + k * b), (0.0, 0.0, 0.0))
                else:
                    chosen[cat] = _tint(rng, (0.3, 0.9), (0.3, 1.0))
        out = {}
        for i, pid in enumerate(part_ids):
            cat = part_category(pid)
            if cat in chosen:
                out[i] = chosen[cat]
        return out

    def free_params(self, rng: np.random.Generator, params) -> dict[str, float]:
        """params: id -> ParamInfo. Random values of the looks-only parameters."""
        if not self.enabled or rng.random() >= self.params_prob:
            return {}
        out = {}
        for pid in sorted(params):
            if not FREE_PARAMS.match(pid) or rng.random() >= 0.5:
                continue
            p = params[pid]
            lo = p.default + (p.lo - p.default) * self.free_param_share
            hi = p.default + (p.hi - p.default) * self.free_param_share
            out[pid] = float(rng.uniform(lo, hi))
        return out

    def turn_gains(self, rng: np.random.Generator, parts: int) -> np.ndarray | None:
        """Per part, how much of a head/body turn it follows (None: as rigged)."""
        if not self.enabled or rng.random() >= self.gain_prob:
            return None
        # Above 1 a part saturates at the rig's extreme keyform, so the range is lopsided.
        return np.exp(rng.normal(0.0, self.gain_sigma, parts)).clip(self.gain_floor, 1.45)

    def jitter(self, rng: np.random.Generator) -> tuple[float, float, float]:
        if not self.enabled:
            return 0.0, 0.0, 0.0
        s, o = self.scale_jitter, self.offset_jitter
        return float(rng.uniform(-s, s)), float(rng.uniform(-o, o)), float(rng.uniform(-o, o))

    def flip(self, rng: np.random.Generator) -> bool:
        return self.enabled and rng.random() < self.flip_prob

    def supersample(self, rng: np.random.Generator) -> int:
        """2, 3 or 4 to draw this triple at that many times the size and shrink it, else 1:
        a picture prepared from larger art was shrunk by about that much. Draws from `rng`
        only when enabled, so datasets built without it keep their random streams."""
        if self.supersample_prob <= 0.0:
            return 1
        return int(rng.integers(2, 5)) if rng.random() < self.supersample_prob else 1
