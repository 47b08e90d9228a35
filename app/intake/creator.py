"""The character creator: original characters from the project's procedural generator, the
same generator the engine was trained on, so what it draws is what the engine animates best.

A creation is an Identity (every generator parameter) and its drawing in the input convention.
It is saved as NAME.png (512x512 RGBA) and NAME.json beside it ({"identity": {...}, "seed": N});
the JSON reopens in the creator for later edits and redraws the same picture pixel for pixel
(the drawing is deterministic), and `omokage avatar --params NAME.json` reads it too.
The generator is imported only when a character is drawn (ui/ imports this module).
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from app.intake.avatar import AvatarError, draw, params_path, read_identity, require_generator
from app.settings import atomic_write_text

MAX_SEED = 2**31 - 1
# Fields the creator dialog offers as lists, in its order (colours are edited with a colour
# picker); the allowed values come from the generator.
CHOICES = ("back_hair", "bangs", "side_locks", "clothing", "style", "pupil", "iris_style",
           "lash_style", "brow_style", "nose", "mouth", "blush_style")
# Face and hair shape fields the dialog offers as numbers: (label, lowest, highest), the span
# the generator samples characters from, so every value is one the engine has seen drawn.
SHAPES: dict[str, tuple[str, float, float]] = {
    "face_width": ("Face width", 0.9, 1.08),
    "jaw": ("Jaw", 0.0, 1.0),
    "eye_spacing": ("Eye spacing", 0.9, 1.1),
    "eye_w": ("Eye width", 12.5, 17.5),
    "eye_h": ("Eye height", 10.0, 17.0),
    "hair_len": ("Hair length", 0.75, 1.2),
    "bang_len": ("Fringe length", 0.2, 1.0),
}


class CreatorError(ValueError):
    """A creation cannot be made, read or saved; the message says why and what to do."""


@dataclass
class Creation:
    identity: object  # engines.datagen.procedural.Identity
    rgba: np.ndarray  # 512x512x4 straight alpha, the input convention
    seed: int | None  # the random identity it started from (None: read from a file)


def new_seed() -> int:
    return secrets.randbelow(MAX_SEED + 1)


def random_creation(seed: int | None = None) -> Creation:
    """A new random original character (`seed` makes it repeatable)."""
    seed = new_seed() if seed is None else int(seed)
    if not 0 <= seed <= MAX_SEED:
        raise CreatorError(f"seed {seed}: use 0..{MAX_SEED}")
    ident = _generator().sample_identity(np.random.default_rng(seed))
    return Creation(ident, _draw(ident), seed)


def edited(creation: Creation, **changes) -> Creation:
    """The creation with some identity fields changed, redrawn (values checked as the
    generator checks them)."""
    try:
        ident = replace(creation.identity, **changes)
    except (TypeError, ValueError) as exc:
        raise CreatorError(str(exc)) from None
    return Creation(ident, _draw(ident), creation.seed)


def choices() -> dict[str, tuple[str, ...]]:
    """The allowed values of the fields in CHOICES, from the generator."""
    _generator()
    from engines.datagen.procedural import identity as ident_mod

    return {name: ident_mod.CHOICES[name] for name in CHOICES}


def accessories() -> tuple[str, ...]:
    """Every accessory the generator draws (a character wears any number of them)."""
    _generator()
    from engines.datagen.procedural import identity as ident_mod

    return ident_mod.ACCESSORIES


def with_accessory(creation: Creation, name: str, worn: bool) -> Creation:
    """The creation wearing `name` or not, redrawn."""
    current = list(creation.identity.accessories)
    if name not in accessories():
        raise CreatorError(f"unknown accessory {name!r}; choose from {list(accessories())}")
    changed = [a for a in current if a != name] + ([name] if worn else [])
    return edited(creation, accessories=changed)


def with_shape(creation: Creation, field: str, value: float) -> Creation:
    """The creation with a SHAPES field set (kept within the generator's span), redrawn."""
    if field not in SHAPES:
        raise CreatorError(f"{field} is not a shape the creator sets; use one of {list(SHAPES)}")
    _, lo, hi = SHAPES[field]
    return edited(creation, **{field: float(min(max(value, lo), hi))})


def with_drawing_style(creation: Creation, seed: int | None) -> Creation:
    """The creation drawn in a new random drawing style (`seed`), or in the generator's plain
    style (None). Only the look and the line colour change, never the character."""
    gen = _generator()
    if seed is None:
        return edited(creation, look=gen.Look())
    from engines.datagen.procedural.look import sample_look

    ident = replace(creation.identity)
    look = sample_look(np.random.default_rng(int(seed)), ident)  # may set ident.line_color
    return edited(creation, look=look, line_color=ident.line_color, style=ident.style)


def load_creation(path: str | Path) -> Creation:
    """Redraw a character from its identity JSON (as saved beside a created or avatar PNG)."""
    _generator()
    ident, data = read_identity(path, CreatorError, "as the creator saves beside each character")
    seed = data.get("seed") if isinstance(data.get("seed"), int) else None
    return Creation(ident, _draw(ident), seed)


def save_creation(creation: Creation, out: str | Path,
                  inputs: tuple[str | Path, ...] = ()) -> tuple[Path, Path]:
    """Write OUT.png and OUT.json, each atomically (temp file, fsync, rename). Refuses a target
    that is one of `inputs` (the identity file being edited): an output never overwrites an
    input. Returns both paths."""
    from app.character import save_rgba_png

    out = Path(out)
    if out.suffix.lower() != ".png":
        raise CreatorError(f"{out}: a character is an RGBA PNG; name it *.png")
    if not out.absolute().parent.is_dir():
        raise CreatorError(f"{out}: the folder {out.parent} does not exist")
    js = params_path(out)
    for src in inputs:
        src = Path(src).absolute().resolve()
        for target in (out, js):
            if target.absolute().resolve() == src:
                raise CreatorError(f"{out} would write {target.name} over {src.name}, which "
                                   "is being read; choose another name.")
    doc = {"identity": json.loads(creation.identity.to_json())}
    if creation.seed is not None:
        doc["seed"] = creation.seed
    atomic_write_text(js, json.dumps(doc, indent=1) + "\n")
    save_rgba_png(creation.rgba, out)
    return out, js


def _generator():
    try:
        return require_generator()
    except AvatarError as exc:
        raise CreatorError(str(exc)) from None


def _draw(identity) -> np.ndarray:
    try:
        return draw(identity)
    except AvatarError as exc:
        raise CreatorError(str(exc)) from None
