"""Fields on the Loihi path in Loihi registers (neurohybrid.mappings.loihi.modulation).

Each target is checked against the arithmetic the quantiser itself uses (module docstring of
mappings/loihi/quantize.py): one vth step is 64/scale mV, one nA of i_offset is
tau_m/cm (1 - b) scale v units of bias per step, a gain rescales the 8-bit weight mantissas.
"""
import numpy as np
import pytest

from loihi_helpers import edge, graph, node

from neurohybrid.errors import ParameterError, UnsupportedModelError
from neurohybrid.mappings.loihi import quantize
from neurohybrid.mappings.loihi.modulation import CircuitModulation
from neurohybrid.mappings.loihi.quantize_scale import bias_parts
from neurohybrid.mappings.loihi.runtime import lava_effective_weights


def _graph():
    cells = np.arange(20)
    return graph([node("P", "IF_curr_exp", 20), node("src", "SpikeSourcePoisson", 20, rate=10.0)],
                 [edge("src->P", "src", "P", cells, cells, 0.5, 1.0)])


def test_threshold_field_moves_vth_by_whole_steps():
    g = _graph()
    circuit = quantize(g, dt=g.dt)
    mod = CircuitModulation(circuit, g)
    pop = circuit.populations["P"]
    step_mv = 64.0 / pop.scale
    assert mod.set("P", "threshold", 3 * step_mv) == "neurons"
    assert np.array_equal(np.broadcast_to(mod.circuit.populations["P"].vth, (20,)),
                          np.broadcast_to(pop.vth, (20,)) + 3)
    assert mod.circuit.populations["P"] is not pop and circuit.populations["P"] is pop  # base kept
    rep = mod.report()["P.threshold"]
    assert rep["quantum"] == pytest.approx(step_mv) and rep["max_abs_error"] < 1e-9
    # the same value again changes nothing; back to 0 is the unmodulated circuit
    assert mod.set("P", "threshold", 3 * step_mv) is None
    mod.set("P", "threshold", 0.0)
    assert np.array_equal(mod.circuit.populations["P"].vth, pop.vth)


def test_current_field_is_the_bias_the_quantiser_gives_i_offset():
    """A current field of c nA sets the bias quantize() gives i_offset = c at the same scale."""
    g = _graph()
    circuit = quantize(g, dt=g.dt)
    pop = circuit.populations["P"]
    mod = CircuitModulation(circuit, g)
    mod.set("P", "current", 0.25)
    p = g.nodes["P"].parameters
    expected = 0.25 * p["tau_m"] / p["cm"] * (np.asarray(pop.dv) / 4096.0) * pop.scale
    mant, exp, over = bias_parts(np.full(20, expected))
    got = mod.circuit.populations["P"]
    assert not over.any()
    assert np.array_equal(got.bias_mant, mant) and np.array_equal(got.bias_exp, exp)
    rep = mod.report()["P.current"]
    assert rep["last_requested"] == 0.25 and abs(rep["last_represented"] - 0.25) <= rep["quantum"]


def test_a_large_current_is_clipped_and_counted():
    g = _graph()
    mod = CircuitModulation(quantize(g, dt=g.dt), g)
    mod.set("P", "current", 1e6)
    pop = mod.circuit.populations["P"]
    assert np.all(pop.bias_mant == 4095) and np.all(pop.bias_exp == 7)
    assert mod.report()["P.current"]["clipped_cells"] == 20


def test_gain_rescales_weight_mantissas_per_post_cell():
    g = _graph()
    circuit = quantize(g, dt=g.dt)
    mod = CircuitModulation(circuit, g)
    gain = np.linspace(0.5, 1.5, 20)
    assert mod.set("P", "gain", gain) == "weights"
    (proj0,), (proj,) = circuit.projections, mod.circuit.projections
    w0 = np.broadcast_to(proj0.weights, np.shape(proj0.rows))
    expected = lava_effective_weights(np.rint(w0 * gain[np.asarray(proj0.rows)]), proj.sign_mode,
                                      proj.num_weight_bits)
    assert np.array_equal(proj.weights, expected)
    assert proj.sign_mode == "excitatory"


def test_bad_fields_are_refused_by_name():
    g = _graph()
    mod = CircuitModulation(quantize(g, dt=g.dt), g)
    with pytest.raises(UnsupportedModelError, match="P.*modulates"):
        mod.set("P", "dopamine", 1.0)
    with pytest.raises(UnsupportedModelError, match="nowhere"):
        mod.set("nowhere", "gain", 1.0)
    with pytest.raises(ParameterError, match="P.*gain"):
        mod.set("P", "gain", np.ones(3))
    with pytest.raises(ParameterError, match="finite"):
        mod.set("P", "current", np.nan)
    assert mod.active == {}  # nothing applied by a refused call
