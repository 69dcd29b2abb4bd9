"""Stimuli from files (PNG, GIF, .npy, WAV) and the typed errors for files that cannot be read."""
import numpy as np
import pytest
from PIL import Image
from scipy.io import wavfile

import neurohybrid.pynn as sim
from neurohybrid.encoders.files import load_image, load_stimulus, load_video, load_wav
from neurohybrid.errors import ParameterError


def test_png_gif_npy_and_wav_round_trip(tmp_path):
    img = (np.arange(20 * 30).reshape(20, 30) % 256).astype(np.uint8)
    Image.fromarray(img).save(tmp_path / "a.png")
    s = load_image(tmp_path / "a.png")
    assert s.units == "1" and s.data.shape == (1, 20, 30)
    np.testing.assert_allclose(s.data[0], img / 255.0)
    frames = [Image.fromarray(np.full((8, 9), 40 * k, np.uint8)) for k in range(4)]
    frames[0].save(tmp_path / "v.gif", save_all=True, append_images=frames[1:], duration=40, loop=0)
    v = load_video(tmp_path / "v.gif")
    assert v.data.shape == (4, 8, 9) and v.sampling_period == 40.0
    np.testing.assert_allclose(v.data[:, 0, 0], np.arange(4) * 40 / 255.0, atol=1 / 255)
    np.save(tmp_path / "v.npy", np.random.default_rng(0).integers(0, 255, (5, 6, 7, 3), dtype=np.uint8))
    n = load_stimulus(tmp_path / "v.npy", frame_period=10.0)
    assert n.data.shape == (5, 6, 7) and 0 <= n.data.min() and n.data.max() <= 1
    wave = (0.5 * np.sin(np.arange(800) / 5) * 32767).astype(np.int16)
    wavfile.write(tmp_path / "s.wav", 16000, np.stack([wave, wave], axis=1))
    w = load_wav(tmp_path / "s.wav")
    assert w.sampling_period == 1000 / 16000 and w.data.shape == (800,)
    np.testing.assert_allclose(w.data, wave / 32768.0)
    # a file name as an encoder's stimulus
    sim.setup(timestep=0.1)
    coch = sim.Cochlea(stimulus=tmp_path / "s.wav", n_channels=4, fibres_per_channel=1, f_max=5000.0)
    assert coch.encoder_parameters["units"] == "1" and coch.size == 4
    sim.end()


def test_files_that_cannot_be_read(tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"RIFF\x00\x00not a wave")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    (tmp_path / "bad.gif").write_text("GIF89a?")
    (tmp_path / "bad.npy").write_text("no")
    np.save(tmp_path / "flat.npy", np.zeros(5))
    cases = [(load_wav, "bad.wav", "WAV"), (load_image, "bad.png", "image"), (load_video, "bad.gif", "video"),
             (lambda p: load_video(p, 1.0), "bad.npy", ".npy"), (lambda p: load_video(p, 1.0), "flat.npy", "shape"),
             (load_wav, "missing.wav", "does not exist")]
    for loader, name, words in cases:
        with pytest.raises(ParameterError) as info:
            loader(tmp_path / name)
        assert info.value.parameter == "path" and words in str(info.value) and name in str(info.value)
    np.save(tmp_path / "ok.npy", np.zeros((2, 3, 3)))
    with pytest.raises(ParameterError, match="frame_period"):
        load_video(tmp_path / "ok.npy")
