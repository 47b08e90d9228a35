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
# Fields the creator dialog offers as lists (colours are edited with a colour picker).
CHOICES = ("back_hair", "bangs", "clothing")


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
    from engines.datagen.procedural import identity as ident_mod

    _generator()
    return {"back_hair": ident_mod.BACK_HAIR, "bangs": ident_mod.BANGS,
            "clothing": ident_mod.CLOTHING}


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
