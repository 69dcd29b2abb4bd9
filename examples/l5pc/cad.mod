COMMENT
Intracellular calcium in a thin shell under the membrane: influx from ica, first-order decay
to cainf (pumps and buffers lumped), as in Destexhe et al. (1993) "cadecay"; only influx is
counted (an outward ica does not remove calcium).
    dcai/dt = -ica / (2 F depth) + (cainf - cai) / taur
Part of the reduced L5 pyramidal cell of examples/l5pc (neurohybrid).
ENDCOMMENT

NEURON {
    SUFFIX cad
    USEION ca READ ica, cai WRITE cai
    RANGE depth, taur, cainf
}

UNITS {
    (mA) = (milliamp)
    (mM) = (milli/liter)
    (um) = (micron)
    FARADAY = (faraday) (coulomb)
}

PARAMETER {
    depth = 0.1 (um)
    taur = 80 (ms)
    cainf = 5e-5 (mM)
}

ASSIGNED {
    ica (mA/cm2)
    drive (mM/ms)
}

STATE { cai (mM) }

INITIAL {
    cai = cainf
}

BREAKPOINT {
    SOLVE state METHOD cnexp
}

DERIVATIVE state {
    drive = -(10000) * ica / (2 * FARADAY * depth)
    if (drive < 0) { drive = 0 }
    cai' = drive + (cainf - cai) / taur
}
