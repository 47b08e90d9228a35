"""The OBS page in a real headless Chromium: drawn character, transparent background, live
updates, and reconnection after the server restarts."""
from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from app.sinks.obs_source import ObsSourceConfig, ObsSourceSink

_spec = importlib.util.spec_from_file_location("omokage_test_cdp", Path(__file__).with_name("cdp.py"))
cdp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cdp)

pytestmark = pytest.mark.skipif(cdp.chromium_path() is None,
                                reason="needs Chromium (Debian: apt-get install chromium)")


class Producer:
    """A pipeline stand-in sending the current step's frame at ~30 fps."""

    def __init__(self, sink, make_rendered):
        self.sink, self.make, self.step = sink, make_rendered, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        i = 0
        while not self.stop.is_set():
            self.sink.send(self.make(self.step, index=i))
            i += 1
            time.sleep(1 / 30)


def test_page_draws_character_with_transparency_and_follows_frames(tmp_path, make_rendered, draw):
    sink = ObsSourceSink(ObsSourceConfig(port=0))
    sink.open()
    producer = Producer(sink, make_rendered)
    browser = cdp.Browser(tmp_path / "profile")
    try:
        browser.goto(sink.url)
        browser.wait_for("window.omokage && window.omokage.frames > 2")
        shot = browser.screenshot()
        assert shot.shape == (512, 512, 4)
        expected = draw(0)
        # Background pixels are transparent; the character's pixels are opaque and right.
        bg = expected[..., 3] == 0
        fg = expected[..., 3] == 255
        assert (shot[..., 3][bg] == 0).mean() > 0.99
        assert (shot[..., 3][fg] == 255).mean() > 0.99
        assert np.abs(shot[fg][:, :3].astype(int) - expected[fg][:, :3]).mean() < 3
        assert tuple(shot[0, 0]) == (0, 0, 0, 0)

        # A new pose: the picture changes to match it.
        n = browser.eval("window.omokage.frames")
        producer.step = 2
        browser.wait_for(f"window.omokage.frames > {n + 3}")
        shot2 = browser.screenshot()
        moved = draw(2)
        assert np.abs(shot2.astype(int) - shot).max() > 100
        fg2 = moved[..., 3] == 255
        assert np.abs(shot2[fg2][:, :3].astype(int) - moved[fg2][:, :3]).mean() < 3

        # The app restarts its server on the same port: the page reconnects by itself.
        port = sink.port
        producer.stop.set()
        producer.thread.join()
        sink.close()
        time.sleep(0.5)
        sink = ObsSourceSink(ObsSourceConfig(port=port))
        sink.open()
        producer = Producer(sink, make_rendered)
        producer.step = 4
        n = browser.eval("window.omokage.frames")
        browser.wait_for(f"window.omokage.connects >= 2 && window.omokage.frames > {n + 3}")
        shot3 = browser.screenshot()
        fg4 = draw(4)[..., 3] == 255
        assert np.abs(shot3[fg4][:, :3].astype(int) - draw(4)[fg4][:, :3]).mean() < 3
        assert browser.eval("window.omokage.errors") == 0
    finally:
        producer.stop.set()
        browser.close()
        sink.close()
