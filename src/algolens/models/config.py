"""Shared behaviour of model configs: JSON round trip and up-front validation.

Every model takes one frozen dataclass config as its only constructor argument. Configs validate
themselves on construction and report *every* bad field in one :class:`ConfigError` line, so a
run never starts half-configured.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Self

import torch

from algolens.errors import ConfigError

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Base class: subclasses are frozen dataclasses and implement :meth:`problems`."""

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError(f"{type(self).__name__}: " + "; ".join(problems))

    def problems(self) -> list[str]:
        """Every invalid field, each as ``"name must be ..., got value"`` (empty when valid)."""
        return []

    @property
    def torch_dtype(self) -> torch.dtype:
        """The parameter dtype as a :class:`torch.dtype`."""
        return DTYPES[self.dtype]  # type: ignore[attr-defined]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        """Inverse of :meth:`to_dict`; unknown or missing fields raise one :class:`ConfigError`."""
        if not isinstance(d, dict):
            raise ConfigError(f"{cls.__name__}: expected a dict of fields, got {type(d).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(fields))
        missing = [
            name
            for name, f in fields.items()
            if name not in d
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        if unknown or missing:
            bits = []
            if unknown:
                bits.append(f"unknown field(s) {', '.join(unknown)}")
            if missing:
                bits.append(f"missing required field(s) {', '.join(missing)}")
            raise ConfigError(
                f"{cls.__name__}: {'; '.join(bits)}; known fields are {', '.join(fields)}"
            )
        return cls(**d)

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def check_int(problems: list[str], name: str, value: Any, minimum: int = 1) -> None:
    """Append a problem unless ``value`` is an int ``>= minimum`` (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problems.append(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_choice(problems: list[str], name: str, value: Any, choices: tuple[str, ...]) -> None:
    """Append a problem unless ``value`` is one of ``choices``."""
    if value not in choices:
        problems.append(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def check_positive(problems: list[str], name: str, value: Any) -> None:
    """Append a problem unless ``value`` is a finite number > 0."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not value > 0 or value == float("inf"):
        problems.append(f"{name} must be a positive number, got {value!r}")
