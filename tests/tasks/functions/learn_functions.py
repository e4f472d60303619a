"""Recursive functions written the way a user writes them (``FILE.py:NAME``), for the default
training preset's sweep (benchmarks/sweep_recursion_defaults.py) and its test
(tests/train/test_learns_with_defaults.py). None of them is a built-in; three are built-ins
composed (successor twice, doubling, adding a constant), two are our own.
"""

from algolens.tasks.recursion import B0, B1, Bin, Z


def _succ(n: Bin) -> Bin:
    match n:
        case Z():
            return B1(Z())
        case B0(m):
            return B1(m)
        case B1(m):
            return B0(_succ(m))
    raise TypeError(n)


def succ2(n: Bin) -> Bin:
    """Successor applied twice: n + 2."""
    return _succ(_succ(n))


def double(n: Bin) -> Bin:
    """2n: one more bit, a B0 at the bottom (0 stays as written)."""
    match n:
        case Z():
            return Z()
        case _:
            return B0(n)


def plus3(n: Bin) -> Bin:
    """n + 3: successor three times."""
    return _succ(_succ(_succ(n)))


def gray(n: Bin) -> Bin:
    """The reflected Gray code of n: bit i is bit i xor bit i+1 (same number of bits)."""
    match n:
        case Z():
            return Z()
        case B0(m):
            return B1(gray(m)) if isinstance(m, B1) else B0(gray(m))
        case B1(m):
            return B0(gray(m)) if isinstance(m, B1) else B1(gray(m))
    raise TypeError(n)


def complement(n: Bin) -> Bin:
    """Every bit flipped."""
    match n:
        case Z():
            return Z()
        case B0(m):
            return B1(complement(m))
        case B1(m):
            return B0(complement(m))
    raise TypeError(n)
