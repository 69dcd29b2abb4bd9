"""A reduced layer-5 pyramidal cell for NEURON with a calcium hot zone (BAC firing).

Sections (``self.all`` lists them all; the apical ones carry ``[i]`` so their base name is the
part they belong to: ``L5PC[0].trunk[2]`` -> ``trunk``):

* ``soma`` (one compartment), ``axon`` (axon initial segment then a thin axon: APs start here);
* ``basal[0..1]``: two basal dendrites (collapsed basal trees);
* ``trunk[0..n_trunk-1]``: the apical trunk, tapering, ending at the main bifurcation; its
  distal part (from ``hot_zone[0]`` to ``hot_zone[1]`` um from the soma) is the *calcium hot
  zone*: high-voltage-activated Ca channels (``cahva``), SK channels (``sk``), Ca decay (``cad``);
* ``tuft[0..1]``: two tuft branches from the bifurcation.

Na (``nat``) and K (``kdr``) channels are in the soma and axon and, with a density decreasing
with distance, along the trunk, so somatic APs back-propagate and attenuate on their way up.
The hot zone does not fire on its own for a back-propagating AP (bAP) nor for a moderate
tuft EPSP, but does for both within a few ms: the dendritic Ca spike drives a somatic burst
(back-propagation-activated Ca spike firing, BAC firing; Larkum, Zhu & Sakmann 1999,
Nature 398:338). ``run_bac_protocol`` reproduces the three conditions; with the defaults
(NEURON 9, dt = 0.025 ms, 34 degC):

* a 5 ms, 1.9 nA somatic step: one AP; the bAP reaches the hot zone at about -36 mV;
* a synchronous volley on the 10 tuft synapses (3 nS each): no somatic AP (soma peaks at
  about -63 mV), hot zone -44 mV;
* both, the volley 3 ms after the step's onset: a dendritic Ca spike (hot zone +11 mV, peak
  Ca current ~11x the bAP's) and a somatic burst of 3 APs (~10 ms apart). The coincidence
  window is about -5..+5 ms (volley onset relative to the step onset; the AP comes at +2 ms).
  With a fast Ca decay (``ca_tau`` = 20 ms) the hot zone can fire again ~100 ms after an AP.

Synapses (lists of ``h.Exp2Syn``, for ``sim.NeuronCell(receptors=...)``):

* ``ampa_tuft`` (``n_tuft_syn`` along the tuft), ``ampa_basal`` (``n_basal_syn`` on the basal
  dendrites), ``ampa_trunk`` (on the proximal trunk): excitatory, tau 0.5/3 ms, e = 0 mV;
* ``gaba_soma`` (``n_soma_syn`` on the soma): inhibitory, tau 0.5/8 ms, e = -80 mV.

Named places (``LOCATIONS``, for ``sim.NeuronCell(locations=...)``): ``soma``, ``trunk`` (mid
trunk), ``hotzone`` (the hot zone), ``tuft``.

Mechanisms: the ``.mod`` files next to this module (nat, kdr, cahva, cad, sk). For plain
NEURON use, :func:`load_mechanisms` compiles them with ``nrnivmodl`` in a cache directory and
loads them (once; skipped when they are already loaded, e.g. by neurohybrid).
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MECHANISMS = ("nat", "kdr", "cahva", "cad", "sk")

#: receptor name -> attribute holding its synapses (for sim.NeuronCell(receptors=...))
RECEPTORS = {"AMPA_tuft": "ampa_tuft", "AMPA_basal": "ampa_basal", "AMPA_trunk": "ampa_trunk",
             "GABA_soma": "gaba_soma"}
#: location name -> "<section attribute>(x)" (for sim.NeuronCell(locations=...)); filled for the
#: default geometry (n_trunk=5, hot zone in trunk[4]) -- L5PC.locations() gives them for any cell
LOCATIONS = {"soma": "soma(0.5)", "trunk": "trunk[2](0.5)", "hotzone": "trunk[4](0.61)", "tuft": "tuft[0](0.5)"}


class L5PC:
    """One reduced L5 pyramidal cell (see the module docstring). Every keyword is a parameter;
    densities are in S/cm2, lengths and diameters in um."""

    def __init__(self, *, gid: int = 0,
                 # passive
                 cm: float = 1.0, cm_dend: float = 2.0, rm: float = 20000.0, ra: float = 100.0,
                 e_pas: float = -70.0, celsius: float = 34.0,
                 # geometry
                 soma_diam: float = 23.0, n_trunk: int = 5, trunk_length: float = 700.0,
                 trunk_diam: tuple = (5.0, 2.5), tuft_length: float = 350.0, tuft_diam: float = 1.6,
                 basal_length: float = 200.0, basal_diam: float = 3.0,
                 # active
                 gna_soma: float = 0.05, gkdr_soma: float = 0.08, gna_axon: float = 0.4, gkdr_axon: float = 0.3,
                 gna_trunk: float = 0.012, gkdr_trunk: float = 0.01, na_decay: float = 600.0,
                 vtraub: float = -63.0, vtraub_dend: float = -55.0,
                 gca_hot: float = 0.015, gca_dend: float = 0.0002, gsk_hot: float = 0.002, gsk_soma: float = 0.0005,
                 hot_zone: tuple = (550.0, 750.0), ca_tau: float = 20.0,
                 # synapses
                 ampa_tau: tuple = (0.5, 3.0), tuft_tau: tuple = (0.5, 5.0), gaba_tau: tuple = (0.5, 8.0),
                 n_tuft_syn: int = 10, n_basal_syn: int = 10, n_trunk_syn: int = 5, n_soma_syn: int = 5):
        from neuron import h

        h.celsius = celsius
        self.gid = gid
        self.params = {k: v for k, v in locals().items() if k not in ("self", "h")}
        mk = lambda name: h.Section(name=name, cell=self)  # noqa: E731

        # ---- geometry
        self.soma = mk("soma")
        self.soma.L = self.soma.diam = soma_diam
        self.axon = mk("axon")
        self.axon.L, self.axon.diam, self.axon.nseg = 60.0, 1.2, 5
        self.axon.connect(self.soma(0))
        self.basal = []
        for i in range(2):
            sec = mk(f"basal[{i}]")
            sec.L, sec.diam, sec.nseg = basal_length, basal_diam, 7
            sec.connect(self.soma(0.5))
            self.basal.append(sec)
        self.trunk = []
        d0, d1 = trunk_diam
        seglen = trunk_length / n_trunk
        for i in range(n_trunk):
            sec = mk(f"trunk[{i}]")
            sec.L, sec.nseg = seglen, 9
            for seg in sec:  # linear taper
                frac = (i + seg.x) / n_trunk
                seg.diam = d0 + (d1 - d0) * frac
            sec.connect(self.trunk[-1](1) if self.trunk else self.soma(1))
            self.trunk.append(sec)
        self.tuft = []
        for i in range(2):
            sec = mk(f"tuft[{i}]")
            sec.L, sec.diam, sec.nseg = tuft_length, tuft_diam, 11
            sec.connect(self.trunk[-1](1))
            self.tuft.append(sec)
        self.all = [self.soma, self.axon, *self.basal, *self.trunk, *self.tuft]
        self.dendrites = [*self.basal, *self.trunk, *self.tuft]

        # ---- passive properties
        for sec in self.all:
            sec.Ra = ra
            sec.cm = cm_dend if sec in self.dendrites else cm
            sec.insert("pas")
            for seg in sec:
                seg.pas.g = 1.0 / rm * (cm_dend / cm if sec in self.dendrites else 1.0)  # spines: more membrane
                seg.pas.e = e_pas

        # ---- active properties
        # Mechanisms go only where they have a conductance (the axon has no Ca; SK only in the
        # soma and the sections of the hot zone), which saves ~20% of the integration time.
        h.distance(0, self.soma(0.5))
        hot_secs = [sec for sec in self.trunk + self.tuft
                    if any(hot_zone[0] <= h.distance(seg) <= hot_zone[1] for seg in sec)]
        for sec in self.all:
            sec.insert("nat")
            sec.insert("kdr")
            if sec is not self.axon:
                sec.insert("cahva")
                sec.insert("cad")
            if sec is self.soma or sec in hot_secs:
                sec.insert("sk")
            sec.ena, sec.ek = 50.0, -85.0
            for seg in sec:
                seg.nat.vtraub = seg.kdr.vtraub = vtraub if sec in (self.soma, self.axon) else vtraub_dend
                if sec is not self.axon:
                    seg.cad.taur = ca_tau
                    seg.cahva.gbar = gca_dend
                if hasattr(seg, "sk"):
                    seg.sk.gbar = 0.0
        self.soma(0.5).nat.gbar, self.soma(0.5).kdr.gbar = gna_soma, gkdr_soma
        self.soma(0.5).sk.gbar = gsk_soma
        for seg in self.axon:
            seg.nat.gbar, seg.kdr.gbar = gna_axon, gkdr_axon
        for sec in self.basal:
            for seg in sec:
                seg.nat.gbar, seg.kdr.gbar = 0.2 * gna_trunk, 0.2 * gkdr_trunk
        for sec in self.trunk + self.tuft:
            for seg in sec:
                dist = h.distance(seg)
                seg.nat.gbar = gna_trunk * math.exp(-dist / na_decay)
                seg.kdr.gbar = gkdr_trunk * math.exp(-dist / na_decay)
                if hot_zone[0] <= dist <= hot_zone[1]:
                    seg.cahva.gbar, seg.sk.gbar = gca_hot, gsk_hot

        # ---- synapses
        def place(secs, n, tau1, tau2, e):
            out = []
            for k in range(n):
                pos = (k + 0.5) / n * len(secs)
                sec = secs[min(int(pos), len(secs) - 1)]
                syn = h.Exp2Syn(sec(pos - int(pos)))
                syn.tau1, syn.tau2, syn.e = tau1, tau2, e
                out.append(syn)
            return out

        self.ampa_tuft = place(self.tuft, n_tuft_syn, *tuft_tau, 0.0)
        self.ampa_basal = place(self.basal, n_basal_syn, *ampa_tau, 0.0)
        self.ampa_trunk = place(self.trunk[:2], n_trunk_syn, *ampa_tau, 0.0)
        self.gaba_soma = place([self.soma], n_soma_syn, *gaba_tau, -80.0)

    def __repr__(self):
        return f"L5PC[{self.gid}]"

    def locations(self) -> dict:
        """Named places of this cell as ``"<section attribute>(x)"`` strings."""
        from neuron import h
        h.distance(0, self.soma(0.5))
        lo, hi = self.params["hot_zone"]
        mid = 0.5 * (lo + hi)
        best = min(((abs(h.distance(seg) - mid), i, seg.x) for i, sec in enumerate(self.trunk) for seg in sec))
        return {"soma": "soma(0.5)", "trunk": f"trunk[{len(self.trunk) // 2}](0.5)",
                "hotzone": f"trunk[{best[1]}]({best[2]:.2f})", "tuft": "tuft[0](0.5)"}

    def segment(self, spec: str):
        """The segment of a location name (``"tuft"``) or ``"<section attribute>(x)"`` string."""
        spec = self.locations().get(spec, spec)
        m = re.fullmatch(r"(\w+)(?:\[(\d+)\])?\(([\d.]+)\)", spec.strip())
        if m is None:
            raise ValueError(f"{spec!r} is not a location of {self!r}")
        sec = getattr(self, m.group(1))
        if m.group(2) is not None:
            sec = sec[int(m.group(2))]
        return sec(float(m.group(3)))

    def n_segments(self) -> int:
        return sum(sec.nseg for sec in self.all)


# ------------------------------------------------------------------------------ mechanisms
def _loaded(names) -> bool:
    from neuron import h
    sec = h.Section(name="_l5pc_probe")
    try:
        for name in names:
            sec.insert(name)
    except ValueError:
        return False
    finally:
        h.delete_section(sec=sec)
    return True


def load_mechanisms(cache: str | os.PathLike | None = None) -> Path | None:
    """Compile this directory's ``.mod`` files with the venv's ``nrnivmodl`` (in a cache
    directory keyed by their contents, never next to the sources) and load them into NEURON.
    Does nothing when the mechanisms are already loaded. Returns the library loaded (or None).
    Where neurohybrid is installed its compiler cache is used, so that a later neurohybrid
    model with these cells in the same process finds them loaded (NEURON cannot load two
    libraries that define the same mechanism names)."""
    from neuron import h
    if _loaded(MECHANISMS):
        return None
    try:
        from neurohybrid.backends.neuron.mechanisms import compile_mechanisms
    except ImportError:
        pass
    else:
        return compile_mechanisms(HERE)
    mods = sorted(HERE.glob("*.mod"))
    digest = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in mods)).hexdigest()[:16]
    root = Path(cache or os.environ.get("L5PC_BUILD", Path.home() / ".cache" / "l5pc_mechanisms"))
    target = root / digest
    lib = next(iter(sorted(target.glob("*/libnrnmech.so"))), None) if target.is_dir() else None
    if lib is None:
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=root))
        for p in mods:
            shutil.copy2(p, work / p.name)
        exe = Path(sys.executable).with_name("nrnivmodl")
        proc = subprocess.run([str(exe) if exe.exists() else "nrnivmodl"], cwd=work, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"nrnivmodl failed:\n{proc.stdout}\n{proc.stderr}")
        try:
            work.rename(target)
        except OSError:
            shutil.rmtree(work, ignore_errors=True)
        lib = next(iter(sorted(target.glob("*/libnrnmech.so"))))
    h.nrn_load_dll(str(lib))
    return lib


# ------------------------------------------------------------------------------ BAC protocol
def run_bac_protocol(condition: str, cell: L5PC | None = None, *, t_stim: float = 50.0, delay: float = 3.0,
                     soma_amp: float = 1.9, soma_dur: float = 5.0, tuft_weight: float = 0.003,
                     tstop: float = 150.0, dt: float = 0.025, **params) -> dict:
    """Larkum et al.'s (1999) protocol on one cell: ``"soma"`` (a brief somatic current step that
    evokes one AP), ``"tuft"`` (a synchronous volley on every tuft synapse, an EPSP),
    ``"both"`` (the step, and the volley ``delay`` ms after its start). Returns the time axis,
    soma / hot-zone / tuft voltages, the hot zone's Ca current and the somatic spike times."""
    from neuron import h
    h.load_file("stdrun.hoc")
    cell = cell or L5PC(**params)
    stim = h.IClamp(cell.soma(0.5))
    stim.delay, stim.dur, stim.amp = t_stim, soma_dur, soma_amp if condition in ("soma", "both") else 0.0
    ncs = []
    if condition in ("tuft", "both"):
        t_tuft = t_stim + (delay if condition == "both" else 0.0)
        for syn in cell.ampa_tuft:
            nc = h.NetCon(None, syn)
            nc.weight[0] = tuft_weight
            ncs.append((nc, t_tuft))
    fih = h.FInitializeHandler(lambda: [nc.event(t) for nc, t in ncs])  # noqa: F841
    hot = cell.segment("hotzone")
    rec = {"t": h.Vector().record(h._ref_t), "soma": h.Vector().record(cell.soma(0.5)._ref_v),
           "hotzone": h.Vector().record(hot._ref_v), "tuft": h.Vector().record(cell.tuft[0](0.5)._ref_v),
           "ica": h.Vector().record(hot._ref_ica)}
    spikes = h.Vector()
    det = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
    det.threshold = -10.0
    det.record(spikes)
    h.dt = dt
    h.finitialize(cell.params["e_pas"])
    h.continuerun(tstop)
    out = {k: np.array(v.to_python()) for k, v in rec.items()}
    out["spikes"] = np.array(spikes.to_python())
    return out
