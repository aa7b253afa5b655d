"""A small client of headless Chromium's DevTools protocol, over a pipe (no websocket).

Tests use it to lay a page out as a phone, a desktop or a printer would, measure it
with a script, take screenshots and print it to PDF. Chromium is started with
``--remote-debugging-pipe``: it reads JSON messages, each ended by a NUL byte, on its
file descriptor 3 and writes its answers and events on 4.

A desktop window cannot be narrower than 500 px, so a phone's 390 px is emulated
(``Emulation.setDeviceMetricsOverride``), as its print media is
(``Emulation.setEmulatedMedia``).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]


class Browser:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, timeout: float = 60.0) -> None:
        if CHROMIUM is None:
            raise RuntimeError("no chromium binary on PATH")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="riskchain-chromium-")
        to_child, self._write = os.pipe()  # we write, Chromium reads on fd 3
        self._read, from_child = os.pipe()  # Chromium writes on fd 4, we read

        def fds() -> None:  # in the child: put the pipe ends where Chromium expects them
            # copies above 4 first, so that neither dup2 clobbers the other's source (and a
            # dup2 onto itself would leave the descriptor closed on exec)
            a = fcntl.fcntl(to_child, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_child, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            # closing the parent's descriptors would close 3 and 4 after preexec_fn too;
            # Python's own descriptors are not inheritable, so none but these two leak
            close_fds=False,
            preexec_fn=fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        self._buf = b""
        self._id = 0
        self._events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.send("Page.enable")

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # it may close its pipe before answering
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._write)
        os.close(self._read)
        shutil.rmtree(self.profile, ignore_errors=True)

    # ------------------------------------------------------------------ protocol

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed its pipe")
            self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def call(self, method: str, session: str | None = None, **params: object) -> dict:
        """Send one command (to the browser, or to ``session``) and wait for its answer."""
        self._id += 1
        msg: dict = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._write, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._message(deadline)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self._events.append(answer)

    def send(self, method: str, **params: object) -> dict:
        """A command to the page."""
        return self.call(method, self.session, **params)

    def _wait_event(self, name: str) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            for k, ev in enumerate(self._events):
                if ev.get("method") == name:
                    del self._events[: k + 1]
                    return
            self._events.clear()
            self._events.append(self._message(deadline))

    # ------------------------------------------------------------------ page

    def open(self, path: Path, width: int, height: int = 900, mobile: bool = False) -> None:
        """Load ``path`` in a viewport ``width`` CSS px wide (a phone's when ``mobile``)."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        self.send("Emulation.setEmulatedMedia", media="")
        self._events.clear()
        self.send("Page.navigate", url=path.resolve().as_uri())
        self._wait_event("Page.loadEventFired")

    def media(self, media: str) -> None:
        """Lay the page out for ``print`` (or ``screen``, or "" for the default)."""
        self.send("Emulation.setEmulatedMedia", media=media)

    def evaluate(self, expression: str) -> object:
        """The value of a JavaScript expression in the page."""
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"script failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def screenshot(self, path: Path, full: bool = True) -> None:
        """A PNG of the viewport, or of the whole page (``full``)."""
        params: dict = {"format": "png"}
        if full:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["captureBeyondViewport"] = True
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": size["height"],
                "scale": 1,
            }
        data = self.send("Page.captureScreenshot", **params)["data"]
        path.write_bytes(base64.b64decode(data))

    def pdf(self, path: Path) -> None:
        """Print the page to PDF, with the page size and margins its CSS asks for."""
        data = self.send("Page.printToPDF", preferCSSPageSize=True, printBackground=True)["data"]
        path.write_bytes(base64.b64decode(data))
