"""algolens: train small networks on algorithmic tasks and reverse-engineer what they learned."""

__version__ = "0.1.0"
