"""The retina's receptive fields, measured as physiologists do: the spike-triggered average
(STA) of its spikes over a white-noise movie recovers the configured difference of Gaussians.

Reference: centre-surround receptive fields as a difference of Gaussians (Rodieck 1965, Vision
Res. 5: 583-601; Enroth-Cugell & Robson 1966, J. Physiol. 187: 517-552). For a linear-nonlinear
Poisson cell driven in its linear range by Gaussian white noise the STA is proportional to the
linear filter (Chichilnisky 2001, Network 12: 199-213), so its spatial profile is the DoG.
The white noise here is exactly white over the frames shown (orthogonal columns, as the
m-sequences of Reid, Victor & Shapley 1997 are), so the finite movie adds no correlation
between pixels that would blur the weak surround.
"""
import numpy as np
from scipy.optimize import curve_fit

from neurohybrid.encoders import RetinaEncoder
from neurohybrid.encoders.retina import dog_kernel
from neurohybrid.rng import stream_key

SIGMA_C, SIGMA_S, W_S = 1.2, 3.0, 0.8


def _dog_model(xy, amp, sc, ss, ws):
    dy, dx = xy
    return amp * dog_kernel(dy, dx, sc, ss, ws)


def test_sta_recovers_the_configured_dog():
    rng = np.random.default_rng(11)
    frames, size, period, dt = 4000, 40, 20.0, 1.0
    q, _ = np.linalg.qr(rng.normal(size=(frames, size * size)))
    noise = (q * np.sqrt(frames) * 0.35).reshape(frames, size, size)  # contrast sd 0.35, white over the frames
    enc = RetinaEncoder({"stimulus": noise, "units": "contrast", "sampling_period": period, "spacing": 2.0,
                         "sigma_center": SIGMA_C, "sigma_surround": SIGMA_S, "surround_weight": W_S,
                         "biphasic_weight": 0.0, "tau_fast": 1.0, "spontaneous_rate": 100.0, "gain": 500.0,
                         "max_rate": 1000.0}, stream_key(1, "retina-sta"), dt)
    ticks, ids = enc.emit(0, int(frames * period / dt))
    on = ids < enc.cells
    # spikes per (frame shown, cell): with tau_fast << period the response lies in the frame shown
    frame = ((ticks[on] + 1 - 1) * dt // period).astype(int)
    counts = np.zeros((frames, enc.cells))
    np.add.at(counts, (frame, ids[on]), 1.0)
    flat = noise.reshape(frames, -1)
    sta = counts.T @ flat
    sta /= counts.sum(axis=0)[:, None]
    # average the STAs of the cells whose field lies inside the image, centred on each cell
    reach = 9
    profiles = []
    for j in range(enc.cells):
        cy, cx = int(enc.centres_y[j // enc.grid[1]]), int(enc.centres_x[j % enc.grid[1]])
        if reach <= cy < size - reach and reach <= cx < size - reach:
            img = sta[j].reshape(size, size)
            profiles.append(img[cy - reach:cy + reach + 1, cx - reach:cx + reach + 1])
    profile = np.mean(profiles, axis=0)
    off = np.arange(-reach, reach + 1)
    dy, dx = np.meshgrid(off, off, indexing="ij")
    (amp, sc, ss, ws), _ = curve_fit(_dog_model, (dy.ravel(), dx.ravel()), profile.ravel(),
                                     p0=(profile.max() * 6, 1.0, 2.5, 0.5), maxfev=20000)
    # the profile within 2 surround sigmas (beyond, the DoG is < 15 % of its surround trough and the
    # measurement is Poisson noise)
    inside = dy ** 2 + dx ** 2 <= (2 * SIGMA_S) ** 2
    expected = dog_kernel(dy, dx, SIGMA_C, SIGMA_S, W_S)[inside]
    error = np.linalg.norm(profile[inside] / np.linalg.norm(profile[inside]) - expected / np.linalg.norm(expected))
    print(f"\nSTA over {len(profiles)} cells, {int(counts.sum())} spikes")
    print(f"sigma_center   configured {SIGMA_C:.3f} px (Rodieck 1965 DoG)  ours {sc:.3f}")
    print(f"sigma_surround configured {SIGMA_S:.3f} px                     ours {ss:.3f}")
    print(f"surround weight configured {W_S:.3f}                           ours {ws:.3f}")
    print(f"normalised profile error within 2 sigma_surround {error:.3f} (expected 0)")
    assert abs(sc - SIGMA_C) < 0.1 * SIGMA_C
    assert abs(ss - SIGMA_S) < 0.1 * SIGMA_S
    assert abs(ws - W_S) < 0.1 * W_S
    assert error < 0.1


def test_on_and_off_cells_answer_a_spot_of_light_and_of_dark():
    """A bright spot on a cell's centre excites its ON cell and silences its OFF cell; a dark
    spot the reverse (Kuffler 1953)."""
    size = 16
    frames = np.full((3, size, size), 0.5)
    yy, xx = np.mgrid[:size, :size]
    spot = (yy - 7) ** 2 + (xx - 7) ** 2 <= 2
    frames[1][spot] = 1.0
    frames[2][spot] = 0.0
    enc = RetinaEncoder({"stimulus": frames, "units": "1", "sampling_period": 100.0, "spacing": 7.0,
                         "biphasic_weight": 0.0, "generator": "lif"}, stream_key(1, "spot"), 0.1)
    rates = enc.rates(0, 3000)
    cell = int(np.flatnonzero((enc.centres_y[:, None] == 7) & (enc.centres_x[None, :] == 7)).item())
    on, off = rates[:, cell], rates[:, enc.cells + cell]
    light, dark = slice(1500, 2000), slice(2500, 3000)
    assert on[light].mean() > 5 * enc.spont and off[light].max() == 0.0
    assert off[dark].mean() > 5 * enc.spont and on[dark].max() == 0.0
    counts = RetinaEncoder(dict(enc.p), enc.key, 0.1).counts_matrix(0, 3000)
    assert counts[1000:2000, cell].sum() >= 5 * max(1, counts[0:1000, cell].sum())  # the LIF generator follows the rate
