"""Token serialisation: round trips, unambiguity, and one-line errors for malformed sequences."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from algolens.errors import SpecError
from algolens.tasks.recursion import B0, B1, Leaf, Node, Z, decode, encode, parse
from algolens.tasks.recursion.tokens import VOCAB, ids, tokens_of
from tests.tasks.recursion_strategies import bins, stack_preorder, trees


def test_paper_spelling_of_five():
    assert encode(B1(B0(B1(Z())))) == ["B1", "B0", "B1", "Z"]
    assert decode("B0 B1 B1 Z".split(), "bin") == B0(B1(B1(Z())))


def test_tree_prefix_by_hand():
    t = Node(3, Leaf(), Node(1, Leaf(), Leaf()))
    assert encode(t) == "Node 3 Leaf Node 1 Leaf Leaf".split()
    assert decode(encode(t), "tree") == t


@given(bins)
def test_bin_round_trip(n):
    assert decode(encode(n), "bin") == n
    assert tokens_of(ids(encode(n))) == encode(n)


@given(trees)
def test_tree_round_trip_and_labels_in_preorder(t):
    toks = encode(t)
    assert decode(toks, "tree") == t
    labels = [int(x) for x in toks if x.isdigit()]
    assert labels == stack_preorder(t)
    assert len(toks) == 3 * labels.__len__() + 1  # Node+label per node, one Leaf per empty slot


@given(bins, trees, bins)
def test_concatenated_arguments_need_no_separator(a, t, b):
    toks = encode(a) + encode(t) + encode(b)
    assert parse(toks, ("bin", "tree", "bin")) == (a, t, b)


@given(st.lists(st.integers(0, 9), max_size=12))
def test_label_lists_round_trip(xs):
    assert decode(encode(xs), "labels") == xs


@given(st.lists(st.sampled_from(["Z", "B0", "B1", "Leaf", "Node", "3", "x"]), max_size=12))
def test_any_token_sequence_is_rejected_or_is_the_unique_spelling(toks):
    for kind in ("bin", "tree"):
        try:
            value = decode(toks, kind)
        except SpecError as exc:
            assert "\n" not in str(exc)
        else:
            assert encode(value) == toks


@pytest.mark.parametrize(
    "text, kinds, fragment",
    [
        ("B1 B0", ("bin",), "ends before the bin is complete"),
        ("", ("bin",), "ends before"),
        ("B1 B2 Z", ("bin",), "token 1 is 'B2', expected Z, B0 or B1"),
        ("B1 Z Z", ("bin",), "left over from position 2"),
        ("Node Leaf Leaf", ("tree",), "expected a label 0..9 after Node"),
        ("Node 3 Leaf", ("tree",), "ends before the tree is complete"),
        ("Node 3", ("tree",), "ends before"),
        ("Node", ("tree",), "ends before"),
        ("Z", ("tree",), "expected Leaf or Node"),
        ("Leaf Leaf", ("tree",), "left over"),
        ("Node 12 Leaf Leaf", ("tree",), "expected a label"),
        ("3 Z", ("labels",), "expected a label 0..9"),
        ("B1 Z", ("bin", "bin"), "ends before"),
        ("3", ("labels", "bin"), "only be the last"),
        ("Z", ("int",), "unknown value kind"),
    ],
    ids=lambda x: x if isinstance(x, str) else None,
)
def test_malformed_sequences_raise_one_line(text, kinds, fragment):
    with pytest.raises(SpecError) as info:
        parse(text, kinds)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_token_and_id():
    with pytest.raises(SpecError, match="unknown token 'B2'"):
        ids(["B1", "B2"])
    with pytest.raises(SpecError, match="out of range"):
        tokens_of([len(VOCAB)])


def test_encode_refuses_non_values():
    with pytest.raises(TypeError, match="got int"):
        encode(5)
    with pytest.raises(TypeError, match="got 10"):
        encode([1, 10])


def test_constructors_check_their_fields():
    with pytest.raises(TypeError, match="B1 takes a binary number"):
        B1(5)
    with pytest.raises(TypeError, match="label must lie"):
        Node(10, Leaf(), Leaf())
    with pytest.raises(TypeError, match="subtrees must be Leaf or Node"):
        Node(1, Z(), Leaf())
    with pytest.raises(TypeError):
        Node(True, Leaf(), Leaf())
