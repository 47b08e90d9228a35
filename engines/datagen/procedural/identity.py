"""Identity parameters of a procedural character: everything that stays fixed while it moves.

An Identity is a plain dataclass of numbers, names and "#rrggbb" colours, so it can be saved
as JSON, edited by hand (the default character) and drawn again exactly.
"""
from __future__ import annotations

import colorsys
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from engines.datagen.procedural.look import Look, sample_look

_HEX = re.compile(r"#[0-9a-fA-F]{6}")
_COLOURS = ("line_color", "skin", "iris_color", "iris_color2", "sclera", "hair_color", "hair_tips",
            "accessory_color", "cloth_color", "cloth_color2", "cloth_accent")
STYLES = ("flat", "cel", "soft")
BANGS = ("straight", "swept", "parted", "spiky", "curtain")
BACK_HAIR = ("short", "bob", "medium", "long")
CLOTHING = ("sailor", "blazer", "hoodie", "dress", "turtleneck", "kimono")
ACCESSORIES = ("bow", "glasses", "headband", "cat_ears", "beret", "clips", "headphones", "choker", "flower",
               "tophat")
# The allowed values of every identity field that is one of a list (checked on construction;
# the creator offers them as lists).
CHOICES: dict[str, tuple[str, ...]] = {
    "style": STYLES, "back_hair": BACK_HAIR, "bangs": BANGS, "clothing": CLOTHING,
    "pupil": ("round", "slit", "ring"), "iris_style": ("plain", "ring", "sparkle"),
    "lash_style": ("plain", "wing", "lashes"), "brow_style": ("thin", "thick", "short"),
    "nose": ("dot", "line", "shadow", "none"), "mouth": ("line", "cat", "small"),
    "blush_style": ("soft", "lines", "none"), "side_locks": ("none", "short", "long"),
}


@dataclass
class Identity:
    style: str = "cel"
    # framing: the whole character scaled about the head centre and moved up/down (px)
    scale: float = 1.0
    offset_y: float = 0.0
    line_width: float = 1.8
    line_color: str = "#3a2a2a"
    skin: str = "#fde6d6"
    # face: width scale, jaw sharpness (0 round .. 1 pointed), chin length offset (px)
    face_width: float = 1.0
    jaw: float = 0.5
    chin: float = 0.0
    # eyes (px at 512): vertical offset, spacing scale, half width/height, outer-corner tilt
    eye_y: float = 0.0
    eye_spacing: float = 1.0
    eye_w: float = 15.0
    eye_h: float = 14.0
    eye_tilt: float = 0.0
    iris_w: float = 0.72  # iris half width / eye half width
    iris_h: float = 0.95  # iris half height / eye half height
    iris_color: str = "#3f7fd0"
    iris_color2: str = "#9fd4ff"
    pupil: str = "round"  # round | slit | ring
    iris_style: str = "plain"  # plain | ring | sparkle
    highlights: int = 2  # 1..3 white highlight shapes
    sclera: str = "#ffffff"
    lash_style: str = "wing"  # plain | wing | lashes
    lash_weight: float = 1.0
    lower_lash: bool = True
    brow_style: str = "thin"  # thin | thick | short
    brow_gap: float = 0.0
    brow_tilt: float = 0.0
    nose: str = "line"  # dot | line | shadow | none
    mouth: str = "line"  # line | cat | small
    mouth_w: float = 1.0
    mouth_base: float = 0.0  # resting mouth curve added to mouth_form (a slight smile > 0)
    fang: bool = False
    blush: float = 0.4
    blush_style: str = "soft"  # soft | lines | none
    mole: bool = False  # beauty mark under one eye
    hair_color: str = "#6a4a3a"
    back_hair: str = "long"
    hair_len: float = 1.0  # scale of the back hair length within its style
    hair_volume: float = 1.0
    bangs: str = "straight"
    bang_len: float = 0.5  # 0 short (high forehead) .. 1 down to the brows
    bang_clumps: int = 7
    side_locks: str = "long"  # none | short | long
    twin_tails: bool = False
    ponytail: bool = False
    buns: bool = False
    hair_tips: str = ""  # "#rrggbb": hair fades to this colour towards the ends; "" = one colour
    ahoge: bool = False
    hair_seed: int = 0  # jitter of the clump shapes
    accessories: list[str] = field(default_factory=list)
    accessory_color: str = "#e05070"
    clothing: str = "sailor"
    cloth_color: str = "#ffffff"
    cloth_color2: str = "#2a3a6a"
    cloth_accent: str = "#d03040"
    # How it is drawn (shading details, strands, highlights, lines, texture); the default is the
    # plain style, so identity files written before looks existed draw as they did.
    look: Look = field(default_factory=Look)

    def __post_init__(self) -> None:
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"identity {name}={getattr(self, name)!r} is not one of {list(allowed)}")
        bad = [a for a in self.accessories if a not in ACCESSORIES]
        if bad:
            raise ValueError(f"unknown accessories {bad}; choose from {list(ACCESSORIES)}")
        for name in _COLOURS:
            value = getattr(self, name)
            if not (isinstance(value, str) and _HEX.fullmatch(value)) and not (name == "hair_tips" and value == ""):
                raise ValueError(f"identity {name}={value!r} must be a colour written '#rrggbb'")
        if isinstance(self.look, dict):
            self.look = Look.from_dict(self.look)
        if not isinstance(self.look, Look):
            raise ValueError(f"identity look must be a Look or an object of look fields, got {self.look!r}")
        if not 0.5 <= self.scale <= 1.2:
            raise ValueError(f"identity scale={self.scale} must lie in 0.5..1.2 to keep the head in its box")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> "Identity":
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown identity fields {unknown}; known fields: {sorted(known)}")
        return cls(**data)


def _hex(rgb) -> str:
    r, g, b = (int(round(min(max(c, 0.0), 1.0) * 255)) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _hsv(h: float, s: float, v: float) -> str:
    return _hex(colorsys.hsv_to_rgb(h % 1.0, s, v))


def _pick(rng: np.random.Generator, items, p=None):
    return items[int(rng.choice(len(items), p=p))]


def _hair_colour(rng: np.random.Generator) -> str:
    kind = rng.random()
    if kind < 0.3:  # natural: black, browns, blond
        h = rng.uniform(0.03, 0.12)
        s = rng.uniform(0.3, 0.75)
        v = rng.choice([rng.uniform(0.12, 0.3), rng.uniform(0.35, 0.65), rng.uniform(0.75, 0.95)])
        return _hsv(h, s, float(v))
    if kind < 0.42:  # silver / white / grey
        return _hsv(rng.uniform(0, 1), rng.uniform(0.0, 0.12), rng.uniform(0.7, 0.95))
    # anime colours: any hue
    return _hsv(rng.uniform(0, 1), rng.uniform(0.35, 0.85), rng.uniform(0.45, 0.95))


def _skin(rng: np.random.Generator) -> str:
    tone = rng.random()
    if tone < 0.75:
        return _hsv(rng.uniform(0.04, 0.08), rng.uniform(0.08, 0.2), rng.uniform(0.96, 1.0))
    if tone < 0.92:
        return _hsv(rng.uniform(0.05, 0.08), rng.uniform(0.2, 0.35), rng.uniform(0.85, 0.95))
    return _hsv(rng.uniform(0.05, 0.08), rng.uniform(0.35, 0.5), rng.uniform(0.55, 0.78))


def sample_identity(rng: np.random.Generator, atlas: bool = False) -> Identity:
    """A random original character drawn from wide, plausible distributions, with a random
    drawing style (its Look). atlas=True lets the look fill parts with detail from the training
    rigs' texture atlases (training data only: engines.datagen.procedural.texture)."""
    u = rng.uniform
    hair = _hair_colour(rng)
    ih = u(0, 1)
    iris_s = u(0.45, 0.9)
    iris = _hsv(ih, iris_s, u(0.35, 0.7))
    iris2 = _hsv(ih + u(-0.08, 0.08), iris_s * u(0.4, 0.8), u(0.8, 1.0))
    line_kind = rng.random()
    if line_kind < 0.5:
        line = _hsv(u(0.0, 0.08), u(0.3, 0.6), u(0.12, 0.25))
    elif line_kind < 0.8:
        line = _hsv(u(0, 1), u(0.0, 0.2), u(0.08, 0.18))
    elif line_kind < 0.92:
        hr, hg, hb = (int(hair[i : i + 2], 16) / 255 for i in (1, 3, 5))
        hh, hs, hv = colorsys.rgb_to_hsv(hr, hg, hb)
        line = _hsv(hh, min(1.0, hs + 0.2), hv * 0.3)
    else:  # soft, painterly lines
        line = _hsv(u(0.95, 1.05), u(0.35, 0.6), u(0.35, 0.5))
    twin = rng.random() < 0.2
    pony = bool(not twin and rng.random() < 0.12)
    tips = ""
    if rng.random() < 0.15:
        tips = _hair_colour(rng)
    back = _pick(rng, BACK_HAIR, p=[0.15, 0.2, 0.3, 0.35])
    acc = [a for a in ACCESSORIES if rng.random() < {"bow": 0.2, "glasses": 0.12,
                                                     "headband": 0.1, "cat_ears": 0.08,
                                                     "beret": 0.07, "clips": 0.15,
                                                     "headphones": 0.07, "choker": 0.1,
                                                     "flower": 0.08, "tophat": 0.05}[a]]
    if "beret" in acc and ("cat_ears" in acc or "headband" in acc or "headphones" in acc):
        acc.remove("beret")
    if "tophat" in acc and ("beret" in acc or "cat_ears" in acc):
        acc.remove("tophat")
    if "headphones" in acc and "headband" in acc:
        acc.remove("headband")
    if "flower" in acc and "bow" in acc:
        acc.remove("flower")
    cloth_h = u(0, 1)
    ident = Identity(
        style=_pick(rng, STYLES),
        scale=float(u(0.9, 1.0)),
        offset_y=float(u(-3.0, 0.0)),
        line_width=float(u(1.1, 3.0)),
        line_color=line,
        skin=_skin(rng),
        face_width=float(u(0.9, 1.08)),
        jaw=float(u(0.0, 1.0)),
        chin=float(u(-4.0, 5.0)),
        eye_y=float(u(-3.0, 5.0)),
        eye_spacing=float(u(0.9, 1.1)),
        eye_w=float(u(12.5, 17.5)),
        eye_h=float(u(10.0, 17.0)),
        eye_tilt=float(u(-0.25, 0.35)),
        iris_w=float(u(0.6, 0.85)),
        iris_h=float(u(0.85, 1.05)),
        iris_color=iris,
        iris_color2=iris2,
        pupil=_pick(rng, ("round", "slit", "ring"), p=[0.7, 0.1, 0.2]),
        highlights=int(rng.integers(1, 4)),
        iris_style=_pick(rng, ("plain", "ring", "sparkle"), p=[0.4, 0.3, 0.3]),
        sclera=_hsv(u(0.55, 0.7), u(0.0, 0.06), 1.0),
        lash_style=_pick(rng, ("plain", "wing", "lashes")),
        lash_weight=float(u(0.7, 1.4)),
        lower_lash=bool(rng.random() < 0.7),
        brow_style=_pick(rng, ("thin", "thick", "short"), p=[0.5, 0.25, 0.25]),
        brow_gap=float(u(-2.0, 4.0)),
        brow_tilt=float(u(-0.3, 0.3)),
        nose=_pick(rng, ("dot", "line", "shadow", "none"), p=[0.3, 0.35, 0.25, 0.1]),
        mouth=_pick(rng, ("line", "cat", "small"), p=[0.55, 0.2, 0.25]),
        mouth_w=float(u(0.8, 1.25)),
        mouth_base=float(u(-0.1, 0.35)),
        fang=bool(rng.random() < 0.15),
        blush=float(u(0.0, 0.8)),
        blush_style=_pick(rng, ("soft", "lines", "none"), p=[0.55, 0.2, 0.25]),
        mole=bool(rng.random() < 0.08),
        hair_color=hair,
        back_hair=back,
        hair_len=float(u(0.75, 1.2)),
        hair_volume=float(u(0.85, 1.2)),
        bangs=_pick(rng, BANGS),
        bang_len=float(u(0.2, 1.0)),
        bang_clumps=int(rng.integers(5, 10)),
        side_locks=_pick(rng, ("none", "short", "long"), p=[0.2, 0.35, 0.45]),
        twin_tails=twin,
        ponytail=pony,
        buns=bool(not twin and not pony and rng.random() < 0.08),
        hair_tips=tips,
        ahoge=bool(rng.random() < 0.3),
        hair_seed=int(rng.integers(0, 2**31 - 1)),
        accessories=acc,
        accessory_color=_hsv(u(0, 1), u(0.5, 0.9), u(0.6, 0.95)),
        clothing=_pick(rng, CLOTHING, p=[0.22, 0.2, 0.18, 0.16, 0.14, 0.1]),
        cloth_color=_hsv(cloth_h, u(0.0, 0.6), u(0.25, 1.0)),
        cloth_color2=_hsv(cloth_h + u(0.3, 0.7), u(0.2, 0.8), u(0.15, 0.8)),
        cloth_accent=_hsv(u(0, 1), u(0.5, 0.95), u(0.5, 0.95)),
    )
    if ident.style == "soft":  # painted looks use finer lines
        ident.line_width *= 0.75
    if rng.random() < 0.2:
        _boyish(ident, rng)
    # Drawn last, so every field above is drawn as before looks existed (the look may then
    # replace the line colour, which is part of the drawing style).
    ident.look = sample_look(rng, ident, atlas)
    return ident


def _boyish(ident: Identity, rng: np.random.Generator) -> None:
    """A boyish or male look: smaller, sharper eyes, short hair, stronger brows and jaw."""
    u = rng.uniform
    ident.eye_h = float(u(8.5, 12.0))
    ident.eye_w = float(u(12.5, 16.0))
    ident.eye_tilt = float(u(0.0, 0.35))
    ident.iris_h = float(u(0.85, 1.0))
    ident.lash_style = "plain"
    ident.lash_weight = float(u(0.6, 1.0))
    ident.lower_lash = bool(rng.random() < 0.3)
    ident.brow_style = _pick(rng, ("thick", "short"))
    ident.jaw = float(u(0.5, 1.0))
    ident.back_hair = _pick(rng, ("short", "bob"), p=[0.8, 0.2])
    ident.bangs = _pick(rng, ("spiky", "swept", "parted"))
    ident.side_locks = _pick(rng, ("none", "short"))
    ident.twin_tails = ident.buns = ident.ponytail = False
    ident.blush = float(u(0.0, 0.3))
    ident.mouth = _pick(rng, ("line", "small"))
    ident.accessories = [a for a in ident.accessories if a in ("glasses", "headphones", "clips")]
    ident.clothing = _pick(rng, ("blazer", "hoodie", "turtleneck"))


def identity_for(character_id: str, atlas: bool = False) -> Identity:
    """The identity of a character id such as "proc-000042": always the same for the same id
    (and the same `atlas`, which only decides whether an atlas texture may be chosen)."""
    digest = hashlib.sha256(character_id.encode("utf-8")).digest()
    return sample_identity(np.random.default_rng(int.from_bytes(digest[:8], "little")), atlas)
