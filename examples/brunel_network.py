"""Brunel (2000) sparse balanced network, written as a PyNN user writes it.

Only the import line differs from a pyNN.nest script. Runs the asynchronous-irregular
regime (g = 5, eta = 2) with IF_curr_delta neurons, records spikes and a few membrane
potentials, writes the data (Neo, via PyNN) and a raster + population-rate figure.

    python examples/brunel_network.py [--n-neurons 5000] [--duration 500] [--output DIR]
"""
import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import neurohybrid.pynn as sim  # noqa: E402   (was: import pyNN.nest as sim)

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--n-neurons", type=int, default=5000)
parser.add_argument("--duration", type=float, default=500.0, help="ms")
parser.add_argument("--output", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "output"))
parser.add_argument("--seed", type=int, default=2000)
args = parser.parse_args()
os.makedirs(args.output, exist_ok=True)

# --- parameters (Brunel 2000, model A, regime AI) ---------------------------------------------
order = args.n_neurons // 5
NE, NI = 4 * order, order
epsilon = 0.1
CE, CI = int(epsilon * NE), int(epsilon * NI)
J = 0.1  # mV
g, eta = 5.0, 2.0
delay = 1.5  # ms
tau_m, theta = 20.0, 20.0
nu_th = theta / (J * CE * tau_m)  # kHz
p_rate = 1000.0 * eta * nu_th * CE  # Hz, external drive per neuron

sim.setup(timestep=0.1, min_delay=delay, max_delay=delay, seed=args.seed,
          recording_path=os.path.join(args.output, "brunel.h5"))

cell_params = {"tau_m": tau_m, "cm": 1.0, "v_rest": 0.0, "v_reset": 10.0, "v_thresh": theta,
               "tau_refrac": 2.0, "i_offset": 0.0}
exc = sim.Population(NE, sim.IF_curr_delta(**cell_params), label="excitatory")
inh = sim.Population(NI, sim.IF_curr_delta(**cell_params), label="inhibitory")
all_cells = exc + inh
rng = sim.NumpyRNG(seed=args.seed)
all_cells.initialize(v=sim.RandomDistribution("uniform", (0.0, theta), rng=rng))
noise = sim.Population(NE + NI, sim.SpikeSourcePoisson(rate=p_rate), label="external")

exc_syn = sim.StaticSynapse(weight=J, delay=delay)
inh_syn = sim.StaticSynapse(weight=-g * J, delay=delay)
sim.Projection(exc, all_cells, sim.FixedNumberPreConnector(CE, rng=rng), exc_syn, receptor_type="excitatory")
sim.Projection(inh, all_cells, sim.FixedNumberPreConnector(CI, rng=rng), inh_syn, receptor_type="inhibitory")
sim.Projection(noise, all_cells, sim.OneToOneConnector(), exc_syn, receptor_type="excitatory")

exc.record("spikes")
inh.record("spikes")
exc[:5].record("v")

sim.run(args.duration)

data = exc.get_data().segments[0]
spikes = data.spiketrains
v = data.filter(name="v")[0]
rate_e = exc.mean_spike_count() * 1000.0 / args.duration
rate_i = inh.mean_spike_count() * 1000.0 / args.duration
print(f"excitatory rate {rate_e:.2f} Hz, inhibitory rate {rate_i:.2f} Hz")

# --- figure -------------------------------------------------------------------------------------
fig, (ax_raster, ax_rate, ax_v) = plt.subplots(3, 1, figsize=(8, 8), sharex=True,
                                               gridspec_kw={"height_ratios": [3, 1, 1]})
shown = spikes[:200]
for i, train in enumerate(shown):
    ax_raster.plot(train.magnitude, np.full(train.size, i), "|", color="k", markersize=2)
ax_raster.set_ylabel("neuron")
ax_raster.set_title(f"Brunel network, N={NE + NI}, g={g}, eta={eta} (neurohybrid emulator)")
all_times = np.concatenate([t.magnitude for t in spikes]) if spikes else np.zeros(0)
bins = np.arange(0.0, args.duration + 1.0, 1.0)
ax_rate.plot(bins[:-1], np.histogram(all_times, bins)[0] / NE * 1000.0, lw=0.8)
ax_rate.set_ylabel("rate (Hz)")
ax_v.plot(v.times.magnitude, v.magnitude[:, :3], lw=0.6)
ax_v.set_ylabel("v (mV)")
ax_v.set_xlabel("time (ms)")
figure_path = os.path.join(args.output, "brunel_raster.png")
fig.tight_layout()
fig.savefig(figure_path, dpi=110)

neo_path = os.path.join(args.output, "brunel_exc.pkl")
exc.write_data(neo_path)
sim.end()
print(f"outputs: {figure_path}, {neo_path}, {os.path.join(args.output, 'brunel.h5')}")
