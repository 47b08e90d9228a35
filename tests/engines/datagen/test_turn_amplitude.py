"""Head-turn amplitudes measured on renders grow with the angle and vanish at rest."""
from __future__ import annotations

from engines.datagen.procedural import ProceduralSource, draw_character, identity_for
from engines.datagen.turn_amplitude import turn_amplitudes
from engines.posespec import HEAD_TURNS


def test_amplitude_grows_with_the_angle() -> None:
    ident = identity_for(ProceduralSource().characters("val")[0])
    render = lambda pose: draw_character(ident, pose)  # noqa: E731
    still, small, large = (turn_amplitudes(render, a) for a in (0.0, 10.0, 30.0))
    for t in HEAD_TURNS:
        assert still[t] < 0.5
        assert 1.0 < small[t] < large[t]
