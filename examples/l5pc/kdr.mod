COMMENT
Delayed-rectifier potassium current (n^4), Traub & Miles (1991) rate functions as in
Destexhe & Pare (1999) ("hh2.mod"), same vtraub convention as nat.mod; q10 = 3 from 36 degC.
    ik = gbar * n^4 * (v - ek)
Part of the reduced L5 pyramidal cell of examples/l5pc (neurohybrid).
ENDCOMMENT

NEURON {
    SUFFIX kdr
    USEION k READ ek WRITE ik
    RANGE gbar, vtraub, ik
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.01 (S/cm2)
    vtraub = -60 (mV)
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    celsius (degC)
    ninf
    ntau (ms)
}

STATE { n }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ik = gbar * n * n * n * n * (v - ek)
}

INITIAL {
    rates(v)
    n = ninf
}

DERIVATIVE states {
    rates(v)
    n' = (ninf - n) / ntau
}

FUNCTION vtrap(x (mV), y (mV)) (mV) {
    if (fabs(x / y) < 1e-6) {
        vtrap = y * (1 - x / y / 2)
    } else {
        vtrap = x / (exp(x / y) - 1)
    }
}

PROCEDURE rates(v (mV)) {
    LOCAL v2, an, bn, tadj
    tadj = 3.0 ^ ((celsius - 36) / 10)
    v2 = v - vtraub
    an = 0.032 * vtrap(15 - v2, 5)
    bn = 0.5 * exp((10 - v2) / 40)
    ninf = an / (an + bn)
    ntau = 1 / (tadj * (an + bn))
}
