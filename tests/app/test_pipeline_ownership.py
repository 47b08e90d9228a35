"""Who may call the engine, and when: one caller at a time per engine (even across
pipelines sharing it), and nothing after close(). A fake engine records every call, so
these run in a fraction of a second; the real engine is exercised by test_pipeline.py and
the window tests."""
from __future__ import annotations

import threading
import time

import numpy as np

import app.pipeline
from app.character import Character
from app.frames import FrameMeta
from app.mapping import Mapper
from app.pipeline import Pipeline, _Tracked
from engines.posespec import DEFAULT_POSE_SPEC


class RecordingEngine:
    """Counts how many threads are inside it at once; each call lingers a little so that
    overlapping callers would be caught."""
    pose_spec = DEFAULT_POSE_SPEC

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self.calls: list[str] = []
        self._guard = threading.Lock()

    def _enter(self, what: str) -> None:
        with self._guard:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.calls.append(what)
        time.sleep(0.002)
        with self._guard:
            self.inside -= 1

    def prepare(self, rgba, generated=False):
        self._enter("prepare")
        return object()

    def render(self, prepared, pose):
        self._enter("render")
        return np.zeros((8, 8, 4), np.uint8)


def _character() -> Character:
    return Character(np.zeros((512, 512, 4), np.uint8), None)


def _item(i: int) -> _Tracked:
    return _Tracked(FrameMeta(i, float(i)), DEFAULT_POSE_SPEC.defaults(), None, None)


def test_pipelines_sharing_an_engine_never_call_it_at_once():
    engine = RecordingEngine()
    pipes = [Pipeline(engine, None, Mapper(DEFAULT_POSE_SPEC), character=_character())
             for _ in range(2)]

    def hammer(pipe: Pipeline) -> None:
        for i in range(40):
            pipe.render(_item(i), force=True)
            if i % 10 == 0:
                pipe.set_character(_character())
    threads = [threading.Thread(target=hammer, args=(p,)) for p in pipes for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert engine.calls.count("render") == 160 and engine.calls.count("prepare") >= 2 + 16
    assert engine.most_inside == 1  # one caller at a time, whichever pipeline it came from


def test_close_waits_for_a_character_load_and_nothing_runs_after_it(monkeypatch):
    engine = RecordingEngine()
    pipe = Pipeline(engine, None, Mapper(DEFAULT_POSE_SPEC), character=_character())
    go = threading.Event()
    entered = threading.Event()

    def slow_load(path):  # a big picture still decoding when the window closes
        entered.set()
        go.wait(30)
        return _character()
    monkeypatch.setattr(app.pipeline, "load_character", slow_load)
    done_calls: list = []
    seen: list = []
    pipe.on_character.append(seen.append)
    worker = pipe.load_character_async("big.png", done_calls.append)
    assert entered.wait(30)
    calls_before = list(engine.calls)
    closer = threading.Thread(target=pipe.close)
    closer.start()
    while not pipe._closed.is_set():
        time.sleep(0.01)
    assert closer.is_alive() and worker.is_alive()  # close() is waiting for the load
    go.set()
    closer.join(60)
    assert not closer.is_alive() and not worker.is_alive()  # it returned after the load
    # The finished load neither prepared the character nor called anyone back.
    assert engine.calls == calls_before
    assert done_calls == [] and seen == []
    pipe.set_character(_character())  # a late caller is ignored too
    assert engine.calls == calls_before
