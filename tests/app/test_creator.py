"""omokage create and app.intake.creator: the written files read back with Pillow and json."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from app.intake import creator as C
from app.intake.frame import close_to_target
from app.intake.locate import MIN_SCORE
from app.intake.prepare import find_face
from engines.convention import HEAD_BOX


def _pixels(path):
    with Image.open(path) as im:
        assert im.mode == "RGBA" and im.size == (512, 512)
        return np.asarray(im).copy()


def test_create_writes_a_convention_character_and_its_identity(tmp_path, capsys):
    out = tmp_path / "mine.png"
    assert main(["create", "--seed", "42", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "seed 42" in said and "mine.json" in said
    rgba = _pixels(out)
    assert rgba[0, 0, 3] == 0 and rgba[-1, 0, 3] == 0  # transparent background
    face = find_face(rgba)  # the face where the convention wants it
    assert face.score >= MIN_SCORE and close_to_target(face)
    x0, y0, x1, y1 = HEAD_BOX
    assert (rgba[y0:y1, x0:x1, 3] > 0).mean() > 0.5
    doc = json.loads((tmp_path / "mine.json").read_text())
    assert doc["seed"] == 42 and "hair_color" in doc["identity"]
    # the same seed is the same character, another seed another one
    again = tmp_path / "again.png"
    other = tmp_path / "other.png"
    assert main(["create", "--seed", "42", "--out", str(again), "--quiet"]) == 0
    assert main(["create", "--seed", "43", "--out", str(other), "--quiet"]) == 0
    assert np.array_equal(_pixels(again), rgba)
    assert not np.array_equal(_pixels(other), rgba)
    # the identity redraws the very same picture, here and through `omokage avatar --params`
    assert np.array_equal(C.load_creation(tmp_path / "mine.json").rgba, rgba)
    redrawn = tmp_path / "redrawn.png"
    assert main(["avatar", "--params", str(tmp_path / "mine.json"), "--out", str(redrawn),
                 "--quiet"]) == 0
    assert np.array_equal(_pixels(redrawn), rgba)


def test_edits_redraw_and_bad_values_are_explained():
    made = C.random_creation(7)
    blue = C.edited(made, hair_color="#2040c0", clothing="hoodie")
    assert blue.identity.hair_color == "#2040c0" and blue.seed == 7
    assert not np.array_equal(blue.rgba, made.rgba)
    with pytest.raises(C.CreatorError, match="#rrggbb"):
        C.edited(made, hair_color="blue")
    with pytest.raises(C.CreatorError, match="clothing"):
        C.edited(made, clothing="armour")


def test_shapes_accessories_and_styles_stay_within_what_the_generator_draws():
    made = C.random_creation(7)
    big = C.with_shape(made, "eye_w", 99.0)  # clamped to the generator's span
    assert big.identity.eye_w == C.SHAPES["eye_w"][2] and not np.array_equal(big.rgba, made.rgba)
    with pytest.raises(C.CreatorError, match="not a shape"):
        C.with_shape(made, "scale", 0.1)
    name = next(a for a in C.accessories() if a not in made.identity.accessories)
    worn = C.with_accessory(made, name, True)
    assert worn.identity.accessories == [*made.identity.accessories, name]
    assert C.with_accessory(worn, name, False).identity.accessories == made.identity.accessories
    with pytest.raises(C.CreatorError, match="unknown accessory"):
        C.with_accessory(made, "crown", True)
    plain = C.with_drawing_style(made, None)
    styled = C.with_drawing_style(made, 99)
    assert plain.identity.look != styled.identity.look
    assert C.with_drawing_style(made, 99).identity == styled.identity  # a seed is a style
    assert styled.identity.bangs == made.identity.bangs and styled.identity.hair_color == made.identity.hair_color
    for field, values in C.choices().items():
        assert getattr(made.identity, field) in values


def test_never_writes_over_the_identity_being_read(tmp_path):
    png, js = C.save_creation(C.random_creation(3), tmp_path / "a.png")
    before = js.read_bytes()
    made = C.load_creation(js)
    with pytest.raises(C.CreatorError, match="being read"):
        C.save_creation(made, tmp_path / "a.png", inputs=(js,))
    assert js.read_bytes() == before
    assert [p.name for p in sorted(tmp_path.iterdir())] == ["a.json", "a.png"]  # no temp left


def test_bad_arguments_and_files(tmp_path, capsys):
    assert main(["create", "--seed", "-1", "--out", str(tmp_path / "x.png")]) == 2
    assert "--seed -1" in capsys.readouterr().err
    assert main(["create", "--out", str(tmp_path / "x.jpg")]) == 2
    assert "*.png" in capsys.readouterr().err
    assert main(["create", "--out", str(tmp_path / "no" / "x.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(C.CreatorError, match="\"identity\" entry"):
        C.load_creation(bad)
    bad.write_text('{"identity": {"hair_colour": "#000000"}}')
    with pytest.raises(C.CreatorError, match="unknown identity fields"):
        C.load_creation(bad)
    with pytest.raises(C.CreatorError, match="not found"):
        C.load_creation(tmp_path / "missing.json")
