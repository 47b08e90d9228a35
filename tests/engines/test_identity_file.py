"""Which character images were drawn by the generator (posed without the factors for others'
art), read from the files the creator and the default character carry."""
from __future__ import annotations

import shutil

import numpy as np

from app import character as ch
from engines.datagen.procedural.identity import Identity
from engines.identity_file import identity_beside
from engines.resources import default_character


def test_the_default_character_is_generated() -> None:
    assert isinstance(identity_beside(default_character()), Identity)
    assert ch.load_character(default_character()).generated


def test_a_creator_character_is_generated_and_reads_its_identity(tmp_path) -> None:
    from app.intake import creator as C

    made = C.random_creation(5)
    png, _ = C.save_creation(made, tmp_path / "mine.png")
    assert identity_beside(png) == made.identity
    loaded = ch.load_character(png)
    assert loaded.generated and np.array_equal(loaded.rgba, made.rgba)


def test_other_art_is_not_generated(tmp_path) -> None:
    png = tmp_path / "art.png"
    shutil.copy(default_character(), png)
    assert identity_beside(png) is None and not ch.load_character(png).generated
    for text in ("{not json", '{"name": "someone"}', '["a list"]', '{"identity": {"no_such_field": 1}}'):
        (tmp_path / "art.json").write_text(text)
        assert identity_beside(png) is None, text
        assert not ch.load_character(png).generated
