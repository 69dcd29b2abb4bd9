"""Reference run with pyNN.neuron (separate process: NEURON holds one model per process).
Two cells of mc_model; 0.01 nA DC from 20 to 80 ms into cell 0 at the soma and cell 1 at the
dendrite; v at soma and dendrite every 0.1 ms for 100 ms; written to the .npz given."""
import sys

import numpy as np
import pyNN.neuron as sim

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from mc_model import make_celltype  # noqa: E402

sim.setup(timestep=0.025)
cells = sim.Population(2, make_celltype(sim), initial_values={"v": -65.0})
dc0 = sim.DCSource(amplitude=0.01, start=20.0, stop=80.0)
dc0.inject_into(cells[0:1], location="soma")
dc1 = sim.DCSource(amplitude=0.01, start=20.0, stop=80.0)
dc1.inject_into(cells[1:2], location="dendrite")
cells.record("v", locations=["soma", "dendrite"], sampling_interval=0.1)
sim.run(100.0)
seg = cells.get_data().segments[0]
np.savez(sys.argv[1], soma=np.asarray(seg.filter(name="soma.v")[0].magnitude),
         dendrite=np.asarray(seg.filter(name="dendrite.v")[0].magnitude))
