"""Outputs of the pipeline: virtual camera, OBS transparent source, clip recorder.

Every sink has the same small shape (`Sink`): `open()`, `send(frame)`, `close()`. `send`
never blocks the caller: each sink hands the frame to its own thread through a one-slot
mailbox (or a short bounded queue for recording) and drops stale work instead of waiting.

Sinks live in a name -> class registry so the pipeline builder, the CLI and the window pick
them by name. Modules load lazily: importing this package does not import pyvirtualcam,
websockets or PyAV.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Protocol, runtime_checkable

from app.frames import RenderedFrame


class SinkError(RuntimeError):
    """A sink problem the user can act on. str(error) is the message to show."""


@runtime_checkable
class Sink(Protocol):
    name: str

    def open(self) -> None:
        """Acquire the device/port/file; raises SinkError with a user-facing message."""

    def send(self, frame: RenderedFrame) -> None:
        """Hand over one frame; returns at once (drops stale frames, never queues up)."""

    def close(self) -> None:
        """Stop the sink's thread and release what open() acquired. Safe to call twice."""


ErrorCallback = Callable[[str], None]

# name -> "module:Class"; resolved on first use so optional libraries load only when used.
_REGISTRY: dict[str, str | type] = {
    "virtual_camera": "app.sinks.virtual_camera:VirtualCameraSink",
    "obs_source": "app.sinks.obs_source:ObsSourceSink",
    "clip_recorder": "app.sinks.clips:ClipRecorder",
}


def register_sink(name: str, cls: type | str) -> None:
    """Add or replace a sink class (or a lazy "module:Class" path) under `name`."""
    _REGISTRY[name] = cls


def sink_names() -> list[str]:
    return sorted(_REGISTRY)


def sink_class(name: str) -> type:
    try:
        entry = _REGISTRY[name]
    except KeyError:
        raise SinkError(f"unknown output {name!r}; available: {', '.join(sink_names())}") from None
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        entry = getattr(importlib.import_module(module), attr)
        _REGISTRY[name] = entry
    return entry


def create_sink(name: str, config: Any, **kwargs: Any) -> Sink:
    """An unopened sink of kind `name` built from its config dataclass."""
    return sink_class(name)(config, **kwargs)


__all__ = ["Sink", "SinkError", "ErrorCallback", "register_sink", "sink_names", "sink_class",
           "create_sink"]
