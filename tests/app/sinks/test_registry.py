"""The sink registry: names, lazy loading, the shared Sink shape, clear errors."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.sinks import Sink, SinkError, create_sink, register_sink, sink_class, sink_names
from app.sinks.clips import ClipConfig
from app.sinks.obs_source import ObsSourceConfig
from app.sinks.virtual_camera import VirtualCameraConfig

REPO = Path(__file__).resolve().parents[3]


def test_every_registered_sink_has_the_sink_shape():
    configs = {"virtual_camera": VirtualCameraConfig(), "obs_source": ObsSourceConfig(port=0),
               "clip_recorder": ClipConfig()}
    assert set(configs) <= set(sink_names())
    for name, cfg in configs.items():
        sink = create_sink(name, cfg, on_error=lambda m: None)
        assert isinstance(sink, Sink) and sink.name == name
        sink.close()  # closing an unopened sink is harmless


def test_unknown_names_and_custom_sinks():
    with pytest.raises(SinkError, match="unknown output 'ndi'; available: clip_recorder, obs_source"):
        sink_class("ndi")

    class Collect:
        name = "collect"

        def __init__(self, config, on_error=None):
            self.frames = []

        def open(self): ...

        def send(self, frame):
            self.frames.append(frame)

        def close(self): ...

    register_sink("collect", Collect)
    try:
        assert isinstance(create_sink("collect", None), Sink)
    finally:
        from app.sinks import _REGISTRY
        _REGISTRY.pop("collect")


def test_importing_the_package_loads_no_output_library():
    code = ("import sys; import app.sinks; "
            "print(sorted(m for m in ('pyvirtualcam', 'websockets', 'av') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
