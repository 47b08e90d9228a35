"""Erase/restore strokes on a picture (app.intake.edits), without Qt."""
from __future__ import annotations

import numpy as np
import pytest

from app.intake.edits import ERASE, RESTORE, PictureEdits


def _picture():
    rng = np.random.default_rng(0)
    pic = rng.integers(0, 256, (90, 120, 4), dtype=np.uint8)
    pic[..., 3] = 255
    return pic


def test_a_fast_stroke_erases_its_whole_path_and_nothing_else():
    pic = _picture()
    ed = PictureEdits(pic)
    ed.begin(ERASE, 10, 40, 4)
    ed.move(100, 40)  # one jump of 90 px: the segment between is painted too
    ed.end()
    a = ed.rgba[..., 3]
    assert (a[37:44, 10:101] == 0).all()
    assert (a[:34] == 255).all() and (a[47:] == 255).all()
    assert np.array_equal(ed.rgba[..., :3], pic[..., :3])  # colour kept, only alpha cleared
    assert np.array_equal(pic[..., 3], np.full(pic.shape[:2], 255))  # the input is not edited


def test_restore_brings_back_the_original_and_undo_takes_back_whole_strokes():
    pic = _picture()
    removed = pic.copy()
    removed[:, :60, 3] = 0  # as if background removal took the left half
    ed = PictureEdits(removed, original=pic)
    ed.begin(RESTORE, 30, 45, 5)
    ed.move(30, 60)
    ed.end()
    assert np.array_equal(ed.rgba[45:61, 28:33], pic[45:61, 28:33])
    assert (ed.rgba[10, :60, 3] == 0).all()
    ed.begin(ERASE, 90, 10, 3)
    ed.end()
    assert ed.rgba[10, 90, 3] == 0
    ed.undo()
    assert ed.rgba[10, 90, 3] == 255 and ed.can_undo
    ed.undo()
    assert np.array_equal(ed.rgba, removed) and not ed.can_undo
    assert ed.undo() is None


def test_strokes_off_the_picture_change_nothing_and_leave_no_undo_step():
    ed = PictureEdits(_picture())
    assert ed.begin(ERASE, -50, -50, 4) is None
    assert ed.move(-10, -60) is None
    ed.end()
    assert not ed.can_undo


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="same picture"):
        PictureEdits(_picture(), original=np.zeros((10, 10, 4), np.uint8))
    with pytest.raises(ValueError, match="erase"):
        PictureEdits(_picture()).begin("blur", 1, 1, 2)
