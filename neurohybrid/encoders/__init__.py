"""Sensory encoders: spike sources with a typed contract, stimulus in (an array with units and a
sampling period, a file, or samples pushed live) and spikes per encoder channel out.

- :class:`RetinaEncoder` (``retina.py``): difference-of-Gaussians ON/OFF ganglion cells;
- :class:`EventCameraEncoder` (``dvs.py``): a DVS-like event camera from video frames;
- :class:`CochleaEncoder` (``cochlea.py``): gammatone filterbank and auditory nerve fibres;
- :class:`NIREncoder` (``nir.py``): a learned encoder read from a NIR graph;
- ``files.py``: stimuli from PNG images, videos (.npy, GIF) and WAV files;
- ``live.py``: :class:`EncoderComponent`, an encoder fed window by window by the co-simulation
  kernel (live I/O).

Each encoder is built like the spike sources of :mod:`neurohybrid.stimuli.spike_sources`,
``cls(params, key, dt)``, and emits its spikes window by window (``emit(t0, n_ticks)``) with state
carried across windows (``state()``/``restore()``); every random draw comes from the counter-based
keyed streams (:mod:`neurohybrid.rng`), so the same seed gives the same spikes whatever the
window sizes and partitions. ``ENCODERS`` maps the model-graph name of each to its class
(:func:`neurohybrid.stimuli.spike_sources.source_class` looks them up for the engines).
"""
from .base import Encoder, Stimulus, check_stimulus
from .cochlea import CochleaEncoder, erb, erb_space, gammatone_filterbank
from .dvs import EventCameraEncoder
from .live import EncoderComponent
from .nir import NIREncoder
from .retina import RetinaEncoder

ENCODERS = {"Retina": RetinaEncoder, "EventCamera": EventCameraEncoder, "Cochlea": CochleaEncoder,
            "NIREncoder": NIREncoder}
"""Model-graph name -> encoder class."""

__all__ = ["Encoder", "Stimulus", "check_stimulus", "RetinaEncoder", "EventCameraEncoder", "CochleaEncoder",
           "NIREncoder", "EncoderComponent", "ENCODERS",
           "erb", "erb_space", "gammatone_filterbank"]
