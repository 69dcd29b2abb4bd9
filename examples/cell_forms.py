"""One cell class, three engines: the native forms of a canonical cell class and how well they agree.

A PD14 layer-2/3 pyramidal cell (Potjans & Diesmann 2014, Table 5: IF_curr_exp, C_m 250 pF,
tau_m 10 ms, tau_syn 0.5 ms, tau_ref 2 ms, E_L = V_reset -65 mV, V_th -50 mV) is generated as
its float-emulator type, its Loihi fixed-point form (the partition's quantisation) and a
single-compartment NEURON cell (PyNN's NEURON template); a regular-spiking Izhikevich cell
(Izhikevich 2003), which has no Loihi form, on the float emulator and NEURON.
``neurohybrid.library.agreement.agreement`` runs them side by side: f-I curve, PSP shape (0.15 mV,
PD14's 87.8 pA) and the rate under Poisson drive, each engine against the float emulator within
its stated tolerance. The figure shows the f-I curves, the PSPs and the Poisson-driven rates.

    python examples/cell_forms.py [--duration 300] [--output examples/output]
"""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from neurohybrid.library.base import Range  # noqa: E402
from neurohybrid.library.cells import CellClass  # noqa: E402
from neurohybrid.library.agreement import agreement  # noqa: E402

PD14_L23E = CellClass(
    "PD14 L2/3 pyramidal", "IF_curr_exp",
    {k: Range(v) for k, v in dict(cm=0.25, tau_m=10.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0, tau_refrac=2.0,
                                  tau_syn_E=0.5, tau_syn_I=0.5, i_offset=0.0).items()},
    source="Potjans & Diesmann (2014) Cereb Cortex 24:785, Table 5")
IZH_RS = CellClass("Izhikevich RS", "Izhikevich",
                   {k: Range(v) for k, v in dict(a=0.02, b=0.2, c=-65.0, d=8.0, i_offset=0.0).items()},
                   source="Izhikevich (2003) IEEE TNN 14:1569, Fig. 2")
COLOURS = {"emulator": "k", "emulator-fixed": "tab:orange", "neuron": "tab:blue"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=300.0, help="ms of each agreement run")
    ap.add_argument("--output", default="examples/output", help="directory for cell_forms.png")
    args = ap.parse_args()
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)

    reports = [agreement(PD14_L23E, psp_mv=0.15, duration=args.duration),
               agreement(IZH_RS, engines=None, duration=args.duration)]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for row, rep in zip(axes, reports):
        print(rep.format())
        print(f"{rep.cell_class}: {'all within tolerance' if rep.ok else f'{len(rep.failures())} outside tolerance'}")
        currents = rep.settings["currents_nA"]
        for eng, m in rep.measured.items():
            if eng not in COLOURS:
                continue
            kw = dict(color=COLOURS[eng], label=eng)
            row[0].plot(currents, m["fI"], "o-" if eng == "emulator" else "x--", ms=5, **kw)
            t, dv = m["psp"]["trace"]
            row[1].plot(t, dv[:, 0], **kw)
            row[1].plot(t, dv[:, 1], **kw, alpha=0.5)
            row[2].bar(list(COLOURS).index(eng), m["rate"].mean(), color=COLOURS[eng])
        row[0].set(xlabel="current step (nA)", ylabel="rate (Hz)", title=f"{rep.cell_class}: f-I")
        row[1].set(xlabel="time after arrival (ms)", ylabel="PSP (mV)", xlim=(-1, 30), title="EPSP / IPSP")
        row[2].set(xticks=range(3), xticklabels=list(COLOURS), ylabel="mean rate (Hz)", title="Poisson drive")
        row[0].legend(fontsize=8)
        for eng, why in rep.skipped.items():
            row[2].text(list(COLOURS).index(eng), 0, "no form", ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "cell_forms.png", dpi=110)
    print(f"outputs: {out / 'cell_forms.png'}")


if __name__ == "__main__":
    main()
