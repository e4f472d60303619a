"""One torch thread per causal-toolkit test (tiny hand-built models; see tests/models)."""

from tests.models.conftest import _one_thread  # noqa: F401  (autouse fixture)
