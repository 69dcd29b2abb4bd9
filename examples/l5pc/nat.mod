COMMENT
Transient sodium current, Hodgkin-Huxley type (m^3 h), with the Traub & Miles (1991) rate
functions as used for cortical pyramidal cells by Destexhe & Pare (1999) ("hh2.mod").
The rate functions are written for v - vtraub; vtraub shifts the activation range (a more
negative vtraub lowers the threshold). Rates are scaled by q10 = 3 from 36 degC.
    ina = gbar * m^3 * h * (v - ena)
Part of the reduced L5 pyramidal cell of examples/l5pc (neurohybrid).
ENDCOMMENT

NEURON {
    SUFFIX nat
    USEION na READ ena WRITE ina
    RANGE gbar, vtraub, ina
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.05 (S/cm2)
    vtraub = -60 (mV)
}

ASSIGNED {
    v (mV)
    ena (mV)
    ina (mA/cm2)
    celsius (degC)
    minf
    hinf
    mtau (ms)
    htau (ms)
}

STATE { m h }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ina = gbar * m * m * m * h * (v - ena)
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
    : x / (exp(x / y) - 1), with its limit y at x = 0
    if (fabs(x / y) < 1e-6) {
        vtrap = y * (1 - x / y / 2)
    } else {
        vtrap = x / (exp(x / y) - 1)
    }
}

PROCEDURE rates(v (mV)) {
    LOCAL v2, am, bm, ah, bh, tadj
    tadj = 3.0 ^ ((celsius - 36) / 10)
    v2 = v - vtraub
    am = 0.32 * vtrap(13 - v2, 4)
    bm = 0.28 * vtrap(v2 - 40, 5)
    ah = 0.128 * exp((17 - v2) / 18)
    bh = 4 / (1 + exp((40 - v2) / 5))
    minf = am / (am + bm)
    mtau = 1 / (tadj * (am + bm))
    hinf = ah / (ah + bh)
    htau = 1 / (tadj * (ah + bh))
}
