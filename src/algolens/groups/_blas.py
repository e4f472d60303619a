"""Run a block of numpy/scipy linear algebra with a given number of OpenBLAS threads.

Why: on a small shared machine (2 cores, other busy processes) OpenBLAS's threaded LAPACK
(``eigh``, ``svd``) spins waiting for a second thread that is not scheduled and gets 10–100×
slower than single-threaded: measured 0.15 s vs 18 s for the irreps of S6. The many small
factorisations of the irrep construction gain nothing from threads, so they run with one.

numpy and scipy each load their own OpenBLAS copy; both are found in ``/proc/self/maps`` and set
through their exported ``*_set_num_threads*`` functions (no effect where none is found, e.g. on
a non-Linux system or another BLAS). The previous counts are restored on exit.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)
_GETTERS = (
    "scipy_openblas_get_num_threads64_",
    "scipy_openblas_get_num_threads",
    "openblas_get_num_threads64_",
    "openblas_get_num_threads",
)


@cache
def _openblas_handles() -> tuple[tuple[object, object], ...]:
    try:
        with open("/proc/self/maps") as fh:
            paths = sorted(
                {ln.split()[-1] for ln in fh if "openblas" in ln.lower() and ".so" in ln}
            )
    except OSError:
        return ()
    found = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        setter = next((getattr(lib, s) for s in _SETTERS if hasattr(lib, s)), None)
        getter = next((getattr(lib, s) for s in _GETTERS if hasattr(lib, s)), None)
        if setter is not None and getter is not None:
            setter.argtypes, setter.restype = [ctypes.c_int], None
            getter.argtypes, getter.restype = [], ctypes.c_int
            found.append((setter, getter))
    return tuple(found)


@contextmanager
def blas_threads(n: int = 1) -> Iterator[None]:
    """Use ``n`` OpenBLAS threads inside the block (numpy's and scipy's copies)."""
    import numpy  # noqa: F401  (make sure both libraries are loaded before looking)
    import scipy.linalg  # noqa: F401

    handles = _openblas_handles()
    before = [get() for _, get in handles]
    for setter, _ in handles:
        setter(n)
    try:
        yield
    finally:
        for (setter, _), k in zip(handles, before):
            setter(k)
