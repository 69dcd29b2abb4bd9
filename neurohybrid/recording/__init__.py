"""Recording: runs streamed to HDF5 (spikes in the SONATA layout, sampled signals, a run manifest).

See :mod:`neurohybrid.recording.hdf5` for the layout and the durability guarantees.
"""
from neurohybrid.recording.hdf5 import (
    FORMAT_VERSION,
    SORTING_DTYPE,
    RunStore,
    decode_name,
    encode_name,
    open_run,
    populations,
    read_manifest,
    read_signal,
    read_spikes,
    segments,
)

__all__ = [
    "RunStore", "open_run", "read_spikes", "read_signal", "read_manifest", "segments", "populations",
    "encode_name", "decode_name", "SORTING_DTYPE", "FORMAT_VERSION",
]
