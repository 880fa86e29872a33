# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""The live demo loop: capture → preprocess → accelerator → draw + display, each stage timed.

Display targets: ``"widget"`` updates ONE ``ipywidgets.Image`` in place (JPEG-encoded frame) so a
notebook cell shows live video without growing output; ``"video"`` writes the annotated frames to
``output`` (``cv2.VideoWriter``, MJPG .avi unless the suffix says otherwise); ``None`` only
classifies. Frames are classified one at a time (live latency, as a camera demo needs).

Colour: OpenCV frames are BGR; :func:`~pynq_bnn.camera.preprocess.preprocess` turns them into the
RGB images the overlay expects. Timing labels follow the overlay (``stats.timing``): on the
simulated device the accelerator stage and the FPS are *simulated* host-CPU time, and the
package's estimated hardware throughput is kept beside them (``stats.estimated``). A transient
DMA timeout is retried (the driver has already reset the DMA) and counted in
``stats.dma_retries``; only ``max_retries`` failures in a row on one frame end the demo.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pynq_bnn.camera.capture import FrameSource
from pynq_bnn.camera.draw import draw_label
from pynq_bnn.camera.preprocess import preprocess
from pynq_bnn.driver.errors import DMATimeoutError

__all__ = ["DemoStats", "run_demo"]

log = logging.getLogger(__name__)
STAGES = ("capture", "preprocess", "accelerator", "display")
FOURCC_BY_SUFFIX = {".avi": "MJPG", ".mkv": "FFV1", ".mp4": "mp4v"}


@dataclass
class DemoStats:
    """What a :func:`run_demo` run did.

    Attributes:
        frames: frames classified.
        dropped, corrupt: failed reads followed by a good frame; unusable frames skipped.
        predictions: ``(frames, k)`` top-k class indices, in frame order.
        stage_ms: median milliseconds per frame of each stage (capture, preprocess,
            accelerator, display).
        fps: frames per second of the whole loop.
        timing: ``"simulated"`` (simulated device: host-CPU time, not hardware) or
            ``"measured"`` (board), from the overlay.
        estimated: the package's estimated hardware ``fps``/``latency_ms`` (or ``None``).
        dma_retries: frames classified again after a transient DMA timeout.
    """

    frames: int = 0
    dropped: int = 0
    corrupt: int = 0
    predictions: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), np.int64))
    stage_ms: dict = field(default_factory=dict)
    fps: float = 0.0
    timing: str = "measured"
    estimated: dict | None = None
    dma_retries: int = 0

    def summary(self) -> str:
        """Labelled one-paragraph summary (what the command line prints)."""
        where = ("simulated on the host CPU (not hardware)" if self.timing == "simulated"
                 else "measured")
        text = (f"{self.frames} frames ({self.dropped} dropped, {self.corrupt} corrupt, "
                f"{self.dma_retries} DMA retries); {where}: {self.fps:.1f} FPS, median ms per "
                "frame: " + ", ".join(f"{s} {self.stage_ms.get(s, 0):.2f}" for s in STAGES))
        if self.estimated:
            text += (f"; hardware estimate: {self.estimated['fps']:,.0f} img/s "
                     f"[{self.estimated['source']}]")
        return text

    def _repr_html_(self) -> str:
        stages = "".join(f"<td>{self.stage_ms.get(s, 0):.2f}</td>" for s in STAGES)
        estimate = f"{self.estimated['fps']:,.0f}" if self.estimated else "-"
        return ("<table><tr><th>frames</th><th>dropped</th><th>corrupt</th><th>DMA retries</th>"
                f"<th>FPS ({self.timing})</th><th>est. hardware img/s</th>"
                + "".join(f"<th>{s} ms ({self.timing})</th>" for s in STAGES) + "</tr>"
                f"<tr><td>{self.frames}</td><td>{self.dropped}</td><td>{self.corrupt}</td>"
                f"<td>{self.dma_retries}</td><td>{self.fps:.1f}</td><td>{estimate}</td>"
                f"{stages}</tr></table>")


def run_demo(source, overlay, *, display=None, output=None, max_frames: int | None = None,
             max_failures: int = 5, max_retries: int = 3) -> DemoStats:
    """Classify a live or recorded video with ``overlay`` and show/write the annotated frames.

    Args:
        source: camera index, video path/URL, or an iterable of BGR frames (see
            :class:`~pynq_bnn.camera.capture.FrameSource`).
        overlay: a :class:`~pynq_bnn.driver.BNNOverlay` (anything with ``predict``, ``classes``
            and ``input_shape``).
        display: ``None``, ``"widget"`` (notebook) or ``"video"`` (needs ``output``).
        output: video file for ``display="video"``.
        max_frames: stop after this many classified frames (``None``: until the source ends or
            the kernel is interrupted).
        max_failures: consecutive failed reads that end the stream.
        max_retries: DMA timeouts in a row on one frame before the error is raised.
    """
    if display not in (None, "widget", "video"):
        raise ValueError(f"display must be None, 'widget' or 'video', got {display!r}")
    if display == "video" and output is None:
        raise ValueError("display='video' needs output=<path of the video file to write>")
    frames = FrameSource(source, max_failures=max_failures)
    show = _make_display(display, output, frames.fps)
    size = tuple(overlay.input_shape[:2])
    times = {stage: [] for stage in STAGES}
    predictions = []
    timing = getattr(overlay, "timing", "measured")
    fps_label = " (sim)" if timing == "simulated" else ""
    retries = 0
    start = time.perf_counter()
    try:
        while max_frames is None or len(predictions) < max_frames:
            t0 = time.perf_counter()
            frame = next(frames, None)
            if frame is None:
                break
            t1 = time.perf_counter()
            image = preprocess(frame, size)
            t2 = time.perf_counter()
            for attempt in range(max_retries + 1):
                try:
                    top = overlay.predict(image[None])[0]
                    break
                except DMATimeoutError as err:  # the driver reset the DMA: try once more
                    if attempt == max_retries:
                        raise
                    retries += 1
                    log.warning("DMA timeout on frame %d, retrying: %s", len(predictions), err)
            t3 = time.perf_counter()
            predictions.append(top)
            fps = len(predictions) / (t3 - start)
            show(draw_label(frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR),
                            overlay.classes[top[0]], fps, fps_label=fps_label))
            t4 = time.perf_counter()
            for stage, value in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                times[stage].append(value)
    except KeyboardInterrupt:
        log.info("demo interrupted after %d frames", len(predictions))
    finally:
        frames.release()
        show.close()
    elapsed = time.perf_counter() - start
    k = len(predictions[0]) if predictions else 1
    return DemoStats(
        frames=len(predictions), dropped=frames.dropped, corrupt=frames.corrupt,
        predictions=np.array(predictions, dtype=np.int64).reshape(-1, k),
        stage_ms={s: float(np.median(v)) * 1e3 if v else 0.0 for s, v in times.items()},
        fps=len(predictions) / elapsed if elapsed > 0 else 0.0, timing=timing,
        estimated=getattr(overlay, "estimate", None), dma_retries=retries)


class _NoDisplay:
    def __call__(self, frame):
        pass

    def close(self):
        pass


class _WidgetDisplay:
    """One ``ipywidgets.Image`` shown once and updated in place."""

    def __init__(self):
        try:
            import ipywidgets
            from IPython.display import display
        except ImportError as err:
            raise ImportError("display='widget' needs ipywidgets (pip install ipywidgets)") from err
        self.widget = ipywidgets.Image(format="jpeg")
        display(self.widget)

    def __call__(self, frame):
        ok, encoded = cv2.imencode(".jpg", frame)
        if ok:
            self.widget.value = encoded.tobytes()

    def close(self):
        pass


class _VideoDisplay:
    """Annotated frames written to a video file (writer opened at the first frame's size)."""

    def __init__(self, output, fps):
        self.path = Path(output)
        self.fps = fps or 30.0
        self.writer = None

    def __call__(self, frame):
        if self.writer is None:
            fourcc = cv2.VideoWriter_fourcc(*FOURCC_BY_SUFFIX.get(self.path.suffix.lower(), "MJPG"))
            self.writer = cv2.VideoWriter(str(self.path), fourcc, self.fps,
                                          (frame.shape[1], frame.shape[0]))
            if not self.writer.isOpened():
                raise OSError(f"cannot write video {self.path} (unsupported container/codec?)")
        self.writer.write(frame)

    def close(self):
        if self.writer is not None:
            self.writer.release()


def _make_display(display, output, fps):
    if display == "widget":
        return _WidgetDisplay()
    if display == "video":
        return _VideoDisplay(output, fps)
    return _NoDisplay()
