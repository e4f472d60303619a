"""The path-finding task of Brinkmann et al. (2024): trees as edge lists, the path as answer.

Modules: :mod:`.tree` (trees, text format, validation), :mod:`.tokens` (vocabulary and fixed
positions), :mod:`.generate` (random trees), :mod:`.settings` (run settings), :mod:`.dataset`
(the stored rows), :mod:`.task` (packed splits, accuracy by path length). See
docs/pathfinding.md.
"""

from algolens.tasks.pathfinding.dataset import PathfindingDataset, build_dataset
from algolens.tasks.pathfinding.settings import PathfindingArgs
from algolens.tasks.pathfinding.task import PathfindingTask
from algolens.tasks.pathfinding.tokens import Vocab
from algolens.tasks.pathfinding.tree import PathTree, format_prompt, parse_prompt

__all__ = [
    "PathTree",
    "PathfindingArgs",
    "PathfindingDataset",
    "PathfindingTask",
    "Vocab",
    "build_dataset",
    "format_prompt",
    "parse_prompt",
]
