"""One builder for every way Omokage runs: the window's controller, `omokage render`,
`omokage pose`, `omokage bench` and the benchmarks all describe what they want as a
PipelineOptions and call build(). Defaults (engine threads, mirror ensemble, weights
folder, tracker, mapper settings) therefore mean the same in the window and on the command
line; app.engine.load_engine is the only place app/ constructs the engine.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

from app.character import Character, load_character
from app.engine import default_engine_threads, load_engine
from app.pipeline import Notice, Pipeline, PipelineOutput
from app.sources import Source


@dataclass
class PipelineOptions:
    """What a pipeline is made of; every field has the app's default."""
    weights: Optional[Path] = None  # engine weights folder (None: the shipped ones)
    threads: Optional[int] = None  # engine threads; 0/None: automatic
    single_pass: bool = False  # no mirror ensemble (faster, less accurate)
    int8: Optional[bool] = None  # int8 decoders where current (None: the engine's default)
    engine: Any = None  # an engine already loaded (the window keeps one across restarts)
    character: Any = None  # a path or an app.character.Character; None: none yet
    source: Any = None  # an app.sources.Source; None: no input (idle animation)
    sinks: Sequence[Any] = field(default_factory=tuple)  # opened outputs
    track: bool = True  # False: no face tracker (a pose rendered from sliders or --set)
    mirror: bool = False  # mirror the camera like a selfie view
    tracker_size: Optional[int] = None  # longest side the tracker sees (None: full frames)
    governor: bool = False  # adapt quality to the frame budget (live mode)
    mapper_config: Any = None  # app.mapping.MapperConfig; None: defaults

    @property
    def engine_threads(self) -> int:
        return self.threads or default_engine_threads()


def build_engine(options: PipelineOptions) -> Any:
    """The engine `options` asks for: the one given, or the shipped one loaded."""
    if options.engine is not None:
        return options.engine
    return load_engine(options.weights, options.threads, options.single_pass, options.int8)


def build(options: PipelineOptions | None = None, *,
          on_frame: Callable[[PipelineOutput], None] | None = None,
          on_notice: Callable[[Notice], None] | None = None) -> Pipeline:
    """Engine, tracker, mapper, expression presets and outputs, wired into one Pipeline
    (not started). Raises EngineError / CharacterError with a message for the user."""
    o = options or PipelineOptions()
    engine = build_engine(o)
    extra: dict[str, Any] = {}
    if o.governor:  # adaptive quality and a smaller tracker input only when asked for
        extra["governor"] = True
    if o.tracker_size:
        extra["tracker_size"] = o.tracker_size
    return build_pipeline(engine=engine, character=o.character, source=o.source,
                          sinks=o.sinks, tracker=None if o.track else False,
                          mapper_config=o.mapper_config, mirror=o.mirror,
                          on_frame=on_frame, on_notice=on_notice, **extra)



def build_pipeline(*, engine=None, character: Character | str | None = None,
                   source: Source | None = None, sinks: Iterable = (),
                   tracker=None, mapper=None, mapper_config=None, mirror: bool = False,
                   governor=None, tracker_size: int | None = None,
                   weights_dir=None, threads: int | None = None,
                   on_frame: Callable[[PipelineOutput], None] | None = None,
                   on_notice: Callable[[Notice], None] | None = None) -> Pipeline:
    """The one place that wires the stages. Missing parts are made from the defaults: the
    shipped neural engine, the MediaPipe tracker and the mapper for the engine's PoseSpec.
    governor: True (or an app.governor.Governor) adapts quality to the frame budget in
    live mode; tracker_size: longest side of the tracker's input (None: full frames).
    Raises EngineError / CharacterError with a user-facing message."""
    if engine is None:
        engine = load_engine(weights_dir, threads)
    if tracker is False:  # asked for no tracker (a pose from sliders only)
        tracker = None
    elif tracker is None:
        from app.tracking import MediaPipeTracker
        tracker = MediaPipeTracker(mirror=mirror, input_size=tracker_size)
    if mapper is None:
        from app.mapping import Mapper
        mapper = Mapper(engine.pose_spec, mapper_config)
    if isinstance(character, (str, bytes)) or hasattr(character, "__fspath__"):
        character = load_character(character)
    pipe = Pipeline(engine, tracker, mapper, character=character, source=source, sinks=sinks)
    if on_frame is not None:
        pipe.on_frame.append(on_frame)
    if on_notice is not None:
        pipe.on_notice.append(on_notice)
    if governor is True:
        from app.governor import Governor, levels_for

        governor = Governor(levels=levels_for(engine))
    if governor:
        pipe.set_governor(governor)
    return pipe


__all__ = ["PipelineOptions", "build", "build_engine", "build_pipeline"]
