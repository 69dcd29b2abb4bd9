"""Cost of the sensory encoders (issue 12): wall time per channel per ms of model time, in 1 ms
windows (dt 0.1 ms, as a live closed loop runs them), and real-time capacity: how many channels
of each encoder fit in the real-time budget of 1 ms of wall time per 1 ms of model time.

Default configurations (what ``examples/encoders.py`` drives a circuit with):

- retina: 64 x 64 frames at 30 frames/s, DoG cells every 2 pixels -> 2 x 32 x 32 = 2048 channels;
- event camera: 64 x 64 frames at 30 frames/s, interpolated -> 2 x 4096 = 8192 channels;
- cochlea: 16 kHz sound, 32 gammatone channels x 5 fibres = 160 channels;
- NIR encoder: a 64 -> 128 LIF layer (Affine + LIF, as snnTorch exports it) -> 128 channels.

The reference is the real-time budget: ratio = wall time of the default retina + cochlea per ms
of model time / 1 ms (target <= 1: they encode in real time together). Capacity per encoder =
1 ms / (cost per channel per ms), the cost measured at the default size (the encoders are
vectorised over channels, so the per-channel cost at the default size holds for larger ones up
to cache effects; the scan column checks it at 4x the default for the retina).

    python benchmarks/encoders.py [--model-ms 2000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from neurohybrid.encoders import CochleaEncoder, EventCameraEncoder, NIREncoder, RetinaEncoder
from neurohybrid.rng import stream_key

DT = 0.1
WINDOW = 10  # ticks: 1 ms windows


def _video(size: int, ms: float, fps: float = 30.0) -> tuple[np.ndarray, float]:
    """A drifting grating with a moving bright bar (intensities in [0, 1])."""
    period = 1000.0 / fps
    n = int(np.ceil(ms / period)) + 2
    t = np.arange(n)[:, None, None] * period / 1000.0
    x = (np.arange(size) / size)[None, None, :]
    grating = 0.5 + 0.3 * np.sin(2 * np.pi * (3 * x - 2 * t))
    bar = np.abs(x - (0.2 + 0.6 * (t % 1.0))) < 0.05
    return np.ascontiguousarray(np.broadcast_to(np.clip(grating + 0.3 * bar, 0, 1), (n, size, size))), period


def _sound(ms: float, fs: float = 16000.0) -> np.ndarray:
    t = np.arange(int(ms * fs / 1000)) / fs
    f = 300 * 2 ** (np.sin(2 * np.pi * 0.5 * t) * 2)  # a slow siren
    return 0.05 * np.sin(2 * np.pi * np.cumsum(f) / fs)


def _nir_graph(n_in=64, n_out=128):
    import nir
    rng = np.random.default_rng(0)
    ones = np.ones(n_out)
    return nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([n_in])}),
                               "fc": nir.Affine(weight=rng.uniform(0, 1e-10, (n_out, n_in)), bias=np.zeros(n_out)),
                               "lif": nir.LIF(tau=0.01 * ones, r=1e7 * ones, v_leak=0 * ones,
                                              v_threshold=0.01 * ones, v_reset=0 * ones),
                               "output": nir.Output(output_type={"output": np.array([n_out])})},
                        edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")], type_check=False)


def encoders(ms: float, scale: int = 1) -> dict:
    video, period = _video(64 * scale, ms)
    key = lambda name: stream_key(1, "bench", name)  # noqa: E731
    return {
        "retina": lambda: RetinaEncoder({"stimulus": video, "units": "1", "sampling_period": period, "spacing": 2.0},
                                        key("retina"), DT),
        "event_camera": lambda: EventCameraEncoder({"stimulus": video, "units": "1", "sampling_period": period},
                                                   key("dvs"), DT),
        "cochlea": lambda: CochleaEncoder({"stimulus": _sound(ms), "units": "Pa", "sampling_period": 1000 / 16000},
                                          key("cochlea"), DT),
        "nir_encoder": lambda: NIREncoder({"nir": _nir_graph(), "stimulus": np.random.default_rng(1).random(
            (int(ms), 64)), "sampling_period": 1.0}, key("nir"), DT),
    }


def measure(make, ms: float, repeat: int) -> dict:
    enc = make()
    enc.emit(0, 2 * WINDOW)  # compile
    best, spikes = None, 0
    for _ in range(repeat):
        enc = make()
        t0 = time.perf_counter()
        spikes = 0
        for w in range(int(ms) * 10 // WINDOW):
            ticks, _ = enc.emit(w * WINDOW, WINDOW)
            spikes += ticks.size
        wall = time.perf_counter() - t0
        best = wall if best is None else min(best, wall)
    per_ms = best * 1000.0 / ms  # ms of wall per ms of model time
    return {"channels": int(enc.n), "wall_ms_per_model_ms": per_ms, "us_per_channel_per_ms": per_ms * 1000 / enc.n,
            "realtime_channels": int(enc.n / per_ms), "rate_hz": spikes / enc.n / (ms / 1000.0)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model-ms", type=float, default=2000.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t_start = time.perf_counter()
    load = os.getloadavg()
    results = {name: measure(make, args.model_ms, args.repeat) for name, make in encoders(args.model_ms).items()}
    big = measure(encoders(args.model_ms / 4, scale=2)["retina"], args.model_ms / 4, 1)
    print(f"{'encoder':<14}{'channels':>9}{'ms wall / ms':>14}{'us / channel / ms':>20}{'real-time channels':>20}"
          f"{'rate (Hz)':>11}")
    for name, r in results.items():
        print(f"{name:<14}{r['channels']:>9}{r['wall_ms_per_model_ms']:>14.3f}{r['us_per_channel_per_ms']:>20.3f}"
              f"{r['realtime_channels']:>20}{r['rate_hz']:>11.1f}")
    print(f"retina at 4x: {big['channels']} channels, {big['us_per_channel_per_ms']:.3f} us / channel / ms")
    combined = results["retina"]["wall_ms_per_model_ms"] + results["cochlea"]["wall_ms_per_model_ms"]
    print(f"default retina + cochlea: {combined:.3f} ms of wall time per ms of model time (budget 1 ms)")
    print(json.dumps({"benchmark": "encoders", "ratio": combined / 1.0, "target": 1.0, "met": bool(combined <= 1.0),
                      "reference": "real-time budget, 1 ms wall per 1 ms model time, 1 ms windows, dt 0.1 ms",
                      "encoders": results, "retina_4x": big, "model_ms": args.model_ms, "load_before": load,
                      "total_s": time.perf_counter() - t_start}))


if __name__ == "__main__":
    main()
