"""Procedural looks: a drawing style per character, the same for every image of a triple."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from engines.datagen.procedural import Identity, ProceduralSource, draw_character, identity_for, sample_identity
from engines.datagen.procedural.look import Look, light_side, sample_look
from engines.datagen.procedural.texture import BANK, atlas_bank, atlas_files, grain_tile, paper_tile
from engines.datagen.procedural import texture

REPO = Path(__file__).resolve().parents[3]


def test_look_is_deterministic_per_character_id_and_varies_between_ids():
    ids = [f"proc-{i:06d}" for i in range(40)]
    looks = [identity_for(c).look for c in ids]
    assert looks == [identity_for(c).look for c in ids]
    assert len({(lk.light, lk.texture_seed) for lk in looks}) == len(ids)
    # Allowing atlas fills changes at most the texture of a character, nothing else.
    for c in ids:
        plain, atlas = identity_for(c), identity_for(c, atlas=True)
        assert dataclasses.replace(atlas, look=plain.look) == plain
        assert dataclasses.replace(atlas.look, texture=plain.look.texture) == plain.look
        assert plain.look.texture != "atlas"


def test_looks_span_the_drawing_styles():
    rng = np.random.default_rng(0)
    idents = [sample_identity(rng) for _ in range(300)]
    looks = [i.look for i in idents]
    assert {i.style for i in idents} == {"flat", "cel", "soft"}
    assert {lk.shadow_tones for i, lk in zip(idents, looks) if i.style == "cel"} == {1, 2}
    assert {light_side(lk) for lk in looks} == {-1, 1}, "light from both sides"
    assert any(80 < lk.light < 100 for lk in looks), "light from straight above"
    assert {lk.hair_shine for lk in looks} == {"none", "ring", "streaks", "ring_streaks"}
    assert {lk.strand_tone for lk in looks if lk.hair_strands} == {"dark", "light", "mixed"}
    assert {lk.eye_detail for lk in looks} == {0, 1, 2}
    assert {lk.texture for lk in looks} == {"none", "paper", "grain"}
    outlines = np.array([lk.outline for lk in looks])
    assert (outlines == 0).any() and (outlines[outlines > 0] < 0.75).any() and (outlines > 1.25).any()
    tints = np.array([lk.line_tint for lk in looks])
    assert (tints == 0).any() and (tints > 0.55).any()
    line_sat = [max(int(i.line_color[k : k + 2], 16) for k in (1, 3, 5))
                - min(int(i.line_color[k : k + 2], 16) for k in (1, 3, 5)) for i in idents]
    assert max(line_sat) > 60 and min(line_sat) < 10, "coloured and near-black lines"
    assert all(lk.form_shadow == 0 for i, lk in zip(idents, looks) if i.style == "flat")
    assert all(lk.form_shadow > 0 for i, lk in zip(idents, looks) if i.style != "flat")


def test_identity_json_without_a_look_loads_and_draws_plain():
    ident = identity_for("proc-000007")
    data = json.loads(ident.to_json())
    assert isinstance(data["look"], dict)
    back = Identity.from_json(json.dumps(data))
    assert back == ident
    del data["look"]
    old = Identity.from_json(json.dumps(data))
    assert old.look == Look()
    assert np.array_equal(draw_character(old, {}), draw_character(dataclasses.replace(ident, look=Look()), {}))
    # The shipped default character is such a file.
    default = Identity.from_json((REPO / "assets" / "default_character.json").read_text())
    assert default.look == Look()


def test_bad_look_values_are_named():
    data = json.loads(Identity().to_json())
    with pytest.raises(ValueError, match="texture='oil'"):
        Identity.from_json(json.dumps({**data, "look": {"texture": "oil"}}))
    with pytest.raises(ValueError, match="sparkle"):
        Identity.from_json(json.dumps({**data, "look": {"sparkle": 1}}))
    with pytest.raises(ValueError, match="outline"):
        Identity.from_json(json.dumps({**data, "look": {"outline": -1.0}}))
    with pytest.raises(ValueError, match="look must be"):
        Identity.from_json(json.dumps({**data, "look": "soft"}))


def test_a_triple_shares_one_look_so_only_the_pose_differs():
    src = ProceduralSource(n_train=50, n_val=5, restyle=True)
    cid = "proc-000021"
    # The same rng state gives the identity (and its look) the triple drew with.
    ident = src.triple_identity(cid, np.random.default_rng([9, 2]))
    assert ident.look != src.identity(cid).look, "restyle draws a new look"
    t = src.make_triple(cid, np.random.default_rng([9, 2]))
    head = set(src.spec.stage_names("rotate"))
    assert np.array_equal(t.rest, draw_character(ident, {}))
    assert np.array_equal(t.expr, draw_character(ident, {k: v for k, v in t.pose.items() if k not in head}))
    assert np.array_equal(t.posed, draw_character(ident, t.pose))
    # At rest pose the three images are the same picture.
    rest = src.draw_triple(ident, cid, {}, {})
    assert np.array_equal(rest.rest, rest.expr) and np.array_equal(rest.rest, rest.posed)


@pytest.mark.parametrize("kind", ["paper", "grain"])
def test_texture_changes_colours_not_the_silhouette(kind):
    base = dataclasses.replace(identity_for("proc-000005"), style="cel")
    look = dataclasses.replace(base.look, texture="none", texture_strength=0.0)
    plain = dataclasses.replace(base, look=look)
    textured = dataclasses.replace(base, look=dataclasses.replace(look, texture=kind, texture_strength=1.0))
    for pose in ({}, {"head_yaw": 20.0, "head_roll": -10.0}):
        a, b = draw_character(plain, pose), draw_character(textured, pose)
        assert np.array_equal(a[..., 3], b[..., 3]), "a texture must not change the alpha"
        diff = np.abs(a[..., :3].astype(int) - b[..., :3].astype(int)).max(-1)
        opaque = a[..., 3] == 255
        assert (diff[opaque] > 2).mean() > 0.2, "the texture should show on the fills"
        assert np.median(diff[opaque]) < 12, "the texture should stay subtle"
    tile = paper_tile(1) if kind == "paper" else grain_tile(1)
    assert abs(float(tile.mean()) - 128) < 2 and tile.std() > 3


@pytest.mark.parametrize("style", ["cel", "soft"])
def test_form_shadows_fall_away_from_the_light(style):
    ident = dataclasses.replace(identity_for("proc-000002"), style=style, accessories=[], side_locks="none")
    unshaded = draw_character(dataclasses.replace(ident, look=Look(light=165.0)), {})
    darker = {}
    for light in (165.0, 15.0):  # from the upper left, from the upper right
        img = draw_character(dataclasses.replace(ident, look=Look(form_shadow=10.0, light=light)), {})
        # Below the eyes (whose highlights follow the light too), beside the mouth.
        d = unshaded[160:190, :, :3].astype(int).sum(-1) - img[160:190, :, :3].astype(int).sum(-1)
        darker[light] = (d[:, 200:246].clip(0).sum(), d[:, 266:312].clip(0).sum())  # left, right
    assert darker[165.0][1] > 3 * darker[165.0][0], darker
    assert darker[15.0][0] > 3 * darker[15.0][1], darker


def test_plain_look_fields_leave_the_drawing_unchanged():
    """Each look feature, switched on alone, changes the drawing; off, it draws as before."""
    base = dataclasses.replace(identity_for("proc-000002"), style="cel", look=Look())
    ref = draw_character(base, {})
    changes = {"form_shadow": 6.0, "gradient": 0.6, "hair_strands": 8, "hair_shine": "streaks",
               "skin_shading": 0.8, "eye_detail": 2, "lash_scale": 1.5, "outline": 0.0, "line_tint": 1.0,
               "light": 40.0, "blush_size": 1.5}
    for name, value in changes.items():
        if name == "light":  # the light moves shadows and eye highlights
            look = dataclasses.replace(Look(), form_shadow=6.0)
            a = draw_character(dataclasses.replace(base, look=look), {})
            b = draw_character(dataclasses.replace(base, look=dataclasses.replace(look, light=40.0)), {})
            assert not np.array_equal(a, b), name
            continue
        img = draw_character(dataclasses.replace(base, look=dataclasses.replace(Look(), **{name: value})), {})
        assert not np.array_equal(img, ref), f"look {name}={value!r} changed nothing"
        assert np.array_equal(img[..., 3] > 0, ref[..., 3] > 0) or name in ("outline", "hair_shine"), name


def test_atlas_detail_comes_only_from_the_training_rigs():
    from engines.datagen.live2d.models import HUMAN_HELDOUT, HUMAN_TRAIN, HUMAN_VAL, fetch_model

    # Drawing never fetches; the test does, from npm, two training rigs whose atlases have
    # textured patches (some rigs' atlases have none).
    for name in ("shizuku", "izumi"):
        fetch_model(name)
    files = atlas_files()
    assert files
    # The bank is loaded once per process; other tests may have drawn before the rigs were
    # fetched into the cache, so read it afresh.
    atlas_bank.cache_clear()
    texture._tile_shader.cache_clear()
    names = {n for n, _ in files}
    assert names <= set(HUMAN_TRAIN) and not names & (set(HUMAN_VAL) | set(HUMAN_HELDOUT))
    for path in {f for _, f in files}:
        assert "koharu" not in str(path) and "haruto" not in str(path) and "tsumiki" not in str(path)
    bank = atlas_bank()
    assert len(bank) > BANK
    for _, tile in bank:
        assert tile.dtype == np.uint8 and tile.ndim == 2 and abs(float(tile.mean()) - 128) < 3
    # An atlas look draws, and its texture differs from the paper fallback.
    ident = next(i for i in (identity_for(f"proc-{k:06d}", atlas=True) for k in range(200))
                 if i.look.texture == "atlas")
    paper = dataclasses.replace(ident, look=dataclasses.replace(ident.look, texture="paper"))
    assert not np.array_equal(draw_character(ident, {}), draw_character(paper, {}))


def test_restyled_looks_never_use_atlases_unless_allowed():
    rng = np.random.default_rng(4)
    ident = identity_for("proc-000001")
    assert all(sample_look(rng, dataclasses.replace(ident)).texture != "atlas" for _ in range(200))


def test_styles_sheet_cli_writes_a_grid_and_keeps_rig_renders_out_of_the_repo(tmp_path):
    out = tmp_path / "styles.png"
    subprocess.run([sys.executable, "-m", "engines.datagen.procedural", "sheet", "--styles", "--n", "4",
                    "--cols", "2", "--cell", "64", "--out", str(out)], cwd=REPO, check=True, capture_output=True)
    img = cv2.imread(str(out))
    assert img is not None and img.shape[1] == 2 * 64 and img.shape[0] == 2 * (64 + 16)
    cells = [img[r * 80 : r * 80 + 64, c * 64 : (c + 1) * 64].astype(int) for r in (0, 1) for c in (0, 1)]
    assert np.abs(cells[0] - cells[3]).mean() > 3, "different characters"
    refused = subprocess.run([sys.executable, "-m", "engines.datagen.procedural", "sheet", "--styles",
                              "--with-rigs", "--n", "1", "--out", str(REPO / "docs" / "rigs_test.png")],
                             cwd=REPO, capture_output=True, text=True)
    assert refused.returncode != 0 and "licence" in refused.stderr
    assert not (REPO / "docs" / "rigs_test.png").exists()
