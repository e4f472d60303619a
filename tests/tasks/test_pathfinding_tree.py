"""The paper's text format: parse/print round-trips and one-line errors for malformed prompts."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algolens.errors import SpecError
from algolens.tasks.pathfinding.dataset import (
    DATASET_FILE,
    build_dataset,
    load_dataset,
    save_dataset,
)
from algolens.tasks.pathfinding.generate import sample_tree
from algolens.tasks.pathfinding.settings import PathfindingArgs
from algolens.tasks.pathfinding.tree import format_path, format_prompt, parse_prompt


@settings(max_examples=200, deadline=None)
@given(n=st.integers(2, 30), seed=st.integers(0, 2**32))
def test_text_round_trip(n, seed):
    tree = sample_tree(n, random.Random(seed), "mixed")
    text = format_prompt(tree)
    assert parse_prompt(text, n) == tree
    assert format_prompt(parse_prompt(text, n)) == text


def test_paper_example_shape():
    tree = parse_prompt("3>1,0>3,3>2|2:0", 4)
    assert tree.path() == [0, 3, 2] and format_path(tree.path()) == ">3>2"


def test_single_chain():
    text = "4>0,0>2,3>1,1>4|2:3"
    assert parse_prompt(text, 5).path() == [3, 1, 4, 0, 2]


@pytest.mark.parametrize(
    "text, n, message",
    [
        ("0>1,1>2,2>0|2:0", 3, "two parents|has a parent|edges"),  # a cycle through the root
        ("0>1,2>3,3>2|1:0", 4, "not reachable from the root"),  # cycle in a second component
        ("0>1,1>9|9:0", 3, "out of range"),
        ("0>1,1>2|:0", 3, "no goal"),
        ("0>1,1>2:0", 3, "lacks '\\|' or ':'"),
        ("0>1,2>1,0>2|1:0", 3, "two parents"),
        ("0>1,0>2,0>3|3:0", 4, "more than 2 children"),
        ("0>1,1>2|1:0", 3, "not a leaf"),
        ("0>1|0:0", 2, "the goal is the root"),
        ("0>1|1:0", 3, "1 edges, but a tree of 3 nodes has 2"),
        ("0-1|1:0", 2, "parent>child"),
        ("0>x|1:0", 2, "expected a node number"),
        ("1>1|1:0", 2, "self-loop"),
        ("0>1,0>\u00b2|2:0", 3, "expected a node number"),  # "²": str.isdigit, not int
        ("0>1,0>\u0662|2:0", 3, "expected a node number"),  # Arabic-Indic 2: not read as 2
    ],
)
def test_malformed_prompts_raise_one_line(text, n, message):
    with pytest.raises(SpecError, match=message) as exc:
        parse_prompt(text, n)
    assert "\n" not in str(exc.value)


def test_stored_dataset_round_trips(tmp_path):
    ds = build_dataset(PathfindingArgs(nodes=5, n_examples=40))
    save_dataset(ds, tmp_path / DATASET_FILE)
    back = load_dataset(tmp_path / DATASET_FILE)
    assert back.args == ds.args and (back.tokens == ds.tokens).all()
