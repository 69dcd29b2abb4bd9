COMMENT
Small-conductance calcium-activated potassium current (SK), gated by intracellular calcium
with a Hill function and first-order kinetics (as the SK_E2 channel of Hay et al. 2011,
after Koehler et al. 1996): zinf = 1 / (1 + (kd / cai)^hill).
    ik = gbar * z * (v - ek)
Part of the reduced L5 pyramidal cell of examples/l5pc (neurohybrid): it terminates the
dendritic Ca spike and the somatic burst.
ENDCOMMENT

NEURON {
    SUFFIX sk
    USEION k READ ek WRITE ik
    USEION ca READ cai
    RANGE gbar, ik, kd, tau
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (mM) = (milli/liter)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.001 (S/cm2)
    kd = 0.00043 (mM)
    hill = 4.8
    tau = 1 (ms)
}

ASSIGNED {
    v (mV)
    ek (mV)
    cai (mM)
    ik (mA/cm2)
    zinf
}

STATE { z }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ik = gbar * z * (v - ek)
}

INITIAL {
    zinf = 1 / (1 + (kd / cai) ^ hill)
    z = zinf
}

DERIVATIVE states {
    zinf = 1 / (1 + (kd / (cai + 1e-12)) ^ hill)
    z' = (zinf - z) / tau
}
