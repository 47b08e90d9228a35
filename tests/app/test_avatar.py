"""omokage avatar: real MediaPipe on real photos, the written PNG read back with Pillow."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from app.intake import avatar as A
from engines.convention import HEAD_BOX
from tests.media import astronaut_bgr, grace_hopper_bgr


def _write_photo(path, bgr):
    Image.fromarray(np.ascontiguousarray(bgr[:, :, ::-1])).save(path, quality=95)
    return path


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Avatars of two real people made through the CLI, and their files."""
    d = tmp_path_factory.mktemp("avatar")
    out = {}
    for name, bgr in (("astronaut", astronaut_bgr()), ("grace", grace_hopper_bgr())):
        photo = _write_photo(d / f"{name}.jpg", bgr)
        before = photo.read_bytes()
        assert main(["avatar", str(photo), "--out", str(d / f"{name}-avatar.png"), "--quiet"]) == 0
        assert photo.read_bytes() == before  # the input is untouched
        out[name] = (photo, d / f"{name}-avatar.png", d / f"{name}-avatar.json")
    return out


@pytest.fixture(scope="module")
def randoms():
    from app.intake.avatar_eval import random_renders

    return random_renders(20)


@pytest.mark.parametrize("name", ["astronaut", "grace"])
def test_avatar_png_follows_the_convention(made, name):
    _, png, js = made[name]
    with Image.open(png) as im:
        assert im.mode == "RGBA" and im.size == (512, 512)
        rgba = np.asarray(im).copy()
    assert all(rgba[y, x, 3] == 0 for y in (0, 511) for x in (0, 511))
    assert not list(png.parent.glob(".*.tmp"))  # nothing half-written left behind
    ident = A.require_generator().Identity.from_json(json.dumps(json.loads(js.read_text())["identity"]))
    # Face skin above the neck, inside the head box. The drawing style shades and textures the
    # skin, so it is found as what changes when the skin colour does.
    other = A.draw(dataclasses.replace(ident, skin="#20ff20"))
    is_skin = (np.abs(rgba.astype(int) - other.astype(int)).max(-1) > 40) & (rgba[..., 3] == 255)
    ys, xs = np.nonzero(is_skin[:HEAD_BOX[3]])
    assert len(xs) > 2000
    x0, y0, x1, y1 = HEAD_BOX
    inside = (xs >= x0) & (xs < x1) & (ys >= y0)
    assert inside.mean() > 0.97
    assert x0 < xs.mean() < x1 and y0 < ys.mean() < y1


@pytest.mark.parametrize("name", ["astronaut", "grace"])
def test_avatar_colours_are_the_photos_not_random(made, randoms, name):
    """CIEDE2000 between the photo's sampled colours and the avatar as read back from its PNG
    file, against 20 random identities in the same regions."""
    _, png, js = made[name]
    doc = json.loads(js.read_text())
    ident = A.require_generator().Identity.from_json(json.dumps(doc["identity"]))
    with Image.open(png) as im:
        rgba = np.asarray(im).copy()
    got = A.rendered_colours(ident, rgba)
    for region in ("skin", "iris", "hair"):
        want = A.rgb_to_lab(np.array(doc["photo"][region], float))
        mine = float(A.ciede2000(want, A.rgb_to_lab(got[region])))
        rand = np.array([float(A.ciede2000(want, A.rgb_to_lab(c[region]))) for _, c in randoms])
        assert mine < 10.0, (region, mine)
        assert mine < np.percentile(rand, 10), (region, mine, rand.mean())


def test_photo_colours_are_plausible(made):
    """The samples come from the right places: light skin with red over green, the hair of
    the astronaut brown-blond (lighter than Grace Hopper's dark cap), dark irises."""
    a = json.loads(made["astronaut"][2].read_text())["photo"]
    g = json.loads(made["grace"][2].read_text())["photo"]
    for p in (a, g):
        lab = A.rgb_to_lab(np.array(p["skin"], float))
        assert lab[0] > 55 and lab[1] > 5 and lab[2] > 5
        assert A.rgb_to_lab(np.array(p["iris"], float))[0] < 45
    ha, hg = (A.rgb_to_lab(np.array(p["hair"], float)) for p in (a, g))
    assert 35 < ha[0] < 70 and ha[2] > 10 and hg[0] < 20


def test_glasses_seen_on_grace_hopper_only(made):
    accessories = {n: json.loads(made[n][2].read_text())["identity"]["accessories"] for n in made}
    assert "glasses" in accessories["grace"]
    assert "glasses" not in accessories["astronaut"]


def test_params_redraw_and_edit(made, tmp_path):
    _, png, js = made["astronaut"]
    doc = json.loads(js.read_text())
    doc["identity"]["hair_color"] = "#d02020"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc))
    out = tmp_path / "red.png"
    assert main(["avatar", "--params", str(edited), "--out", str(out), "--quiet"]) == 0
    ident = A.require_generator().Identity.from_json(json.dumps(doc["identity"]))
    with Image.open(out) as im:
        hair = A.rendered_colours(ident, np.asarray(im).copy())["hair"]
    assert hair[0] > 150 and hair[1] < 80  # red now
    assert json.loads((tmp_path / "red.json").read_text())["identity"]["hair_color"] == "#d02020"
    # unchanged parameters redraw the very same picture
    same = tmp_path / "same.png"
    assert main(["avatar", "--params", str(js), "--out", str(same), "--quiet"]) == 0
    with Image.open(same) as a, Image.open(png) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_never_writes_over_the_input(made, tmp_path, capsys):
    photo = _write_photo(tmp_path / "me.png", astronaut_bgr())
    before = photo.read_bytes()
    assert main(["avatar", str(photo), "--out", str(photo)]) == 2
    assert "never overwritten" in capsys.readouterr().err
    _, _, js = made["astronaut"]
    params = js.read_bytes()
    # OUT.json beside OUT.png would be the parameters file being read
    assert main(["avatar", "--params", str(js), "--out", str(js.with_suffix(".png"))]) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert photo.read_bytes() == before and js.read_bytes() == params


def test_no_face_gives_a_clear_message(tmp_path, capsys):
    from skimage import data

    photo = tmp_path / "coffee.jpg"
    Image.fromarray(data.coffee()).save(photo)
    out = tmp_path / "a.png"
    assert main(["avatar", str(photo), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "coffee.jpg" in err and "no face was found" in err and "looking at the camera" in err
    assert not out.exists() and not (tmp_path / "a.json").exists()


def test_a_grayscale_photo_is_refused_for_its_missing_colours(tmp_path, capsys):
    photo = tmp_path / "grey.jpg"
    Image.fromarray(np.ascontiguousarray(astronaut_bgr()[:, :, ::-1])).convert("L").save(photo)
    out = tmp_path / "a.png"
    assert main(["avatar", str(photo), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "grey.jpg: a grayscale photo" in err and "use a colour photo" in err
    assert "transparency" not in err  # the advice is for a photo, not for a character
    assert not out.exists()


def test_a_palette_photo_gives_an_avatar(tmp_path):
    """A GIF-style photo (indexed colours) still lends its colours; a character in such a
    file is refused (tests/app/bad_images.py), a photo is not."""
    photo = tmp_path / "palette.png"
    Image.fromarray(np.ascontiguousarray(astronaut_bgr()[:, :, ::-1])).quantize(256).save(photo)
    out = tmp_path / "a.png"
    assert main(["avatar", str(photo), "--out", str(out), "--quiet"]) == 0
    with Image.open(out) as im:
        assert im.mode == "RGBA" and im.size == (512, 512)


def test_bad_params_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"identity": {"hair_colour": "#000000"}}')
    assert main(["avatar", "--params", str(bad), "--out", str(tmp_path / "x.png")]) == 1
    assert "unknown identity fields ['hair_colour']" in capsys.readouterr().err
    assert main(["avatar", "--out", str(tmp_path / "x.png")]) == 2
    assert "either a PHOTO or --params" in capsys.readouterr().err


def test_ciede2000_matches_scikit_image():
    from skimage.color import deltaE_ciede2000

    rng = np.random.default_rng(3)
    a = np.column_stack([rng.uniform(0, 100, 500), rng.uniform(-80, 80, (500, 2))])
    b = np.column_stack([rng.uniform(0, 100, 500), rng.uniform(-80, 80, (500, 2))])
    assert np.allclose(A.ciede2000(a, b), deltaE_ciede2000(a, b), atol=1e-6)


def test_held_out_colours_closer_than_random(randoms):
    """Against photo colours the fit never sampled (skin on forehead and chin, hair over the
    whole hair mask), the avatar still beats the random identities' mean by far."""
    from app.intake.avatar_eval import held_out_colours, score

    rgb = np.ascontiguousarray(astronaut_bgr()[:, :, ::-1])
    s = score("astronaut", A.avatar_from_rgb(rgb), randoms, held_out_colours(rgb))
    assert set(s.held_out) == {"skin", "hair"}
    for region, d in s.held_out.items():
        assert d < 8.0 and d < 0.5 * s.held_out_random[region], (region, d, s.held_out_random)
