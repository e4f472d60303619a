"""The one check of every output file a user names (``compile --out``, ``reproduce --doc``,
``group export``), made before any work starts.

A destination is accepted only if it is a new name in an existing folder, or an existing regular
file (which is then replaced atomically, see :mod:`algolens.fileio`). Refused, with nothing
written or created:

* an empty path, a folder, a device, a FIFO or a socket;
* a symlink, dangling or not (writing would go wherever it points);
* a name whose folder does not exist (no folder is ever created for it);
* a place inside a run store's ``runs/`` folder, or its ``index.sqlite`` (a user path never
  overwrites a run's files): those of the store the command uses, and of any folder holding an
  ``index.sqlite``.

Examples:
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> check_destination(os.path.join(folder, "out.json")).name
    'out.json'
    >>> check_destination(os.path.join(folder, "missing", "out.json"))
    Traceback (most recent call last):
    ...
    algolens.errors.DestinationError: cannot write ... folder ... does not exist; create it first
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from algolens.errors import DestinationError

INDEX_FILE = "index.sqlite"
RUNS_DIR = "runs"


def check_destination(
    path: str | os.PathLike, *, what: str = "output", store: str | os.PathLike | None = None
) -> Path:
    """``path`` as a :class:`Path` if writing a file there is safe (see the module docstring).

    Args:
        path: the destination the user named.
        what: how the message names it (``--out``, ``--doc``...).
        store: the run store of the command, refused as a destination even before its index
            exists.

    Raises:
        DestinationError: the destination is refused; the message says why and what to give.
    """
    text = os.fspath(path)
    if not text:
        raise DestinationError(f"{what} is empty; give a file name")
    dest = Path(text)
    where = f"cannot write {what} {text!r}"
    try:
        st = os.lstat(dest)
    except FileNotFoundError:
        st = None
    except OSError as exc:  # a file used as a folder (ENOTDIR), a name too long...
        raise DestinationError(f"{where}: {exc.strerror or exc}; give another path") from None
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise DestinationError(
            f"{where}: it is a symlink, and writing would go to wherever it points; "
            "give the real file's path or a new name"
        )
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise DestinationError(f"{where}: it is {file_kind(st.st_mode)}; give a regular file name")
    parent = dest.parent
    if st is None and not parent.is_dir():
        raise DestinationError(f"{where}: folder {str(parent)!r} does not exist; create it first")
    _refuse_run_store(dest, where, store)
    return dest


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, in words (``a FIFO``...)."""
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symlink"),
    ]
    return next((word for test, word in kinds if test(mode)), "not a regular file")


def _refuse_run_store(dest: Path, where: str, store: str | os.PathLike | None) -> None:
    """Refuse ``dest`` inside ``<store>/runs`` or the ``runs/`` of any folder with an index, and
    a store's index itself."""
    folder = Path(os.path.realpath(dest.parent))
    roots = [Path(os.path.realpath(store))] if store is not None and os.fspath(store) else []
    if dest.name.startswith(INDEX_FILE) and (folder in roots or (folder / INDEX_FILE).is_file()):
        raise DestinationError(
            f"{where}: it is the run store's index; give a path outside the run store"
        )
    for ancestor in (folder, *folder.parents):
        if ancestor.name != RUNS_DIR:
            continue
        store_root = ancestor.parent
        if store_root in roots or (store_root / INDEX_FILE).is_file():
            raise DestinationError(
                f"{where}: it is inside the run store's {str(ancestor)!r}, whose files only "
                "algolens writes; give a path outside the store's runs/ folder"
            )
