"""Stimuli from files: images (PNG and what Pillow reads), videos (a ``.npy`` stack of frames or
an animated GIF) and sounds (WAV), each as a :class:`~.base.Stimulus` with units and sampling
period. A file that cannot be read is a ParameterError naming the loader, ``path`` and the reason.

- :func:`load_image`: one frame [1, rows, cols], grey levels in [0, 1] (units ``"1"``);
- :func:`load_video`: frames [time, rows, cols] in [0, 1] (units ``"1"``); ``.npy`` files
  hold [time, rows, cols] or [time, rows, cols, 3|4] (colour: mean of RGB), integers scaled by
  their type's maximum; a GIF's frame period is its first frame's duration unless
  ``frame_period`` (ms) is given;
- :func:`load_wav`: a mono waveform in [-1, 1] of full scale (units ``"1"``, stereo averaged),
  sampling period ``1000 / rate`` ms;
- :func:`load_stimulus`: by file extension.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from neurohybrid.errors import ParameterError

from .base import Stimulus

__all__ = ["load_image", "load_video", "load_wav", "load_stimulus"]


def _path(loader: str, path) -> Path:
    p = Path(os.fspath(path))
    if not p.is_file():
        raise ParameterError(loader, "path", f"{str(p)!r} does not exist or is not a file", "a readable file")
    return p


def _grey(loader: str, path: Path, a: np.ndarray) -> np.ndarray:
    """Frames [time, rows, cols] in [0, 1] from integer or float frames, grey or colour."""
    if a.dtype.kind in "ui":
        a = a.astype(float) / np.iinfo(a.dtype).max
    elif a.dtype.kind == "b":
        a = a.astype(float)
    elif a.dtype.kind != "f":
        raise ParameterError(loader, "path", f"{str(path)!r} holds {a.dtype} data", "numeric frames")
    if a.ndim == 4 and a.shape[-1] in (3, 4):
        a = a[..., :3].mean(axis=-1)
    if a.ndim != 3:
        raise ParameterError(loader, "path", f"{str(path)!r} holds an array of shape {a.shape}",
                             "frames [time, rows, cols] or [time, rows, cols, 3|4]")
    return np.asarray(a, dtype=float)


def load_image(path, sampling_period: float = 1.0) -> Stimulus:
    """One image as a stimulus of one frame [1, rows, cols] (grey in [0, 1], units "1");
    ``sampling_period`` (ms) is how long the frame lasts before the encoder holds it."""
    p = _path("load_image", path)
    try:
        from PIL import Image
        with Image.open(p) as im:
            a = np.asarray(im.convert("L"), dtype=float) / 255.0
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds on bad files
        raise ParameterError("load_image", "path", f"{str(p)!r} cannot be read as an image "
                             f"({type(exc).__name__}: {exc})", "PNG, JPEG, GIF or another format Pillow reads") from None
    return Stimulus(a[None], "1", float(sampling_period))


def load_video(path, frame_period: float | None = None) -> Stimulus:
    """A video as frames [time, rows, cols] in [0, 1] (units "1"): a ``.npy`` stack (needs
    ``frame_period``, ms) or an animated GIF (its own frame duration unless ``frame_period``)."""
    p = _path("load_video", path)
    if p.suffix.lower() == ".npy":
        try:
            a = np.load(p, allow_pickle=False)
        except Exception as exc:  # noqa: BLE001
            raise ParameterError("load_video", "path", f"{str(p)!r} cannot be read as a .npy array "
                                 f"({type(exc).__name__}: {exc})", "a file written by numpy.save") from None
        if frame_period is None:
            raise ParameterError("load_video", "frame_period", "not given for a .npy video (it stores no timing)",
                                 "the time between frames in ms")
        return Stimulus(_grey("load_video", p, a), "1", float(frame_period))
    try:
        from PIL import Image, ImageSequence
        with Image.open(p) as im:
            duration = float(im.info.get("duration") or 0.0)
            frames = [np.asarray(f.convert("L"), dtype=float) / 255.0 for f in ImageSequence.Iterator(im)]
    except Exception as exc:  # noqa: BLE001
        raise ParameterError("load_video", "path", f"{str(p)!r} cannot be read as a video "
                             f"({type(exc).__name__}: {exc})", "an animated GIF or a .npy stack of frames") from None
    period = float(frame_period) if frame_period is not None else duration
    if not period > 0:
        raise ParameterError("load_video", "frame_period", f"{str(p)!r} states no frame duration",
                             "frame_period=<ms between frames>")
    return Stimulus(np.stack(frames), "1", period)


def load_wav(path) -> Stimulus:
    """A WAV file as a mono waveform in [-1, 1] of full scale (units "1"), sampling period
    ``1000 / rate`` ms (integer formats scaled by their full scale, stereo averaged)."""
    p = _path("load_wav", path)
    from scipy.io import wavfile
    try:
        rate, data = wavfile.read(p)
    except Exception as exc:  # noqa: BLE001 - scipy raises ValueError/EOFError on bad files
        raise ParameterError("load_wav", "path", f"{str(p)!r} cannot be read as a WAV file "
                             f"({type(exc).__name__}: {exc})", "a PCM or float WAV file") from None
    if data.dtype == np.uint8:
        x = (data.astype(float) - 128.0) / 128.0
    elif data.dtype.kind == "i":
        x = data.astype(float) / (np.iinfo(data.dtype).max + 1.0)
    else:
        x = data.astype(float)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if x.size == 0:
        raise ParameterError("load_wav", "path", f"{str(p)!r} holds no samples", "a WAV file with samples")
    return Stimulus(x, "1", 1000.0 / float(rate))


def load_stimulus(path, **options) -> Stimulus:
    """A stimulus from a file, by extension: .wav -> :func:`load_wav`; .npy, .gif ->
    :func:`load_video`; other image formats -> :func:`load_image`."""
    suffix = Path(os.fspath(path)).suffix.lower()
    if suffix == ".wav":
        return load_wav(path, **options)
    if suffix in (".npy", ".gif"):
        return load_video(path, **options)
    return load_image(path, **options)
