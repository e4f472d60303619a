"""Task tests train and decode small transformers: one torch thread each (the models' fixture)."""

from tests.models.conftest import _one_thread  # noqa: F401  (autouse fixture)
