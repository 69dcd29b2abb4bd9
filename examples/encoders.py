"""Sensory encoders driving a small cortical circuit: an image sequence through the retina and a
sound through the cochlea, into 400 IF_cond_exp cells (320 excitatory, 80 inhibitory) on the
emulator. Everything is synthesised here (nothing is downloaded): the movie is a bar sweeping
over a grating, then a flashed disc; the sound is three tone bursts (400 Hz, 1.2 kHz, 3 kHz)
over a faint noise floor.

The excitatory cells are split in two halves: the "visual" half receives the retina (ON and OFF
cells, each E cell sampling 30 ganglion cells around one point of the image, so it has a
receptive field of its own), the "auditory" half the cochlea (each E cell listening to nearby
channels, a tonotopic map); both halves excite the inhibitory cells, which inhibit everything.
The figure shows the stimuli, the encoders' spikes, the circuit's raster and rates.

    python examples/encoders.py [--duration 600] [--output DIR] [--seed 12]
"""
import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import neurohybrid.pynn as sim  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--duration", type=float, default=600.0, help="ms")
parser.add_argument("--output", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "output"))
parser.add_argument("--seed", type=int, default=12)
args = parser.parse_args()
os.makedirs(args.output, exist_ok=True)
T = args.duration

# --- stimuli ----------------------------------------------------------------------------------
SIZE, FRAME_MS = 32, 10.0
n_frames = int(np.ceil(T / FRAME_MS)) + 1
t = np.arange(n_frames)[:, None, None] * FRAME_MS
yy, xx = (g[None] for g in np.mgrid[:SIZE, :SIZE])
movie = 0.5 + 0.15 * np.sin(2 * np.pi * (xx + yy) / 12.0) + 0 * t
bar_x = (t / (0.5 * T)) * (SIZE + 8) - 4  # a bright bar sweeps left to right in the first half
movie = np.where((np.abs(xx - bar_x) < 2) & (t < 0.5 * T), 0.95, movie)
disc = ((xx - SIZE / 2) ** 2 + (yy - SIZE / 2) ** 2 < 36) & (t >= 0.65 * T) & (t < 0.8 * T)
movie = np.clip(np.where(disc, 0.05, movie), 0.0, 1.0)  # then a dark disc is flashed

FS = 16000.0
ts = np.arange(int(T * FS / 1000)) / FS
sound = 0.002 * np.random.default_rng(args.seed).normal(size=ts.size)  # faint noise floor (Pa)
for f, (a, b) in zip((400.0, 1200.0, 3000.0), ((0.1, 0.3), (0.4, 0.6), (0.7, 0.9))):
    on = (ts >= a * T / 1000) & (ts < b * T / 1000)
    sound[on] += 0.05 * np.sin(2 * np.pi * f * ts[on])  # ~65 dB SPL bursts

# --- network ----------------------------------------------------------------------------------
sim.setup(timestep=0.1, seed=args.seed, recording_path=os.path.join(args.output, "encoders.h5"))
retina_type = sim.Retina(stimulus=movie, units="1", sampling_period=FRAME_MS, spacing=2.0, gain=400.0,
                         spontaneous_rate=5.0)
cochlea_type = sim.Cochlea(stimulus=sound, units="Pa", sampling_period=1000.0 / FS, n_channels=32,
                           fibres_per_channel=4, f_min=150.0, f_max=5000.0,
                           spontaneous_rate=5.0)  # low-spontaneous-rate fibres
retina = sim.Population(retina_type.size, retina_type, label="retina")
cochlea = sim.Population(cochlea_type.size, cochlea_type, label="cochlea")
cell = sim.IF_cond_exp(tau_m=20.0, v_rest=-65.0, v_thresh=-50.0, v_reset=-65.0, tau_refrac=2.0,
                       tau_syn_E=5.0, tau_syn_I=10.0, e_rev_E=0.0, e_rev_I=-80.0, cm=0.2)
E = sim.Population(320, cell, label="E")
I = sim.Population(80, cell, label="I")
rng = np.random.default_rng(args.seed)

# retina -> visual half of E: each cell pools 30 ganglion cells (ON and OFF) near one image point
grid = retina.celltype.encoder.grid
cells = grid[0] * grid[1]
gy, gx = np.divmod(np.arange(cells), grid[1])
conns = []
for post in range(160):
    cy, cx = rng.uniform(0, grid[0], 2)
    near = np.argsort((gy - cy) ** 2 + (gx - cx) ** 2)[:15]
    conns += [(int(pre), post) for pre in np.r_[near, near + cells]]
sim.Projection(retina, E, sim.FromListConnector(conns), sim.StaticSynapse(weight=0.004, delay=1.0),
               receptor_type="excitatory")
# cochlea -> auditory half of E: a tonotopic map, each cell hears 3 neighbouring channels
fib = cochlea_type.encoder.fibres
conns = [(int(c * fib + f), 160 + post) for post in range(160)
         for c in np.clip(int(post / 160 * 32) + np.arange(-1, 2), 0, 31) for f in range(fib)]
sim.Projection(cochlea, E, sim.FromListConnector(conns), sim.StaticSynapse(weight=0.004, delay=1.0),
               receptor_type="excitatory")
con = lambda p: sim.FixedProbabilityConnector(p, rng=sim.NumpyRNG(seed=args.seed))  # noqa: E731
sim.Projection(E, E, con(0.05), sim.StaticSynapse(weight=0.002, delay=1.5), receptor_type="excitatory")
sim.Projection(E, I, con(0.2), sim.StaticSynapse(weight=0.003, delay=1.0), receptor_type="excitatory")
sim.Projection(I, E, con(0.2), sim.StaticSynapse(weight=0.006, delay=1.0), receptor_type="inhibitory")
sim.Projection(I, I, con(0.1), sim.StaticSynapse(weight=0.004, delay=1.0), receptor_type="inhibitory")
for p in (retina, cochlea, E, I):
    p.record("spikes")
sim.run(T)


def spikes(pop):
    trains = pop.get_data().segments[0].spiketrains
    times = np.concatenate([np.asarray(st.magnitude) for st in trains]) if trains else np.zeros(0)
    ids = np.concatenate([np.full(len(st), i) for i, st in enumerate(trains)]) if trains else np.zeros(0)
    return times, ids


ret_t, ret_i = spikes(retina)
coc_t, coc_i = spikes(cochlea)
e_t, e_i = spikes(E)
i_t, i_i = spikes(I)
sim.end()


def rate(times, n, bin_ms=10.0):
    edges = np.arange(0, T + bin_ms, bin_ms)
    return edges[:-1], np.histogram(times, edges)[0] / n / (bin_ms / 1000.0)


vis = e_i < 160
print(f"retina: {retina_type.size} channels, {ret_t.size / retina_type.size / T * 1000:.1f} Hz mean")
print(f"cochlea: {cochlea_type.size} fibres, {coc_t.size / cochlea_type.size / T * 1000:.1f} Hz mean")
print(f"E visual {vis.sum() / 160 / T * 1000:.1f} Hz, E auditory {(~vis).sum() / 160 / T * 1000:.1f} Hz, "
      f"I {i_t.size / 80 / T * 1000:.1f} Hz")

# --- figure -----------------------------------------------------------------------------------
fig = plt.figure(figsize=(14, 9))
gs = fig.add_gridspec(3, 4, height_ratios=[1, 1.2, 1.2])
for k, frac in enumerate((0.1, 0.35, 0.7)):
    ax = fig.add_subplot(gs[0, k])
    ax.imshow(movie[int(frac * T / FRAME_MS)], cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"movie, t = {frac * T:.0f} ms")
    ax.axis("off")
ax = fig.add_subplot(gs[0, 3])
ax.specgram(sound, NFFT=256, Fs=FS, noverlap=128, cmap="magma")
ax.set_ylim(0, 5000)
ax.set_title("sound (spectrogram)")
ax.set_xlabel("s")
ax.set_ylabel("Hz")
ax = fig.add_subplot(gs[1, :2])
on = ret_i < cells
ax.plot(ret_t[on], ret_i[on], "|", color="tab:red", ms=2, label="ON")
ax.plot(ret_t[~on], ret_i[~on], "|", color="tab:blue", ms=2, label="OFF")
ax.set_title("retina: ganglion cell spikes (DoG ON / OFF)")
ax.set_ylabel("channel")
ax.legend(loc="upper right", markerscale=4)
ax = fig.add_subplot(gs[1, 2:])
ax.plot(coc_t, cochlea_type.encoder.fc[(coc_i // fib).astype(int)], "|", color="k", ms=2)
ax.set_yscale("log")
ax.set_title("cochlea: auditory nerve fibres (gammatone, ERB-spaced)")
ax.set_ylabel("centre frequency (Hz)")
ax = fig.add_subplot(gs[2, :2])
ax.plot(e_t[vis], e_i[vis], "|", color="tab:green", ms=2, label="E visual")
ax.plot(e_t[~vis], e_i[~vis], "|", color="tab:purple", ms=2, label="E auditory")
ax.plot(i_t, i_i + 320, "|", color="tab:orange", ms=2, label="I")
ax.set_title("cortical circuit (IF_cond_exp, emulator)")
ax.set_xlabel("time (ms)")
ax.set_ylabel("cell")
ax.legend(loc="upper right", markerscale=4)
ax = fig.add_subplot(gs[2, 2:])
for times, n, label, color in ((e_t[vis], 160, "E visual", "tab:green"), (e_t[~vis], 160, "E auditory", "tab:purple"),
                               (i_t, 80, "I", "tab:orange")):
    x, r = rate(times, n)
    ax.plot(x, r, label=label, color=color)
ax.set_title("population rates (10 ms bins)")
ax.set_xlabel("time (ms)")
ax.set_ylabel("Hz")
ax.legend()
fig.tight_layout()
path = os.path.join(args.output, "encoders.png")
fig.savefig(path, dpi=90)
print(f"outputs: {path}, {os.path.join(args.output, 'encoders.h5')}")
