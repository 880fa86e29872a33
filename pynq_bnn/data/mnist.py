# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""MNIST reader: the four standard IDX files, gzip-compressed, in ``<data_dir>/mnist/``.

IDX: big-endian header (magic 2051 images / 2049 labels, count, rows, cols), then uint8 payload.
The decompressed bytes are checked against the official md5 sums. Decompression is bounded by
the size the split must have (header + ``N`` records): a corrupt or hostile file (a "gzip bomb")
is refused after at most that many bytes instead of filling the memory.
"""
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from pynq_bnn.data.common import DataError, ImageSet, md5_of, missing_files_error, resolve_data_dir

__all__ = ["load_mnist", "MNIST_FILES"]

# split -> (images file, md5 of decompressed images, labels file, md5 of decompressed labels, N)
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "6bbc9ace898e44ae57da46a324031adb",
              "train-labels-idx1-ubyte.gz", "a25bea736e30d166cdddb491f175f624", 60000),
    "test": ("t10k-images-idx3-ubyte.gz", "2646ac647ad5339dbf082846283269ea",
             "t10k-labels-idx1-ubyte.gz", "27ae3e4e09519cfbb04c329615203637", 10000),
}
CLASSES = tuple(str(d) for d in range(10))


MAX_GZIP_BYTES = 64 << 20  # the official train-images file is 9.9 MB compressed


def _bounded_gunzip(path: Path, limit: int) -> bytes:
    """Decompress a gzip file, refusing more than ``limit`` output bytes."""
    if path.stat().st_size > MAX_GZIP_BYTES:
        raise DataError(f"{path} is {path.stat().st_size} bytes, far more than the MNIST file; "
                        "replace it with the official one")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip header and trailer
    try:
        raw = inflater.decompress(path.read_bytes(), limit + 1)
    except zlib.error as err:
        raise DataError(f"{path} is not a readable gzip file ({err}); replace it with the "
                        "official MNIST file") from None
    if len(raw) > limit:
        raise DataError(f"{path} decompresses to more than the {limit} bytes an MNIST file of "
                        "this split holds; replace it with the official file")
    if not inflater.eof:
        raise DataError(f"{path} is a truncated gzip file; replace it with the official MNIST "
                        "file")
    return raw


def _read_idx(path: Path, magic: int, expected_md5: str, verify: bool, count: int
              ) -> np.ndarray:
    ndim = magic & 0xFF
    record = 28 * 28 if ndim == 3 else 1
    raw = _bounded_gunzip(path, 4 * (1 + ndim) + count * record)
    if verify and md5_of(raw) != expected_md5:
        raise DataError(f"{path}: checksum mismatch (md5 of the decompressed file should be "
                        f"{expected_md5}); the file is corrupt, replace it")
    header = np.frombuffer(raw[: 4 * (1 + ndim)], dtype=">u4")
    if len(header) < 1 + ndim or int(header[0]) != magic:
        raise DataError(f"{path}: not an IDX file with magic {magic}")
    shape = tuple(int(v) for v in header[1:])
    payload = np.frombuffer(raw, dtype=np.uint8, offset=4 * (1 + ndim))
    if payload.size != int(np.prod(shape)):
        raise DataError(f"{path}: header says {shape} but holds {payload.size} bytes")
    return payload.reshape(shape)


@lru_cache(maxsize=4)
def _load_cached(folder: str, split: str, verify: bool):
    img_name, img_md5, lbl_name, lbl_md5, count = MNIST_FILES[split]
    folder = Path(folder)
    if not (folder / img_name).is_file() or not (folder / lbl_name).is_file():
        raise missing_files_error("MNIST", folder, [img_name, lbl_name])
    images = _read_idx(folder / img_name, 2051, img_md5, verify, count)
    labels = _read_idx(folder / lbl_name, 2049, lbl_md5, verify, count)
    if images.shape != (count, 28, 28) or labels.shape != (count,):
        raise DataError(f"MNIST {split}: unexpected shapes {images.shape} / {labels.shape}")
    return images, labels


def load_mnist(split: str = "train", data_dir=None, *, verify: bool = True) -> ImageSet:
    """Load an MNIST split as uint8 ``(N, 1, 28, 28)`` images and uint8 labels.

    Args:
        split: ``"train"`` (60,000) or ``"test"`` (10,000).
        data_dir: folder holding ``mnist/``; defaults to ``$PYNQ_BNN_DATA``.
        verify: check the official md5 of the decompressed files (cached per process).
    """
    if split not in MNIST_FILES:
        raise DataError(f"unknown MNIST split {split!r}; use 'train' or 'test'")
    folder = resolve_data_dir(data_dir) / "mnist"
    images, labels = _load_cached(str(folder.resolve()), split, verify)
    return ImageSet(images[:, None].copy(), labels.copy(), CLASSES, f"mnist/{split}")
