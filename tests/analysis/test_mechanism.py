"""The path-finding mechanism finder on a hand-built model whose mechanism is known, and its
attention scores on hand-built attention patterns."""

from __future__ import annotations

import random

import pytest
import torch

from algolens.analysis.pathfinding.mechanism import find_mechanism
from algolens.analysis.pathfinding.mechanism_attention import deduction_scores, goal_heads
from algolens.analysis.pathfinding.mechanism_features import row_facts
from algolens.tasks.pathfinding.generate import sample_tree
from algolens.tasks.pathfinding.tokens import COMMA, Vocab, encode_path, encode_prompt
from tests.analysis.pathfinding_handbuilt import deduction_model

N = 5


def rows(n_rows: int, length: int | None, seed: int) -> torch.Tensor:
    v, rng = Vocab(N), random.Random(seed)
    out = torch.full((n_rows, v.width), COMMA, dtype=torch.int64)
    for r in range(n_rows):
        tree = sample_tree(N, rng, "shuffled", length=length)
        row = encode_prompt(tree, v) + encode_path(tree.path(), v)
        out[r, : len(row)] = torch.tensor(row)
    return out


def test_the_handbuilt_model_solves_the_first_step_of_length_2_paths():
    v, tok = Vocab(N), rows(50, 2, 0)
    logits = deduction_model(N)(tok[:, :-1])
    first = logits[:, v.root_pos].argmax(-1)
    assert (first == tok[:, v.prompt_len]).all()


@pytest.fixture(scope="module")
def found():
    return find_mechanism(deduction_model(N), rows(240, 2, 1), Vocab(N), n_fit=120)


def test_edge_concatenation_is_found_in_block_0(found):
    ec = found["edge_concat"]
    assert ec["block"] == 0
    assert ec["f1_by_layer"][1] == pytest.approx(1.0) and ec["f1_by_layer"][0] < 0.6
    # erasing the source at >goal after block 0 removes what the deduction head copies
    er = ec["erasure"]
    assert er["erased_loss"] > er["loss"] + 0.3 and er["erased_probe_f1"] < 0.6


def test_the_goal_mover_is_layer_0_and_knocking_it_out_hurts(found):
    g = found["goal_heads"]
    assert g["best"] == [0, 0] and g["attention"][0][0] == pytest.approx(1.0)
    assert g["knockout"]["loss_increase"] > 1.0


def test_layer_1_is_a_deduction_head_reading_the_goals_edge(found):
    d = found["deduction"]
    assert d["by_level"][1][0][0] > 0.49  # half the scored positions are the root, mass 1 there
    assert d["heads"][1]["level"] == 0
    assert d["path_mass"][1][0] > 2 * d["chance"]


def test_scrubbing_recovers_the_loss_of_the_true_hypotheses(found):
    by_layer = {s["layer"]: s for s in found["scrubbing"]}
    assert by_layer[0]["loss_recovered"] == pytest.approx(1.0, abs=0.05)  # root reads the goal
    assert by_layer[1]["loss_recovered"] == pytest.approx(1.0, abs=0.05)  # ... then its parent


def test_scores_on_hand_built_attention_patterns():
    v = Vocab(N)
    tok = rows(6, None, 2)
    facts = row_facts(tok, v)
    n_layers, t = 3, v.width - 1
    pat = torch.zeros(n_layers, len(tok), 1, t, t)
    pat[..., 0] = 1.0  # everything on position 0 (an edge source: never a path edge)
    for r, f in enumerate(facts):
        pat[0, r, 0, v.root_pos] = 0.0
        pat[0, r, 0, v.root_pos, v.goal_pos] = 1.0
        length = len(f.path) - 1
        for j in range(length):  # layer l >= 1: all attention on >a_{l-1} if it is ahead
            q = v.root_pos + j
            for layer in (1, 2):
                below = f.ancestors[: length - j]
                if layer - 1 < len(below):
                    pat[layer, r, 0, q] = 0.0
                    pat[layer, r, 0, q, f.target_pos[below[layer - 1]]] = 1.0
    assert goal_heads(pat, v) == [[1.0], [0.0], [0.0]]
    d = deduction_scores(pat, facts, v)
    assert d["level"][1] == [0] and d["level"][2] == [1]
    assert d["by_level"][1][0][0] == pytest.approx(1.0) and d["by_level"][2][0][1] == 1.0
    assert d["path_mass"][0][0] == 0.0


def test_register_probes_find_the_handbuilt_registers_and_their_levels(found):
    v = Vocab(N)
    rp = found["register_probes"]
    assert [lv["level"] for lv in rp["levels"]] == [0, 1]  # length-2 paths: a_2 is the root
    got = {(r["kind"], r["level"], r["layer"]) for r in rp["registers"]}
    # ':' copies the goal in layer 0; ':' and the goal position copy its parent in layer 1.
    # The goal position holding the goal token (level 0) is no register: layer 0 decodes it.
    assert got == {(":", 0, 1), (":", 1, 2), ("goal", 1, 2)}
    colon = rp["positions"].index(v.goal_pos + 1)
    level1 = rp["levels"][1]["f1"]
    assert level1[1][colon] < 0.6 and level1[2][colon] == pytest.approx(1.0)
    # layer 1 is the last block: nothing reads a register after it, so knockouts cost nothing;
    # the level-0 register at ':' is not read by the root (which reads the goal position)
    for r in rp["registers"]:
        assert r["knockout"]["loss_increase"] == pytest.approx(0.0, abs=1e-6)


def test_position_kinds_name_every_register_position():
    from algolens.analysis.pathfinding.mechanism_registers import position_kind, register_positions

    v = Vocab(4)  # "a>b,c>d,e>f|g:r": 0 1 2 3 4 5 6 7 8 9 10 11
    assert register_positions(v) == [0, 2, 3, 5, 6, 8, 9, 10]
    kinds = [position_kind(p, v) for p in register_positions(v)]
    assert kinds == ["source of edge 0", "',' after edge 0", "source of edge 1",
                     "',' after edge 1", "source of edge 2", "|", "goal", ":"]  # fmt: skip


def test_register_knockout_reports_the_block_that_reads_a_position():
    from algolens.analysis.pathfinding.mechanism_features import pathfinding_examples
    from algolens.analysis.pathfinding.mechanism_registers import _knockout

    v = Vocab(N)
    ex = pathfinding_examples(rows(60, 2, 3), v)
    ko = _knockout(deduction_model(N), ex, v, 0, v.goal_pos)  # the root reads the goal in block 0
    assert ko["layer"] == 0 and ko["head"] == 0 and ko["loss_increase"] > 1.0
    assert _knockout(deduction_model(N), ex, v, 2, v.goal_pos)["layer"] is None  # no block 2


def test_the_level_a_head_reads_is_judged_by_its_rate_per_step_not_its_summed_attention():
    """Level 0 is ahead at every scored step, level 2 only early on long paths: a head giving
    >a_0 0.3 and >a_2 0.6 whenever each is ahead reads level 2, though its attention summed over
    steps is larger on level 0 (14 steps × 0.3 = 4.2 against 2 steps × 0.6 = 1.2)."""
    v = Vocab(N)
    tok = torch.cat([rows(8, 1, 4), rows(2, 3, 5)])
    facts = row_facts(tok, v)
    t = v.width - 1
    pat = torch.zeros(2, len(tok), 1, t, t)
    pat[..., 0] = 1.0
    for r, f in enumerate(facts):
        length = len(f.path) - 1
        for j in range(length):
            q, below = v.root_pos + j, f.ancestors[: length - j]
            pat[1, r, 0, q, 0] = 0.7
            pat[1, r, 0, q, f.target_pos[below[0]]] = 0.3
            if len(below) > 2:
                pat[1, r, 0, q, 0] = 0.1
                pat[1, r, 0, q, f.target_pos[below[2]]] = 0.6
    d = deduction_scores(pat, facts, v)
    assert d["by_level"][1][0][:3] == pytest.approx([0.3, 0.0, 0.6])
    assert d["level"][1] == [2]


def test_the_goal_is_compared_with_uniform_attention_prompt_by_prompt():
    from algolens.analysis.pathfinding.mechanism_attention import goal_per_prompt

    v = Vocab(N)
    t = v.width - 1
    pat = torch.zeros(2, 3, 2, t, t)
    pat[0, :, 1, v.root_pos, v.goal_pos] = torch.tensor([0.5, 0.2, 0.8])
    got = goal_per_prompt(pat, v, 0)
    assert got["head"] == 1 and got["attention"] == pytest.approx([0.5, 0.2, 0.8])
    assert got["chance"] == pytest.approx(1 / (3 * N))  # the root sees positions 0..3N-1


def test_the_edge_probe_is_kept_prompt_by_prompt_beside_a_shuffled_label_probe(found):
    pp = found["edge_concat"]["per_prompt"]
    labels = torch.tensor(pp["labels"])  # [position, prompt]
    after, shuffled = torch.tensor(pp["pred"][1]), torch.tensor(pp["shuffled_pred"][1])
    assert pp["layers"] == [0, 1] and labels.shape == (3, found["n_test"])
    assert (after == labels).all()  # block 0 copies every edge's source to its target
    assert (shuffled == labels).float().mean() < 0.5  # shuffled labels: the stream cannot help
    assert (torch.tensor(pp["pred"][0]) == labels).float().mean() < 0.6  # nothing before it


def test_uniform_attention_per_level_is_one_over_the_visible_positions():
    v = Vocab(N)
    tok = rows(4, 2, 6)  # length 2: the root (sees 3N positions) has a_0, a_1 ahead, then a_0
    t = v.width - 1
    pat = torch.zeros(1, 4, 1, t, t)
    d = deduction_scores(pat, row_facts(tok, v), v)
    q = v.root_pos + 1
    assert d["uniform_by_level"][:2] == pytest.approx([(1 / q + 1 / (q + 1)) / 2, 1 / q])
    assert d["uniform_by_level"][2] is None


def test_lookahead_groups_the_wrong_childs_log_probability_by_whether_it_has_children():
    from algolens.analysis.pathfinding.mechanism_lookahead import lookahead, sibling_logprobs
    from algolens.tasks.pathfinding.tokens import decode_prompt

    v = Vocab(N)
    tok = rows(40, None, 7)[:, :-1]
    logits = torch.zeros(len(tok), tok.shape[1], len(v))
    for r, row in enumerate(tok.tolist()):  # a model that favours every node with children
        for a, _ in decode_prompt(row[: v.prompt_len], v).edges:
            logits[r, :, v.tgt(a)] = 3.0
    steps = sibling_logprobs(logits, tok, v)
    assert steps and all(0 <= g["step"] < 4 for g in steps)
    la = lookahead(logits, tok, v)
    yes = la["inner"]["with_children"] + la["last"]["with_children"]
    no = la["inner"]["leaf"] + la["last"]["leaf"]
    assert len(yes) + len(no) == len(steps) and yes and no
    assert min(yes) > max(no)  # +3 on the logit of every sibling with children


def test_goal_patching_finds_the_goal_at_its_position_then_at_the_root(found):
    """The hand-built model: layer 0 moves the goal to the root, layer 1 reads >goal there."""
    v = Vocab(N)
    p = found["patching"]
    assert p["n"] > 20 and p["clean"] > p["corrupted"] + 1.0
    layer0, layer1 = p["by_layer"]
    assert layer0["goal"] == pytest.approx(1.0, abs=0.05) and layer0["top_pos"] == v.goal_pos
    assert layer1["root"] == pytest.approx(1.0, abs=0.05) and layer1["top_pos"] == v.root_pos
    assert layer1["goal"] == pytest.approx(0.0, abs=0.05)  # nothing reads it after layer 0


def test_goal_swaps_change_the_first_step():
    from algolens.analysis.pathfinding.mechanism_patching import goal_swaps
    from algolens.tasks.pathfinding.tree import parse_prompt

    v = Vocab(5)
    t = parse_prompt("0>1,0>2,1>3,1>4|3:0", 5)  # leaves 2, 3, 4; only 2 leaves by another child
    row = torch.tensor([encode_prompt(t, v) + encode_path(t.path(), v)])
    clean, corrupt, a, b = goal_swaps(row, v)
    assert corrupt[0, v.goal_pos] == v.src(2) and (clean[0] == row[0, : v.prompt_len]).all()
    assert (a, b) == ([v.tgt(1)], [v.tgt(2)])
    chain = parse_prompt("0>1,1>2,2>3,3>4|4:0", 5)  # one child at the root: no swap
    assert len(goal_swaps(torch.tensor([encode_prompt(chain, v)]), v)[0]) == 0
