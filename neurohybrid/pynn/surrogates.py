"""``sim.surrogate``: swap a biophysical population for its trained surrogate (one call; the
rest of the script does not change). The surrogate and its engine live outside the front end
(:mod:`neurohybrid.surrogate`, ``backends/surrogate``)."""
from __future__ import annotations

from ..errors import ParameterError
from .simulator import state

__all__ = ["surrogate"]


def surrogate(population, model):
    """Run ``population`` (multi-compartment cells: ``sim.NeuronCell`` or
    ``sim.MultiCompartmentNeuron``) with the trained surrogate ``model`` (a ``.nhs`` file path or
    a loaded :class:`neurohybrid.surrogate.Surrogate`) on the surrogate engine instead of
    NEURON. The projections onto it must use the surrogate's input channels and its recordings
    the voltages it predicts (checked when the model is built); a surrogate trained on another
    version of the cell model warns. ``model=None`` puts the population back on NEURON.
    Returns the surrogate (None when removed)."""
    from ..surrogate.artefact import Surrogate, load
    from .multicompartment import is_biophysical
    from .populations import Population

    if not isinstance(population, Population) or not is_biophysical(population.celltype):
        raise ParameterError("surrogate", "population", f"{population!r}",
                             "a Population of multi-compartment cells (sim.NeuronCell, sim.MultiCompartmentNeuron)")
    if state.network is not None and state.network.tick > 0:
        raise ParameterError(f"Population({population.label})", "surrogate", "swapped after the run started",
                             "sim.surrogate() before the first run or after sim.reset()")
    if model is None:
        population._surrogate, population.engine = None, None
    else:
        population._surrogate = model if isinstance(model, Surrogate) else load(model)
        population.engine = "surrogate"
    state.network.mark_dirty("structure")
    return population._surrogate
