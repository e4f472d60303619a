"""Datasets: each task knows its vocabulary, its seeded split and its ground truth."""

from algolens.tasks.base import Task, TaskFormat, random_split
from algolens.tasks.composition import CompositionTask

__all__ = ["CompositionTask", "Task", "TaskFormat", "random_split"]
