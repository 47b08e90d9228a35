"""Character loading: the convention, the prepare step and every kind of bad image."""
from __future__ import annotations

import numpy as np
import pytest

from app.character import CharacterError, load_character
from tests.app.bad_images import _character, _save, bad_images, odd_images

ODD_KINDS = ("cmyk jpeg", "png named .jpg", "bytes after the end", "lossless webp",
             "opaque bmp on white")


def test_convention_image_loads_unchanged(tmp_path):
    src = _character()
    ch = load_character(_save(src, tmp_path / "c.png"))
    assert ch.rgba.shape == (512, 512, 4) and ch.rgba.dtype == np.uint8
    assert np.array_equal(ch.rgba, src)
    assert ch.notes == []


def test_tall_image_is_padded_and_scaled(tmp_path):
    src = _character((300, 600))
    ch = load_character(_save(src, tmp_path / "tall.png"))
    assert ch.rgba.shape == (512, 512, 4)
    assert any("padded" in n for n in ch.notes) and any("scaled" in n for n in ch.notes)
    cols = np.nonzero(ch.rgba[..., 3].max(axis=0))[0]
    assert abs((cols.min() + cols.max()) / 2 - 256) < 8  # character centred horizontally


def test_plain_background_is_keyed_out(tmp_path):
    src = _character()
    rgb = src[..., :3].copy()
    rgb[src[..., 3] == 0] = (255, 255, 255)
    ch = load_character(_save(rgb, tmp_path / "w.png", "RGB"))
    assert ch.rgba[0, 0, 3] == 0 and ch.rgba[128, 256, 3] == 255
    assert any("transparent" in n for n in ch.notes)


BAD_KINDS = ["corrupt", "truncated", "huge", "grayscale", "16-bit", "palette", "animated",
             "empty", "missing", "damaged image data", "damaged text chunk",
             "zero bytes", "folder", "dangling link", "cut inside the header",
             "signature only", "truncated jpeg", "web page saved as png", "svg",
             "gzipped png", "damaged header", "one pixel", "thumbnail", "thin strip",
             "grayscale with alpha", "16-bit grayscale", "1-bit", "float tiff",
             "animated webp", "animated png", "multi-page tiff", "single-frame gif",
             "jpeg claiming 65000x65000", "one plain colour", "almost invisible"]


def test_every_bad_image_kind_is_tested(tmp_path):
    assert sorted(bad_images(tmp_path)) == sorted(BAD_KINDS)


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_image_gives_clear_message(tmp_path, kind):
    path, words = bad_images(tmp_path)[kind]
    with pytest.raises(CharacterError) as err:
        load_character(path)
    assert words in str(err.value)
    assert path.name in str(err.value)  # names the file the user chose


@pytest.mark.parametrize("kind", sorted(ODD_KINDS))
def test_unusual_but_sound_images_load(tmp_path, kind):
    path, pixels, words = odd_images(tmp_path)[kind]
    ch = load_character(path)
    assert ch.rgba.shape == (512, 512, 4) and ch.rgba.dtype == np.uint8
    if pixels is not None:
        assert np.array_equal(ch.rgba, pixels)
    if words is None:
        assert ch.notes == []
    else:
        assert any(words in n for n in ch.notes), ch.notes
    head = ch.rgba[64:192, 192:320, 3]
    assert (head > 16).mean() > 0.25  # the character is there, where the convention wants it
