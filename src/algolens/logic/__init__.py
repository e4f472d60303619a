"""From network to logic (Merrill & Sabharwal 2023): integer reference models, threshold
circuits, FO(M) formulas and exact equivalence checks.

Passes (one module each): ``quantize*`` (float model -> integer reference model Q),
``compile*`` (Q -> :class:`~algolens.logic.circuit.Circuit`), ``evaluate`` (circuit on many
inputs), ``export`` (the ``algolens-threshold-circuit/1`` file format), ``fom*`` (circuit ->
formula), ``verify*`` (equivalence).
"""
