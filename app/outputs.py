"""The output manager: opens and closes every output (virtual camera, OBS source, clip
recorder) through one serial worker thread and publishes each output's state, so a window
only has to show what it is told.

Why one serial worker: opening a device can take seconds and must not block the GUI, and
requests handled one after another can never overlap. A quick on/off/on becomes open, close,
open: a second virtual camera is never opened while the first still holds the device.

States: off -> opening -> on -> off, or opening -> failed (could not open), or on -> failed
(the output stopped by itself with an error, e.g. the virtual camera thread died) or
on -> finished (it ended by itself, e.g. a recording reached its time limit). An output
that failed or finished is closed and its sink dropped, so the window can show it as off.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Iterable

log = logging.getLogger("omokage.outputs")


class OutputState(str, Enum):
    OFF = "off"
    OPENING = "opening"
    ON = "on"
    FAILED = "failed"
    FINISHED = "finished"


@dataclass(frozen=True)
class OutputStatus:
    name: str
    state: OutputState = OutputState.OFF
    message: str = ""  # why it failed, or how it finished ("Clip saved to ...")
    info: str = ""  # while on: the OBS URL, the file being recorded, the device

    @property
    def active(self) -> bool:
        """Opening or on: a toggle would turn it off."""
        return self.state in (OutputState.OPENING, OutputState.ON)


class SinkHooks:
    """Callbacks an output's sink calls from its own threads: pass `error` as the sink's
    on_error and `finished` as a recorder's on_finished. The manager learns from them
    that an output stopped by itself."""

    def __init__(self, manager: "OutputManager", name: str) -> None:
        self._manager, self._name = manager, name
        self.sink: Any = None  # set once the factory returns

    def error(self, message: str) -> None:
        if self._name in self._manager.self_stopping:
            self._manager._queue.put(("stopped", self._name, self, OutputState.FAILED, message))

    def finished(self, path: Path | str) -> None:
        self._manager._queue.put(("stopped", self._name, self, OutputState.FINISHED,
                                  f"Clip saved to {path}"))


# factory(name, hooks) -> an unopened sink (open/send/close) that reports through hooks
SinkFactory = Callable[[str, SinkHooks], Any]


class OutputManager:
    def __init__(self, factory: SinkFactory, names: Iterable[str], *,
                 on_status: Callable[[OutputStatus], None] | None = None,
                 on_sinks: Callable[[list], None] | None = None,
                 self_stopping: Iterable[str] = ("virtual_camera", "clip_recorder")) -> None:
        """on_status: every state change (worker thread). on_sinks: the list of open sinks
        whenever it changes, for the pipeline to send frames to. self_stopping: outputs
        whose on_error means they have stopped (an OBS source only reports and goes on)."""
        self.factory = factory
        self.names = tuple(names)
        self.self_stopping = frozenset(self_stopping)
        self.on_status: list[Callable[[OutputStatus], None]] = [on_status] if on_status else []
        self.on_sinks = on_sinks
        self._status = {n: OutputStatus(n) for n in self.names}
        self._sinks: dict[str, Any] = {}
        self._hooks: dict[str, SinkHooks] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._pending = 0  # requests queued or being handled
        self._idle = threading.Condition(self._lock)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="omokage-outputs", daemon=True)
        self._thread.start()

    # ---- asking (any thread, never blocks) ---------------------------------------------
    def request(self, name: str, enabled: bool) -> None:
        """Turn an output on or off; the outcome arrives through on_status."""
        if name not in self._status:
            raise KeyError(f"unknown output {name!r}; known: {', '.join(self.names)}")
        with self._lock:
            if self._closed:
                return
            self._pending += 1
        self._queue.put(("set", name, bool(enabled)))

    def reopen(self, name: str) -> None:
        """Close and open again (new options), only if it is open when the request runs."""
        with self._lock:
            if self._closed:
                return
            self._pending += 1
        self._queue.put(("reopen", name))

    # ---- reading ---------------------------------------------------------------------
    def status(self, name: str) -> OutputStatus:
        with self._lock:
            return self._status[name]

    def statuses(self) -> dict[str, OutputStatus]:
        with self._lock:
            return dict(self._status)

    def sinks(self) -> dict[str, Any]:
        """The open sinks by name (a copy)."""
        with self._lock:
            return dict(self._sinks)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """True once every request so far has been handled."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Close every output, let a recording finish saving, and stop the worker
        (bounded wait)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._pending += 1
        self._queue.put(("shutdown", max(0.0, timeout - 5.0)))
        self._thread.join(timeout)

    # ---- the worker ----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            cmd = self._queue.get()
            try:
                if cmd[0] == "set":
                    self._open(cmd[1]) if cmd[2] else self._close(cmd[1], OutputState.OFF)
                elif cmd[0] == "reopen":
                    if cmd[1] in self._sinks:
                        self._close(cmd[1], OutputState.OFF)
                        self._open(cmd[1])
                elif cmd[0] == "stopped":
                    self._stopped(*cmd[1:])
                elif cmd[0] == "shutdown":
                    closing = list(self._sinks.values())
                    for name in list(self._sinks):
                        self._close(name, OutputState.OFF)
                    for sink in closing:  # a recording being saved is finished, not lost
                        if hasattr(sink, "wait"):
                            try:
                                sink.wait(cmd[1])
                            except Exception:  # its own error was reported already
                                pass
                    return
            except Exception:  # a bug must not kill the worker: later requests still run
                log.exception("output request %r failed", cmd)
            finally:
                if cmd[0] != "stopped":
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()

    def _open(self, name: str) -> None:
        if name in self._sinks:  # already on (a repeated request): nothing to do
            return
        self._publish(OutputStatus(name, OutputState.OPENING))
        hooks = SinkHooks(self, name)
        try:
            sink = self.factory(name, hooks)
            hooks.sink = sink
            sink.open()
        except Exception as exc:
            self._publish(OutputStatus(name, OutputState.FAILED, str(exc) or type(exc).__name__))
            return
        with self._lock:
            self._sinks[name] = sink
            self._hooks[name] = hooks
        self._sinks_changed()
        self._publish(OutputStatus(name, OutputState.ON, info=_info(sink)))

    def _close(self, name: str, state: OutputState, message: str = "") -> None:
        with self._lock:
            sink = self._sinks.pop(name, None)
            self._hooks.pop(name, None)
        if sink is not None:
            self._sinks_changed()  # the pipeline stops sending before the sink closes
            try:
                sink.close()
            except Exception as exc:
                message = message or f"{name} did not close cleanly: {exc}"
        if sink is not None or self._status[name].state != state:
            self._publish(OutputStatus(name, state, message))

    def _stopped(self, name: str, hooks: SinkHooks, state: OutputState, message: str) -> None:
        if self._hooks.get(name) is not hooks:  # an earlier sink, already turned off
            return
        self._close(name, state, message)

    def _sinks_changed(self) -> None:
        if self.on_sinks is not None:
            self.on_sinks(list(self.sinks().values()))

    def _publish(self, status: OutputStatus) -> None:
        with self._lock:
            self._status[status.name] = status
        for cb in list(self.on_status):
            try:
                cb(status)
            except Exception:
                log.exception("output status listener failed")


def _info(sink: Any) -> str:
    for attr in ("url", "path", "device"):
        value = getattr(sink, attr, None)
        if value:
            return str(value)
    return ""


__all__ = ["OutputManager", "OutputState", "OutputStatus", "SinkHooks", "SinkFactory"]
