"""Look: how a character is drawn, apart from who it is.

Real anime art varies as much in drawing style as in character design: shading model and light
direction, hair strands and highlights, skin shading, eye detail, line weight and colour, paper
or painted texture. The engine must not learn one style, so every procedural character carries
a Look sampled with it. A Look holds only style; the same Look draws every pose of a character,
so images of one character differ by their pose alone.

Look() (every field at its default) is the style every character had before looks existed, so
an identity JSON without "look" draws exactly as it did. The shading model itself is the
identity's `style` field (flat | cel | soft); the Look refines it.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass, fields

import numpy as np

SHINES = ("none", "ring", "streaks", "ring_streaks")
STRAND_TONES = ("dark", "light", "mixed")
TEXTURES = ("none", "paper", "grain", "atlas")


@dataclass
class Look:
    # Direction the light comes from, degrees on screen: 0 image right, 90 above, 180 image left.
    light: float = 135.0
    # Width (px at 512) of the shadow side that hair, face, neck and clothes turn away from the
    # light; 0 = none. Cel draws it as hard tones, soft as a gradient.
    form_shadow: float = 0.0
    shadow_tones: int = 1  # cel: 1 or 2 hard shadow tones (the second, darker one hugs the edge)
    shadow_depth: float = 1.0  # how dark the form shadows are
    gradient: float = 0.0  # soft fill gradient on hair, face and clothes: lighter towards the light
    hair_strands: int = 0  # thin strand lines per hair part, following its flow
    strand_tone: str = "dark"  # dark | light | mixed
    hair_shine: str = "ring"  # none | ring (angel ring) | streaks (specular slivers) | ring_streaks
    shine: float = 1.0  # strength of the hair highlights
    skin_shading: float = 0.0  # 0 hard fringe shadow; >0 soft shade under the fringe and at the neck
    blush_size: float = 1.0
    eye_detail: int = 0  # 0 plain; 1 gradient iris with rim; 2 also iris streaks and more highlights
    lash_scale: float = 1.0  # multiplies lash thickness
    outline: float = 1.0  # outline width scale: 0 lineless, <1 thin, >1 thick (features keep theirs)
    line_tint: float = 0.0  # 0 one line colour; 1 each part's outline is a dark version of its fill
    texture: str = "none"  # none | paper | grain | atlas (detail from the training rigs' atlases)
    texture_strength: float = 0.0
    texture_seed: int = 0

    def __post_init__(self) -> None:
        for name, allowed in (("hair_shine", SHINES), ("strand_tone", STRAND_TONES), ("texture", TEXTURES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"look {name}={getattr(self, name)!r} is not one of {list(allowed)}")
        ranges = {"light": (-360.0, 360.0), "form_shadow": (0.0, 30.0), "shadow_tones": (1, 2),
                  "shadow_depth": (0.0, 3.0), "gradient": (0.0, 1.0), "hair_strands": (0, 40), "shine": (0.0, 2.0),
                  "skin_shading": (0.0, 1.0), "blush_size": (0.3, 3.0), "eye_detail": (0, 2),
                  "lash_scale": (0.2, 3.0), "outline": (0.0, 4.0), "line_tint": (0.0, 1.0),
                  "texture_strength": (0.0, 1.0), "texture_seed": (0, 2**31 - 1)}
        for name, (lo, hi) in ranges.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise ValueError(f"look {name}={v!r} must be a number in {lo}..{hi}")
        for name in ("shadow_tones", "hair_strands", "eye_detail", "texture_seed"):
            if int(getattr(self, name)) != getattr(self, name):
                raise ValueError(f"look {name}={getattr(self, name)!r} must be a whole number")

    @classmethod
    def from_dict(cls, data) -> "Look":
        if not isinstance(data, dict):
            raise ValueError(f"identity look must be an object of look fields, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown look fields {unknown}; known fields: {sorted(known)}")
        return cls(**data)


def light_vector(look: Look) -> np.ndarray:
    """Unit vector on screen (y down) pointing towards the light."""
    a = np.radians(look.light)
    return np.array([np.cos(a), -np.sin(a)])


def light_side(look: Look) -> int:
    """+1 when the light comes from the image's left (shadows fall on the right), else -1."""
    return 1 if np.cos(np.radians(look.light)) <= 0 else -1


def _hex(h: float, s: float, v: float) -> str:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return "#" + "".join(f"{int(round(c * 255)):02x}" for c in (r, g, b))


def sample_look(rng: np.random.Generator, ident, atlas: bool = False) -> Look:
    """A random drawing style for `ident`, refining its shading model (`ident.style`).

    Also sets fields of the identity that belong to the drawing style: the line colour, and a
    shading model for some flat characters. Call it after every other identity field is
    sampled. The number of random draws does not depend on `atlas`, so turning atlas fills off
    changes only the texture of the characters that had one.
    """
    u = rng.uniform
    r = rng.random
    # Unshaded art is rarer than a third of all art: two in five flat characters get shading.
    k = r()
    if ident.style == "flat" and k < 0.4:
        ident.style = "cel" if k < 0.2 else "soft"
    style = ident.style
    # Light mostly from above, from either side, now and then straight from the top.
    k = r()
    light = u(100, 165) if k < 0.5 else u(15, 80) if k < 0.85 else u(80, 100)
    form = 0.0 if style == "flat" else float(u(4.0, 11.0) if style == "cel" else u(6.0, 16.0))
    tones = 2 if (style == "cel" and r() < 0.45) else 1
    g = r()
    gradient = {"flat": 0.0 if g < 0.8 else u(0.2, 0.5), "cel": 0.0 if g < 0.45 else u(0.3, 0.8),
                "soft": u(0.5, 1.0)}[style]
    strands = 0 if r() < 0.2 else int(rng.integers(3, 13))
    tone = ("dark", "light", "mixed")[int(rng.choice(3, p=[0.5, 0.2, 0.3]))]
    shine = SHINES[int(rng.choice(4, p=[0.1, 0.35, 0.25, 0.3]))]
    skin = 0.0 if r() < 0.25 else float(u(0.3, 1.0))
    eye_detail = int(rng.choice(3, p=[0.2, 0.4, 0.4]))
    # Line weight: lineless, thin, as drawn, thick.
    w = r()
    outline = 0.0 if w < 0.1 else float(u(0.35, 0.7)) if w < 0.5 else float(u(0.8, 1.2)) if w < 0.8 \
        else float(u(1.3, 2.0))
    # Line colour: near black, a dark version of each fill, or coloured lines.
    c = r()
    h_line, s_line, v_line = u(0, 1), u(0.5, 0.9), u(0.28, 0.5)
    tint = float(u(0.55, 1.0))
    if c < 0.25:
        ident.line_color = _hex(h_line, s_line * 0.25, v_line * 0.25)
        tint = 0.0
    elif c < 0.7:
        pass  # dark version of the fill: the identity's line colour only tints it
    elif c < 0.85:
        ident.line_color = _hex(h_line, s_line, v_line)
        tint *= 0.3
    else:
        tint = 0.0  # the identity's own line colour everywhere
    t = r()
    texture = "none" if t < 0.35 else "paper" if t < 0.6 else "grain" if t < 0.8 else "atlas"
    fallback = "paper" if r() < 0.5 else "grain"
    if texture == "atlas" and not atlas:
        texture = fallback
    look = Look(
        light=float(light),
        form_shadow=form,
        shadow_tones=tones,
        shadow_depth=float(u(0.7, 1.3)),
        gradient=float(gradient),
        hair_strands=strands,
        strand_tone=tone,
        hair_shine=shine,
        shine=float(u(0.5, 1.2)),
        skin_shading=skin,
        blush_size=float(u(0.8, 1.6)),
        eye_detail=eye_detail,
        lash_scale=float(u(0.7, 1.5)),
        outline=outline,
        line_tint=tint,
        texture=texture,
        texture_strength=0.0 if texture == "none" else float(u(0.35, 1.0)),
        texture_seed=int(rng.integers(0, 2**31 - 1)),
    )
    return look
