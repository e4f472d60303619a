"""Reading JSON that a user wrote: nesting too deep for the parser is a ``ValueError``, never a
``RecursionError`` (which would escape every ``except ValueError`` and print a traceback).

Examples:
    >>> loads_json('{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> loads_json("[" * 100_000 + "]" * 100_000)
    Traceback (most recent call last):
    ...
    algolens.jsonread.JSONTooDeepError: nested too deep
"""

from __future__ import annotations

import json
from typing import Any


class JSONTooDeepError(ValueError):
    """JSON text nested deeper than the parser can follow."""


def loads_json(text: str | bytes) -> Any:
    """``json.loads(text)``.

    Raises:
        json.JSONDecodeError: malformed JSON.
        JSONTooDeepError: nesting too deep to parse (message ``nested too deep``).
        ValueError: other unreadable values (e.g. an integer of thousands of digits).
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise JSONTooDeepError("nested too deep") from None
