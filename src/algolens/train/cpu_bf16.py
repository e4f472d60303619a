"""Whether this CPU has a fast bfloat16 matmul, and the warning when a run asks for one it lacks.

torch runs a CPU ``bfloat16`` matmul through oneDNN where the CPU has AVX-512 (Intel from
Skylake-SP, AMD from Zen 4; ``avx512_bf16`` and AMX add native bfloat16 instructions). Without it
(an AVX2-only CPU such as AMD Zen 3) torch falls back to a reference kernel: measured on a 2-core
AMD EPYC (Zen 3, AVX2) on 2026-12-06, a 1024³ bfloat16 ``torch.mm`` ran at about 1 GFLOP/s against
83 in float32, and a path-finding training step with bfloat16 matmuls took 11.6× as long as in
float32 (docs/benchmarks.md). Results stay correct, so a run that asks for bfloat16 matmuls there
still runs; :func:`warn_slow_bfloat16` says so once, as an
:class:`~algolens.errors.AlgolensWarning` (the CLI prints it as one ``warning:`` line).
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import torch

from algolens.errors import AlgolensWarning
from algolens.models.hooks import BatchedModel

NATIVE_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "avx512bw"})
"""``/proc/cpuinfo`` flags any of which gives torch a oneDNN bfloat16 matmul (the fallback
probe, when torch's own is unavailable)."""


def _cpu_flags(path: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The first ``flags`` line of ``path`` as a set (empty where it cannot be read)."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


@functools.cache
def native_bfloat16_matmul() -> bool:
    """True if torch's CPU bfloat16 matmul has a oneDNN kernel here (torch's own probe, else
    the CPU flags in :data:`NATIVE_FLAGS`)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return bool(NATIVE_FLAGS & _cpu_flags())


def slow_bfloat16_note(bfloat16_matmuls: bool, device: torch.device) -> str | None:
    """The warning for a model that trains with bfloat16 matmuls on a CPU without a native
    kernel; None when there is nothing to say (no bfloat16 matmuls, another device, a fast CPU)."""
    if not bfloat16_matmuls or device.type != "cpu" or native_bfloat16_matmul():
        return None
    return (
        "matmul_dtype bfloat16: this CPU has no native bfloat16 matmul (no AVX-512), so torch "
        "uses a reference kernel about 10x slower than float32; drop matmul_dtype to train in "
        "float32 (docs/training.md, bfloat16)"
    )


def warn_slow_bfloat16(model: BatchedModel, device: torch.device) -> None:
    """Issue :func:`slow_bfloat16_note` for ``model`` (its
    :meth:`~algolens.models.hooks.BatchedModel.trains_with_bfloat16_matmuls`) as an
    :class:`~algolens.errors.AlgolensWarning` (the CLI prints it as one ``warning:`` line)."""
    note = slow_bfloat16_note(model.trains_with_bfloat16_matmuls(), device)
    if note is not None:
        warnings.warn(note, AlgolensWarning, stacklevel=2)
