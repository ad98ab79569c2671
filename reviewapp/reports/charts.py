"""The report's charts as SVG: the engine's Plotly figures drawn by kaleido in one headless
Chromium that stays up for the life of the process (a Celery worker renders many reports; a
browser start costs about two seconds, a chart about 0.2).

Chromium runs with no network: every host name resolves to nothing, background networking is
off, and kaleido's page loads plotly.js from the plotly package on disk (MathJax is off).
A failure (browser gone, timeout) closes the browser; the next call starts a fresh one.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import logging
import threading
from collections.abc import Sequence
from typing import Any

from choreographer.browsers.chromium import Chromium
from django.conf import settings

logger = logging.getLogger(__name__)

OFFLINE_FLAGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
    "--disable-background-networking",
    "--disable-domain-reliability",
    "--no-pings",
)


class ChartRenderError(Exception):
    """A chart could not be drawn; `str()` says why."""


class OfflineChromium(Chromium):
    """choreographer's Chromium with flags that keep it off the network."""

    def get_cli(self):
        return [*super().get_cli(), *OFFLINE_FLAGS]


class SvgRenderer:
    """One kaleido browser on an event loop of its own thread; `render` may be called from any
    thread and returns when its figures are drawn (one at a time: one tab)."""

    def __init__(self, *, browser_path: str, timeout_s: float) -> None:
        self.browser_path = browser_path
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None
        self.starts = 0  # browsers started by this renderer (tests and the benchmark read it)

    def render(self, figures: Sequence[tuple[dict[str, Any], int, int]]) -> list[str]:
        """SVG text of each (figure, width_px, height_px)."""
        with self._lock:
            if self._kaleido is None:
                self._start()
            try:
                return [self._call(self._kaleido.calc_fig(
                    figure, opts={"format": "svg", "width": width, "height": height}))
                    .decode("utf-8") for figure, width, height in figures]
            except Exception as exc:
                self._stop()
                raise ChartRenderError(f"the chart renderer failed ({type(exc).__name__}: {exc})") from exc

    def close(self) -> None:
        with self._lock:
            self._stop()

    @property
    def running(self) -> bool:
        return self._kaleido is not None

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(self.timeout_s)

    def _start(self) -> None:
        import kaleido  # imported here: the web process never draws a chart

        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="report-charts", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread

        async def open_browser():
            browser = kaleido.Kaleido(n=1, timeout=self.timeout_s, mathjax=False, path=self.browser_path,
                                      browser_cls=OfflineChromium)
            await browser.open()
            return browser

        try:
            self._kaleido = self._call(open_browser())
        except Exception as exc:
            self._stop()
            raise ChartRenderError(f"Chromium could not be started at {self.browser_path} "
                                   f"({type(exc).__name__}: {exc})") from exc
        self.starts += 1
        logger.info("report charts: Chromium started (%s)", self.browser_path)

    def _stop(self) -> None:
        if self._kaleido is not None and self._loop is not None:
            try:
                self._call(self._kaleido.close())
            except Exception:  # already gone: nothing left to close
                logger.warning("report charts: Chromium did not close cleanly", exc_info=True)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=5)
            if not self._loop.is_running():
                self._loop.close()
        self._kaleido = self._loop = self._thread = None


_renderer: SvgRenderer | None = None
_renderer_lock = threading.Lock()


def svg_renderer() -> SvgRenderer:
    """This process's renderer (created on first use, closed at exit)."""
    global _renderer
    with _renderer_lock:
        if _renderer is None:
            _renderer = SvgRenderer(browser_path=settings.REPORT_BROWSER_PATH,
                                    timeout_s=settings.REPORT_CHART_TIMEOUT_S)
            atexit.register(_renderer.close)
        return _renderer


def draw_charts(charts: Sequence[dict[str, Any]], renderer: SvgRenderer | None = None) -> None:
    """Fill each chart's `svg` (a data: URI) in place. Raises ChartRenderError: a PDF is cached
    for good, so one without its charts must fail (and be retried), not be kept."""
    if not charts:
        return
    renderer = renderer or svg_renderer()
    svgs = renderer.render([(c["figure"], c["width"], c["height"]) for c in charts])
    for chart, svg in zip(charts, svgs):
        chart["svg"] = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
