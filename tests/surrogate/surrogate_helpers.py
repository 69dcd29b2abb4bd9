"""A surrogate with random weights (no training, no NEURON) for tests of the file format and
the engine, and the L5 cell of examples/l5pc for the workflow tests."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from neurohybrid.surrogate import ChannelInput, InputDistribution, Surrogate
from neurohybrid.surrogate.network import SurrogateNetwork

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHANNELS = ("AMPA_basal", "AMPA_tuft")


def distribution(channels=CHANNELS) -> InputDistribution:
    return InputDistribution(tuple(ChannelInput(c, 10, (0.001, 0.003)) for c in channels))


def random_surrogate(seed: int = 0, channels=CHANNELS, locations=("soma", "tuft"), model_hash="0" * 64,
                     threshold: float = 0.5, bin_ms: float = 1.0) -> Surrogate:
    """A surrogate whose spike logit grows with recent input (so that input makes spikes)."""
    rng = np.random.default_rng(seed)
    taus, hist = np.array([2.0, 8.0, 32.0]), np.array([2.0, 16.0])
    nf = len(channels) * taus.size + hist.size

    def layers(outs):
        return [(rng.normal(0, 0.5, (nf, 8)), rng.normal(0, 0.1, 8)), (rng.normal(0, 0.5, (8, 4)), np.zeros(4)),
                (rng.normal(0, 0.5, (4, outs)), np.zeros(outs))]

    spike = layers(1)
    # a direct positive path from the fastest input traces: input -> spikes, deterministically
    spike[0][0][:, 0] = 0.0
    spike[0][0][0, 0] = 3.0
    spike[1][0][0, :] = [2.0, 0, 0, 0]
    spike[2][0][0, 0] = 2.0
    net = SurrogateNetwork(bin_ms, list(channels), taus, hist, np.zeros(nf), np.full(nf, 0.002), spike,
                           threshold, v_locations=list(locations), v_layers=layers(len(locations)),
                           v_mean=np.full(len(locations), -65.0), v_scale=np.full(len(locations), 3.0))
    return Surrogate(net, distribution(channels), model_hash, {"test": True})


def l5_builder():
    """The reduced L5 cell of the examples as a NEURON cell builder."""
    sys.path.insert(0, str(EXAMPLES))
    from l5pc import LOCATIONS, RECEPTORS, L5PC

    from neurohybrid.backends.neuron.cells import NeuronCellBuilder
    return NeuronCellBuilder(L5PC, mechanisms=str(EXAMPLES / "l5pc"), receptors=RECEPTORS, locations=LOCATIONS,
                             spike_location="soma(0.5)", threshold=-10.0, label="L5")
