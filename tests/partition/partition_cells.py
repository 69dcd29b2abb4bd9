"""A small multi-compartment cell (soma with HH channels, passive dendrite) for partition tests."""
import neurohybrid.pynn as sim


def mc_celltype():
    """A two-compartment NEURON cell type (soma 18.8 um with Na/Kdr, 300 um passive dendrite, AMPA)."""
    from neuroml import Morphology, Point3DWithDiam as P, Segment
    from pyNN.morphology import NeuroMLMorphology
    soma = Segment(proximal=P(x=0, y=0, z=0, diameter=18.8), distal=P(x=18.8, y=0, z=0, diameter=18.8),
                   name="soma", id=0)
    dend = Segment(proximal=P(x=0, y=0, z=0, diameter=2), distal=P(x=-300, y=0, z=0, diameter=2),
                   name="dendrite", parent=soma, id=1)

    class Cell(sim.MultiCompartmentNeuron):
        ion_channels = {"pas": sim.PassiveLeak, "na": sim.NaChannel, "kdr": sim.KdrChannel}
        post_synaptic_entities = {"AMPA": sim.CondExpPostSynapticResponse}

    Cell.label = "PartitionTestCell"
    return Cell(morphology=NeuroMLMorphology(Morphology(segments=(soma, dend))), cm=1.0, Ra=150.0,
                ionic_species={"na": sim.IonicSpecies("na", reversal_potential=50.0),
                               "k": sim.IonicSpecies("k", reversal_potential=-77.0)},
                pas={"conductance_density": sim.morphology.uniform("all", 0.0003), "e_rev": -65.0},
                na={"conductance_density": sim.morphology.uniform("soma", 0.12)},
                kdr={"conductance_density": sim.morphology.uniform("soma", 0.036)},
                AMPA={"locations": sim.morphology.LabelledLocations("soma"), "e_syn": 0.0, "tau_syn": 2.0})
