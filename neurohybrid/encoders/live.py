"""An encoder fed live: :class:`EncoderComponent` is a co-simulation kernel component
(:mod:`neurohybrid.kernel`) whose ``stimulus`` input (a ``"fields"`` port: one flattened stimulus
sample per message row, in the encoder's units) feeds a live encoder (built with
``stimulus=None``) and whose ``spikes`` output carries the encoder's spikes, window by window.

Wire it to live I/O (:class:`neurohybrid.liveio.LiveIO` / ``LiveServer``: a camera, a microphone,
a game) and to the network like any component. A sample that arrives at tick t is the stimulus
from the frame that contains t on (``floor(t dt / sampling_period)``), held until the next
one; the encoder never looks at a sample before it has arrived (causal), so the spikes of a
window depend only on samples received by then.
"""
from __future__ import annotations

import numpy as np

from neurohybrid.errors import ParameterError
from neurohybrid.kernel import Component, Port, Spikes

from .base import Encoder, counts_to_spikes

__all__ = ["EncoderComponent"]


class EncoderComponent(Component):
    """A live encoder as a kernel component: input ``stimulus`` (fields, one row per sample,
    the frame flattened), output ``spikes`` (channel ids, emission ticks)."""

    def __init__(self, name: str, encoder: Encoder, field: str = "stimulus", record: bool = False):
        super().__init__(name, record)
        if not isinstance(encoder, Encoder) or not encoder.live:
            raise ParameterError(name, "encoder", f"{encoder!r} is not a live encoder",
                                 "an encoder of neurohybrid.encoders built with stimulus=None")
        self.encoder = encoder
        self.inputs = {"stimulus": Port("fields", field=field)}
        self.outputs = {"spikes": "spikes"}
        self.tick = 0

    def bind(self, dt):
        super().bind(dt)
        if abs(float(dt) - self.encoder.dt) > 1e-12:
            raise ParameterError(self.name, "dt", f"the kernel's dt {dt} ms is not the encoder's {self.encoder.dt} ms",
                                 "the same resolution")

    def advance(self, t_stop, inbox):
        msg = inbox.get("stimulus")
        if msg is not None and len(msg):
            period = self.encoder.p["sampling_period"]
            shape = self.encoder.frame_shape
            for tick, row in zip(msg.ticks, msg.values):
                frame = int(np.floor(tick * self.dt / period + 1e-9))
                self.encoder.push(np.asarray(row, dtype=float).reshape((1,) + shape), at=frame)
        counts = self.encoder.counts_matrix(self.tick + 1, t_stop - self.tick)  # emission ticks tick .. t_stop-1
        out = Spikes.make(*counts_to_spikes(counts, self.tick + 1))
        self.tick = t_stop
        return self._keep({"spikes": out})

    def reset(self):
        self.tick, self._records = 0, {}
        self.encoder.reset()

    def state(self):
        return {"tick": self.tick, "encoder": self.encoder.state(),
                "samples": None if self.encoder._samples is None else self.encoder._samples.copy()}

    def restore(self, state):
        self.tick = int(state["tick"])
        self.encoder._samples = None if state["samples"] is None else np.array(state["samples"])
        self.encoder._samples_changed()
        self.encoder.restore(state["encoder"])
