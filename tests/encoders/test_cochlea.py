"""The cochlea's gammatone channels peak at their configured centre frequencies (measured with
pure tones), their bandwidths are one ERB, and a tone excites the fibres of its channel.

References: ERB(f) = 24.7 (4.37 f / 1000 + 1) Hz (Glasberg & Moore 1990, Hear. Res. 47:
103-138); the 4th-order gammatone filter with b = 1.019 ERB (Patterson et al. 1992), whose
equivalent rectangular bandwidth is then one ERB."""
import numpy as np

from neurohybrid.encoders import CochleaEncoder, erb, erb_space, gammatone_filterbank
from neurohybrid.rng import stream_key

FS = 32000.0


def test_erb_formula_and_spacing():
    assert abs(erb(1000.0) - 132.639) < 1e-3  # 24.7 * 5.37
    fc = erb_space(100.0, 6000.0, 16)
    e = 21.4 * np.log10(4.37 * fc / 1000 + 1)
    assert np.allclose(np.diff(e), np.diff(e)[0]) and np.isclose(fc[0], 100.0) and np.isclose(fc[-1], 6000.0)


def test_channels_peak_at_their_centre_frequencies_with_one_erb_bandwidth():
    fc = erb_space(100.0, 6000.0, 12)
    freqs = np.geomspace(70.0, 7500.0, 500)
    t = np.arange(int(0.06 * FS)) / FS
    skip = int(0.03 * FS)  # the filters' onset transients
    power = np.empty((freqs.size, fc.size))
    for q, f in enumerate(freqs):
        y = gammatone_filterbank(np.sin(2 * np.pi * f * t), 1000.0 / FS, fc)
        power[q] = np.mean(y[skip:] ** 2, axis=0) * 2  # gain^2 (unit-amplitude tone)
    peak = freqs[np.argmax(power, axis=0)]
    measured_erb = np.trapz(power, freqs, axis=0) / power.max(axis=0)
    print("\n  fc (Hz)   peak (Hz)   ERB Glasberg & Moore 1990 (Hz)   measured ERB (Hz)")
    for c in range(fc.size):
        print(f"  {fc[c]:8.1f}  {peak[c]:9.1f}   {erb(fc[c]):12.1f}   {measured_erb[c]:12.1f}")
    step = freqs[1] / freqs[0] - 1
    assert np.all(np.abs(peak / fc - 1) <= step + 0.005)
    assert np.all(np.abs(power.max(axis=0) - 1) < 0.05)  # unit gain at fc (30 ms of a 100 Hz tone: 3 cycles)
    assert np.all(np.abs(measured_erb / erb(fc) - 1) < 0.1)


def test_a_tone_excites_the_fibres_of_its_channel():
    f = 1000.0
    t = np.arange(int(0.3 * FS)) / FS
    tone = 0.02 * np.sqrt(2) * np.sin(2 * np.pi * f * t)  # 60 dB SPL
    coch = CochleaEncoder({"stimulus": tone, "units": "Pa", "sampling_period": 1000.0 / FS, "n_channels": 24,
                           "fibres_per_channel": 10}, stream_key(3, "cochlea"), 0.1)
    ticks, ids = coch.emit(0, 3000)
    rates = np.bincount(ids // coch.fibres, minlength=coch.n_channels) / coch.fibres / 0.3
    best = int(np.argmax(rates))
    nearest = int(np.argmin(np.abs(np.log(coch.fc / f))))
    print(f"\n1 kHz tone: most active channel {coch.fc[best]:.0f} Hz (nearest {coch.fc[nearest]:.0f} Hz), "
          f"{rates[best]:.0f} Hz vs spontaneous {coch.spont:.0f} Hz")
    assert abs(best - nearest) <= 1
    assert rates[best] > 1.5 * coch.spont and abs(np.median(rates) - coch.spont) < 0.3 * coch.spont
    # the fibres phase-lock: spikes cluster at one phase of the 1 kHz cycle (vector strength)
    mine = ids // coch.fibres == best
    phase = 2 * np.pi * f * (ticks[mine] + 1) * 1e-4
    assert np.abs(np.mean(np.exp(1j * phase))) > 0.3
    # refractory: no fibre fires twice within 0.75 ms
    for fib in np.unique(ids[mine])[:5]:
        assert np.all(np.diff(ticks[ids == fib]) > 7)
