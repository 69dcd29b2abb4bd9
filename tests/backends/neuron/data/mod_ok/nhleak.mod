: A passive leak under its own name (tests compile and load it with nrnivmodl).
NEURON {
    SUFFIX nhleak
    NONSPECIFIC_CURRENT i
    RANGE g, e
}
UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}
PARAMETER {
    g = 0.0001 (S/cm2)
    e = -70 (mV)
}
ASSIGNED {
    v (mV)
    i (mA/cm2)
}
BREAKPOINT {
    i = g * (v - e)
}
