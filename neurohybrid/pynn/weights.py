"""Recorded synaptic weights of a plastic Projection as Neo objects (``Projection.get_data``).

The engines write a projection's weights like any signal, one per projection edge (a
projection onto an Assembly has several), under the edge's name in the run store; this module
reads them back and joins them into one AnalogSignal per segment, one channel per recorded
connection in the projection's connection order.
"""
from __future__ import annotations

import neo
import numpy as np
import quantities as pq

from . import simulator


def _segment_signal(prj, segment: int):
    """(samples [time, connection], connection indices, t_start ms, interval ms) of one segment,
    or None when nothing was recorded in it."""
    store = simulator.state.network.store
    simulator.state.network.flush()
    parts, columns, start, interval = [], [], 0.0, None
    for edge, positions in prj._edge_positions.items():
        if "weight" not in store.variables(edge, segment=segment):
            continue
        data = store.read_signal(edge, "weight", segment=segment)
        channels = np.asarray(data["channel_ids"], dtype=np.int64)
        parts.append(np.asarray(data["samples"], dtype=float))
        columns.append(channels if positions is None else np.asarray(positions)[channels])
        start, interval = float(data["t_start"]), float(data["sampling_interval"])
    if not parts:
        return None
    rows = min(p.shape[0] for p in parts)
    samples = np.concatenate([p[:rows] for p in parts], axis=1)
    index = np.concatenate(columns)
    order = np.argsort(index, kind="stable")
    return samples[:, order], index[order], start, interval


def weight_block(prj) -> neo.Block:
    """The recorded weights of ``prj`` (see the module docstring)."""
    units = "uS" if getattr(prj.post, "conductance_based", False) else "nA"
    block = neo.Block(name=prj.label, description=f"synaptic weights of {prj.label}")
    store = simulator.state.network.store if simulator.state.network is not None else None
    segments = store.segments() if store is not None else []
    pre, post, _ = prj.arrays()
    for segment in segments:
        found = _segment_signal(prj, segment)
        if found is None:
            continue
        samples, index, start, interval = found
        seg = neo.Segment(name=f"segment{segment:03d}", index=segment)
        seg.analogsignals.append(neo.AnalogSignal(
            samples, units=units, t_start=start * pq.ms, sampling_period=interval * pq.ms, name="weight",
            array_annotations={"connection_index": index, "presynaptic_index": np.asarray(pre)[index].astype(int),
                               "postsynaptic_index": np.asarray(post)[index].astype(int)}))
        block.segments.append(seg)
    return block
