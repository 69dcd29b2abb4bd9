"""Integer helpers that the fixed-point modules share: Lava's int32 arithmetic and Loihi's
saturations for the kernels (numba, inlined where they are used), and the check of integer
parameters against Loihi's ranges."""
from __future__ import annotations

import numba
import numpy as np

from neurohybrid.errors import ParameterError


@numba.njit(cache=True, inline="always")
def wrap32(x):
    # Lava keeps u, v, activations and the learning engine's products in int32 arrays; numpy
    # int32 arithmetic wraps modulo 2**32.
    return ((x + 2147483648) & 4294967295) - 2147483648


@numba.njit(cache=True, inline="always")
def clip(x, lo, hi):
    return lo if x < lo else (hi if x > hi else x)


def checked_ints(owner, name, arr: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``arr`` as int64, once its values are known to be finite integers in [lo, hi]
    (:class:`ParameterError` naming ``owner`` and ``name`` otherwise)."""
    if arr.size and not np.all(np.isfinite(arr.astype(np.float64))):
        raise ParameterError(owner, name, "contains NaN or inf", f"integers in [{lo}, {hi}]")
    if arr.size and not np.all(arr == np.round(arr)):
        raise ParameterError(owner, name, "is not integer-valued", f"integers in [{lo}, {hi}]")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < lo or arr.max() > hi):
        raise ParameterError(owner, name, f"values in [{arr.min()}, {arr.max()}] out of range",
                             f"integers in [{lo}, {hi}]")
    return arr
