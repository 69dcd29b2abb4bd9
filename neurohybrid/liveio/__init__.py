"""Live I/O for closed-loop runs: in process (:class:`LiveIO`) and over the network
(:class:`LiveServer` + :class:`LiveClient`, a small UDP protocol).

Both are co-simulation :class:`~neurohybrid.kernel.Component` s, linked to the network like any
other component, so the kernel's rules hold: what they emit lies in the window being advanced,
and links carry it on with a delay of at least one macro-step.

* ``inputs`` (component view): ports *fed by the network* — spikes of chosen populations (from
  a :class:`~neurohybrid.adapters.SpikingComponent` output port), rates or fields;
* ``outputs``: ports *into the network* — spikes (into a ``SpikeSourceExternal`` population
  through a SpikingComponent input port), rates (e.g. into a ``RatesToSpikes`` converter) or
  fields (a SpikingComponent field port).

Timing. In window ``[t0, t1)`` the component receives what the network emitted one link delay
earlier (spikes stamped with their *arrival* ticks = emission tick + link delay, in
``[t0, t1)``) and emits inputs stamped in ``[t0, t1)``, which reach the network a link delay
later. With links of one macro-step ``M`` each way, a spike emitted in window k reaches the
experiment in window k+1 and its answer acts on the network from window k+2 (over the wire the
answer arrives during window k+1 and is emitted in window k+2, acting from k+3: brain-time loop
latency 2M in process, 3M over the wire; use a smaller macro-step for a tighter loop).
Inputs stamped later than the current window are held until their window; spikes stamped
before it are *late*: counted and dropped; late rate/field samples are counted and applied at
the window start (they are held values).

In process::

    from neurohybrid.liveio import LiveIO
    def experiment(t_ms, inputs):            # once per macro-step
        n = len(inputs["motor"])             # spikes of the motor population (kernel Spikes)
        return {"sensory": np.arange(min(n, 50))}   # neuron ids spiking at the window start
    live = cs.add(LiveIO("env", inputs={"motor": "spikes"}, outputs={"sensory": ("spikes", 50)},
                         callback=experiment))
    cs.connect("circuit", "out", "env", "motor", delay=M)
    cs.connect("env", "sensory", "circuit", "in", delay=M)

External client::

    from neurohybrid.liveio import LiveClient
    with LiveClient(("127.0.0.1", 5005)) as client:
        info = client.hello()                       # port table, dt
        while True:
            frame = client.recv(timeout_s=1.0)      # one DATA packet of the server (a window)
            if frame is None:
                break
            ticks, ids = frame.spikes["motor"]
            client.reply(frame, spikes={"sensory": ids[ids < 50]})   # for the next window

Modules (one concern each; every name is re-exported here, import from ``neurohybrid.liveio``):

* :mod:`neurohybrid.liveio.protocol`: the wire protocol — constants, packet encoding and
  decoding, sequence tracking (loss, reordering, duplicates); the format is documented there;
* :mod:`neurohybrid.liveio.components`: the kernel components — :class:`LivePort`,
  :class:`LiveIO` (in process) and :class:`LiveServer` (UDP); port declarations, callback return
  values and the server's behaviour are documented there;
* :mod:`neurohybrid.liveio.client`: :class:`LiveClient` (and the :class:`Frame` it receives),
  for the external process.
"""
from .client import Frame, LiveClient
from .components import LiveIO, LivePort, LiveServer
from .protocol import (BLOCK, BYE, CODE_KIND, DATA, FLAG_ACK, FLAG_ASAP, HEADER, HELLO, KIND_CODE, MAGIC, MAX_UDP,
                       VERSION, ProtocolError, _SeqTracker, decode_packet, encode_packet)

__all__ = ["LivePort", "LiveIO", "LiveServer", "LiveClient", "Frame", "ProtocolError", "encode_packet",
           "decode_packet", "HEADER", "BLOCK", "MAGIC", "VERSION", "DATA", "HELLO", "BYE", "FLAG_ACK", "FLAG_ASAP"]
