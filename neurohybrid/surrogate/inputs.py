"""The randomised synaptic input a surrogate is trained on, and how input is binned.

A surrogate sees its cell's input as *channels*: one per (receptor, location) the projections
onto the population use (the port contract of :mod:`.artefact`). The input of a channel in a
time bin is the sum of the weights (µS for conductance synapses) of the spikes that reach the
cell in that bin: a spike emitted at tick k over a connection of ``delay`` ms reaches the cell at
``(k + 1) dt + delay`` ms (the NEURON engine's event time) and belongs to bin
``floor(arrival / bin_ms)``.

Training input follows Beniaguev, Segev & London (Neuron 2021, "Single cortical neurons as deep
artificial neural networks", STAR Methods): many independent inputs per location whose rates
change over time, so that the data set spans quiet and strongly driven regimes; here each
channel has ``n_inputs`` Poisson inputs whose common rate is redrawn (log-uniformly) in segments
of random length, plus synchronous *volleys* in which a random share of one or several channels'
inputs fire together at random relative lags (so that coincidences such as the basal + tuft
pairing of BAC firing appear in every lag). Everything is drawn from one seed.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import ParameterError
from ..rng import stream_key

__all__ = ["ChannelInput", "InputDistribution", "SampledInput"]


def _positive_pair(owner: str, name: str, pair, allow_zero: bool = False) -> tuple:
    try:
        lo, hi = (float(x) for x in pair)
    except (TypeError, ValueError):
        raise ParameterError(owner, name, f"{pair!r}", "a (low, high) pair of numbers") from None
    ok = math.isfinite(lo) and math.isfinite(hi) and lo <= hi and (lo >= 0 if allow_zero else lo > 0)
    if not ok:
        raise ParameterError(owner, name, f"{pair!r}", "finite 0 " + ("<=" if allow_zero else "<") + " low <= high")
    return lo, hi


@dataclass(frozen=True)
class ChannelInput:
    """Training input of one channel: ``n_inputs`` presynaptic inputs onto ``receptor`` (at
    ``location``, None: anywhere the cell has it), each with a weight drawn uniformly from
    ``weight`` (µS), firing as Poisson processes whose common rate (Hz) is drawn log-uniformly
    from ``rate`` in every segment."""

    receptor: str
    n_inputs: int
    weight: tuple
    rate: tuple = (0.5, 20.0)
    location: str | None = None

    def __post_init__(self):
        owner = f"ChannelInput({self.receptor})"
        if not isinstance(self.n_inputs, (int, np.integer)) or self.n_inputs < 1:
            raise ParameterError(owner, "n_inputs", f"{self.n_inputs!r}", "an integer >= 1")
        object.__setattr__(self, "weight", _positive_pair(owner, "weight", self.weight))
        object.__setattr__(self, "rate", _positive_pair(owner, "rate", self.rate))

    @property
    def key(self) -> str:
        """The channel's name in a port contract: ``receptor`` or ``receptor@location``."""
        return self.receptor if self.location is None else f"{self.receptor}@{self.location}"


@dataclass(frozen=True)
class InputDistribution:
    """The whole training input (see the module docstring).

    ``channels``: one :class:`ChannelInput` each; ``segment_ms``: range of the length of a
    constant-rate segment (ms); ``volley_rate``: volley events per second per cell; in a volley
    each channel takes part with probability ``volley_channels``, recruiting a share of its
    inputs drawn from ``volley_share``, at a lag drawn from ``volley_lag`` (ms, relative to the
    event) with per-input jitter up to ``jitter`` ms.
    """

    channels: tuple
    segment_ms: tuple = (50.0, 500.0)
    volley_rate: float = 4.0
    volley_channels: float = 0.5
    volley_share: tuple = (0.2, 1.0)
    volley_lag: tuple = (0.0, 12.0)
    jitter: float = 1.0
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        owner = "InputDistribution"
        chans = tuple(self.channels)
        if not chans or not all(isinstance(c, ChannelInput) for c in chans):
            raise ParameterError(owner, "channels", f"{self.channels!r}", "one or more ChannelInput")
        keys = [c.key for c in chans]
        if len(set(keys)) != len(keys):
            raise ParameterError(owner, "channels", f"repeated channels {keys}", "one ChannelInput per channel")
        object.__setattr__(self, "channels", chans)
        object.__setattr__(self, "segment_ms", _positive_pair(owner, "segment_ms", self.segment_ms))
        object.__setattr__(self, "volley_share", _positive_pair(owner, "volley_share", self.volley_share))
        object.__setattr__(self, "volley_lag", _positive_pair(owner, "volley_lag", self.volley_lag, allow_zero=True))
        for name in ("volley_rate", "volley_channels", "jitter"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ParameterError(owner, name, f"{v!r}", "a finite number >= 0")
        if self.volley_channels > 1:
            raise ParameterError(owner, "volley_channels", f"{self.volley_channels!r}", "a probability in [0, 1]")

    @property
    def keys(self) -> list[str]:
        """Channel names, in order."""
        return [c.key for c in self.channels]

    def describe(self) -> dict:
        """The distribution as JSON-able data (stored in a surrogate file)."""
        return {"channels": [asdict(c) for c in self.channels],
                **{k: v for k, v in asdict(self).items() if k != "channels"}}

    @classmethod
    def from_description(cls, d: dict) -> "InputDistribution":
        """Inverse of :meth:`describe`."""
        d = dict(d)
        chans = tuple(ChannelInput(**{**c, "weight": tuple(c["weight"]), "rate": tuple(c["rate"])})
                      for c in d.pop("channels"))
        return cls(chans, **{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    def sample(self, n_cells: int, duration_ms: float, seed: int, dt: float) -> "SampledInput":
        """Spike trains of every input of ``n_cells`` cells over ``duration_ms``, on the ``dt``
        grid (times are multiples of dt, > 0)."""
        rng = np.random.default_rng(int(stream_key(seed, "surrogate-input")))
        trains, weights = [], []
        volleys = [self._volleys(rng, duration_ms) for _ in range(n_cells)]
        for k, chan in enumerate(self.channels):
            per_cell, w = [], []
            for cell in range(n_cells):
                per_cell.extend(self._channel_trains(rng, chan, k, volleys[cell], duration_ms, dt))
                w.append(rng.uniform(*chan.weight, size=chan.n_inputs))
            trains.append(per_cell)
            weights.append(np.concatenate(w))
        return SampledInput(self, n_cells, float(duration_ms), trains, weights)

    def _volleys(self, rng, duration_ms: float) -> list:
        """(time, {channel: (lag, share)}) of each volley event of one cell."""
        n = rng.poisson(self.volley_rate * duration_ms / 1000.0)
        out = []
        for t in np.sort(rng.uniform(0.0, duration_ms, n)):
            parts = {}
            for k in range(len(self.channels)):
                if rng.random() < self.volley_channels:
                    parts[k] = (rng.uniform(*self.volley_lag), rng.uniform(*self.volley_share))
            if parts:
                out.append((float(t), parts))
        return out

    def _channel_trains(self, rng, chan: ChannelInput, k: int, volleys: list, duration_ms: float, dt: float):
        # piecewise-constant common rate, then independent Poisson inputs in each segment
        edges = [0.0]
        while edges[-1] < duration_ms:
            edges.append(edges[-1] + rng.uniform(*self.segment_ms))
        edges[-1] = duration_ms
        lo, hi = np.log(chan.rate[0]), np.log(chan.rate[1])
        rates = np.exp(rng.uniform(lo, hi, len(edges) - 1))
        times = [[] for _ in range(chan.n_inputs)]
        for a, b, r in zip(edges[:-1], edges[1:], rates):
            counts = rng.poisson(r * (b - a) / 1000.0, chan.n_inputs)
            for i in np.flatnonzero(counts):
                times[i].append(rng.uniform(a, b, counts[i]))
        for t, parts in volleys:
            if k not in parts:
                continue
            lag, share = parts[k]
            who = np.flatnonzero(rng.random(chan.n_inputs) < share)
            jit = rng.uniform(0.0, self.jitter, who.size)
            for i, j in zip(who, jit):
                times[i].append(np.array([t + lag + j]))
        out = []
        for parts in times:
            a = np.concatenate(parts) if parts else np.empty(0)
            a = np.sort(np.maximum(np.ceil(a / dt - 1e-9), 1.0) * dt)
            out.append(a[a < duration_ms])
        return out


@dataclass
class SampledInput:
    """Input drawn by :meth:`InputDistribution.sample`: per channel, one spike train (ms) per
    input (cell-major: inputs of cell 0, then cell 1, ...) and one weight per input (µS)."""

    distribution: InputDistribution
    n_cells: int
    duration_ms: float
    trains: list
    weights: list

    def owners(self, k: int) -> np.ndarray:
        """Cell index of each input of channel ``k``."""
        return np.repeat(np.arange(self.n_cells), self.distribution.channels[k].n_inputs)

    def binned(self, bin_ms: float, delay_ms: float) -> np.ndarray:
        """Input per (bin, cell, channel): summed weights arriving in each bin, for spikes
        delivered ``delay_ms`` after their (grid) time."""
        n_bins = int(math.ceil(self.duration_ms / bin_ms))
        out = np.zeros((n_bins, self.n_cells, len(self.trains)))
        for k, (trains, w) in enumerate(zip(self.trains, self.weights)):
            owner = self.owners(k)
            lens = np.array([len(t) for t in trains])
            t = np.concatenate(trains) if trains else np.empty(0)
            idx = np.repeat(np.arange(len(trains)), lens)
            b = np.floor((t + delay_ms) / bin_ms + 1e-9).astype(np.int64)
            keep = b < n_bins
            np.add.at(out[:, :, k], (b[keep], owner[idx[keep]]), w[idx[keep]])
        return out

