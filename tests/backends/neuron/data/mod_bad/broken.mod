: Does not compile: the BREAKPOINT block uses an undeclared name and is not closed.
NEURON {
    SUFFIX nhbroken
    NONSPECIFIC_CURRENT i
}
ASSIGNED {
    v (mV)
    i (mA/cm2)
}
BREAKPOINT {
    i = gbar_undeclared * (v -
