COMMENT
High-voltage-activated calcium current (m^2 h), the formulation of Reuveni et al. (1993) used
for neocortical pyramidal cells by Mainen & Sejnowski (1996); rates at 23 degC scaled by
q10 = 2.3. The reversal potential eca follows the intracellular calcium written by cad.mod
(Nernst), so the current reads eca rather than assuming a constant.
    ica = gbar * m^2 * h * (v - eca)
Part of the reduced L5 pyramidal cell of examples/l5pc (neurohybrid): its density is high
only in the "hot zone" of the distal apical trunk, where it generates dendritic Ca spikes.
ENDCOMMENT

NEURON {
    SUFFIX cahva
    USEION ca READ eca WRITE ica
    RANGE gbar, ica
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.001 (S/cm2)
}

ASSIGNED {
    v (mV)
    eca (mV)
    ica (mA/cm2)
    celsius (degC)
    minf
    hinf
    mtau (ms)
    htau (ms)
}

STATE { m h }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ica = gbar * m * m * h * (v - eca)
}

INITIAL {
    rates(v)
    m = minf
    h = hinf
}

DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
}

FUNCTION vtrap(x (mV), y (mV)) (mV) {
    if (fabs(x / y) < 1e-6) {
        vtrap = y * (1 - x / y / 2)
    } else {
        vtrap = x / (exp(x / y) - 1)
    }
}

PROCEDURE rates(v (mV)) {
    LOCAL am, bm, ah, bh, tadj
    tadj = 2.3 ^ ((celsius - 23) / 10)
    am = 0.055 * vtrap(-27 - v, 3.8)
    bm = 0.94 * exp((-75 - v) / 17)
    ah = 0.000457 * exp((-13 - v) / 50)
    bh = 0.0065 / (exp((-v - 15) / 28) + 1)
    minf = am / (am + bm)
    mtau = 1 / (tadj * (am + bm))
    hinf = ah / (ah + bh)
    htau = 1 / (tadj * (ah + bh))
}
