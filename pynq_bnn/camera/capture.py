# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Frame sources that survive bad frames: a camera index, a video file/stream URL, or any iterable.

A failed read (``cap.read()`` returning ``False``, or ``None`` from an iterable) is a *dropped*
frame when a good frame follows it; after ``max_failures`` failed reads in a row the source is
considered finished (end of file, unplugged camera) and those trailing failures are not counted.
A frame that arrives but is not a uint8 ``(h, w)``/``(h, w, 3)`` array is *corrupt*: counted and
skipped.
"""
from __future__ import annotations

import logging

import cv2
import numpy as np

__all__ = ["FrameSource"]

log = logging.getLogger(__name__)


class FrameSource:
    """Iterator of good BGR frames with ``dropped``/``corrupt`` counters.

    Args:
        source: camera index (``int``), path or URL of a video (``str``/``Path``), or an iterable
            of frames (``None`` items are failed reads).
        max_failures: consecutive failed reads that end the stream.
    """

    def __init__(self, source, *, max_failures: int = 5):
        self.dropped = 0
        self.corrupt = 0
        self.delivered = 0
        self.max_failures = max_failures
        self._capture = None
        if isinstance(source, (int, str)) or hasattr(source, "__fspath__"):
            target = source if isinstance(source, int) else str(source)
            self._capture = cv2.VideoCapture(target)
            if not self._capture.isOpened():
                raise FileNotFoundError(f"cannot open video source {source!r} (camera index, "
                                        "video file or stream URL)")
            self._reads = self._read_capture()
        else:
            self._reads = iter(source)

    def _read_capture(self):
        while True:
            ok, frame = self._capture.read()
            yield frame if ok else None

    def __iter__(self):
        return self

    def __next__(self) -> np.ndarray:
        failures = 0
        while True:
            try:
                frame = next(self._reads)
            except StopIteration:
                break
            if frame is None:
                failures += 1
                if failures >= self.max_failures:
                    break
                continue
            if not _is_frame(frame):
                self.corrupt += 1
                log.debug("corrupt frame skipped: %r", getattr(frame, "shape", type(frame)))
                continue
            self.dropped += failures
            self.delivered += 1
            return frame
        self.release()
        raise StopIteration

    @property
    def fps(self) -> float | None:
        """Frame rate reported by a video source (None for iterables or when unknown)."""
        if self._capture is None:
            return None
        value = self._capture.get(cv2.CAP_PROP_FPS)
        return float(value) if value and value > 0 else None

    def release(self) -> None:
        if self._capture is not None:
            self._capture.release()


def _is_frame(frame) -> bool:
    return (isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.size > 0
            and (frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 3)))
