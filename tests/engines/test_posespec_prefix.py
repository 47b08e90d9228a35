"""Weights read a prefix of each stage's parameters: the first release's thirteen, or all."""
from __future__ import annotations

import pytest

from engines.posespec import DEFAULT_POSE_SPEC, EXPRESSIONS, stage_prefix


def test_the_first_thirteen_parameters_are_a_prefix_of_each_stage() -> None:
    old = stage_prefix(DEFAULT_POSE_SPEC, 8, 5)
    assert len(old) == 13 and not set(EXPRESSIONS) & set(old.names)
    assert old.stage_names("morph") == DEFAULT_POSE_SPEC.stage_names("morph")[:8]
    assert old.stage_names("rotate") == DEFAULT_POSE_SPEC.stage_names("rotate")
    assert stage_prefix(DEFAULT_POSE_SPEC, 12, 5) == DEFAULT_POSE_SPEC
    # A pair cut in half loses its partner rather than naming a parameter the spec lacks.
    half = stage_prefix(DEFAULT_POSE_SPEC, 9, 5)
    assert half["eye_left_smile"].pair is None
    with pytest.raises(ValueError, match="cannot take"):
        stage_prefix(DEFAULT_POSE_SPEC, 13, 5)


def test_expressions_mirror_left_and_right() -> None:
    pose = {"eye_left_smile": 1.0, "brow_right_angle": -0.5}
    m = DEFAULT_POSE_SPEC.mirrored(pose)
    assert m["eye_right_smile"] == 1.0 and m["eye_left_smile"] == 0.0
    assert m["brow_left_angle"] == -0.5
