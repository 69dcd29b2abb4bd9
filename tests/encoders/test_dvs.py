"""The event camera on a synthetic moving edge: the number of events matches the analytic
count of the DVS pixel model (Lichtsteiner, Posch & Delbruck 2008, IEEE JSSC 43: 566-576): a
pixel whose log intensity rises by D emits floor(D / theta) ON events, theta its own threshold
(mismatch: theta = theta_0 (1 + sigma z), z standard normal), plus its Poisson background noise."""
import numpy as np

from neurohybrid.encoders import EventCameraEncoder
from neurohybrid.rng import stream_key

DARK, BRIGHT, EPS, THETA, SIGMA, NOISE = 0.1, 0.8, 1e-3, 0.2, 0.03, 1.0


def moving_edge(rows=32, cols=64, start=7.5, stop=56.5, px_per_frame=0.25, hold=20):
    """Frames of a vertical edge (bright on its left) moving right, anti-aliased: pixel column c
    is bright for the part of [c - 0.5, c + 0.5] left of the edge."""
    steps = int(round((stop - start) / px_per_frame))
    x = np.r_[start + px_per_frame * np.arange(steps + 1), np.full(hold, stop)]
    frac = np.clip(x[:, None] - np.arange(cols)[None, :] + 0.5, 0.0, 1.0)
    frames = DARK + (BRIGHT - DARK) * frac
    return np.repeat(frames[:, None, :], rows, axis=1)


def expected_events_per_pixel(delta: float) -> float:
    """E[floor(delta / theta)] over the threshold mismatch (numerical integral over z)."""
    z = np.linspace(-8, 8, 20001)
    pdf = np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
    theta = THETA * np.maximum(0.05, 1 + SIGMA * z)
    return float(np.trapz(np.floor(delta / theta) * pdf, z))


def test_moving_edge_event_count_matches_the_analytic_count():
    frames = moving_edge()
    period, dt = 5.0, 0.1
    cam = EventCameraEncoder({"stimulus": frames, "units": "1", "sampling_period": period, "threshold_on": THETA,
                              "threshold_off": THETA, "threshold_mismatch": SIGMA, "noise_rate": NOISE,
                              "log_eps": EPS, "refractory_period": 0.5}, stream_key(5, "dvs-edge"), dt)
    n_ticks = int(frames.shape[0] * period / dt)
    ticks, ids = cam.emit(0, n_ticks)
    on = int((ids < cam.pixels).sum())
    off = ids.size - on
    rows, cols = frames.shape[1:]
    crossed = rows * (56 - 8 + 1)  # columns 8 .. 56 go from dark to bright
    delta = np.log(BRIGHT + EPS) - np.log(DARK + EPS)
    noise_p = 1 - np.exp(-NOISE * dt / 1000)
    noise_each = 0.5 * noise_p * n_ticks * rows * cols
    expected_on = crossed * expected_events_per_pixel(delta) + noise_each
    print(f"\nlog step {delta:.4f}, threshold {THETA} -> {expected_events_per_pixel(delta):.3f} events per pixel")
    print(f"ON events:  expected {expected_on:.0f} (Lichtsteiner et al. 2008 pixel model + noise)  ours {on}")
    print(f"OFF events: expected {noise_each:.0f} (noise only)  ours {off}")
    assert abs(on - expected_on) <= 0.05 * expected_on
    assert abs(off - noise_each) <= 5 * np.sqrt(noise_each)
    # the edge's events come column after column: the mean event column moves at the edge's speed
    pix = ids[ids < cam.pixels] % cols
    early, late = pix[ticks[ids < cam.pixels] < n_ticks // 4], pix[(ticks[ids < cam.pixels] > n_ticks // 2)]
    assert np.median(early) < np.median(late)


def test_thresholds_come_from_the_seed():
    frames = moving_edge(rows=4, cols=8, start=0.5, stop=6.5)
    make = lambda seed: EventCameraEncoder({"stimulus": frames, "sampling_period": 5.0, "threshold_mismatch": 0.1},
                                           stream_key(seed, "cam"), 0.1)
    a, b, c = make(1), make(1), make(2)
    assert np.array_equal(a.th_on, b.th_on) and np.array_equal(a.th_off, b.th_off)
    assert not np.array_equal(a.th_on, c.th_on)
    assert abs(a.th_on.mean() / 0.2 - 1) < 0.1 and a.th_on.std() > 0


def test_refractory_period_spaces_events():
    """A step of many thresholds in one frame gives its events one refractory period apart."""
    frames = np.concatenate([np.full((1, 1, 1), 0.05), np.full((40, 1, 1), 1.0)])
    cam = EventCameraEncoder({"stimulus": frames, "sampling_period": 1.0, "noise_rate": 0.0, "interpolate": False,
                              "threshold_mismatch": 0.0, "refractory_period": 2.0}, stream_key(1, "refr"), 0.1)
    ticks, ids = cam.emit(0, 400)
    assert ids.size == int(np.floor(np.log(1.001 / 0.051) / 0.2))
    assert np.all(np.diff(ticks) == 21)  # blind for 20 ticks after each event
