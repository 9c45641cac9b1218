"""Where a History keeps its snapshots on disk: a new folder per History, inside the folder the
user names, so that a rerun never mixes in an earlier run's files and two histories never
overwrite each other's (``epoch_<epoch>.pt`` names repeat from run to run)."""

from __future__ import annotations

import os
import pathlib
import tempfile
import time


def run_folder(directory: str | os.PathLike) -> pathlib.Path:
    """A new, empty folder ``run-<date>-<time>-<random>`` inside ``directory`` (made if need be).
    Earlier runs' folders are left as they are."""
    parent = pathlib.Path(directory)
    if parent.exists() and not parent.is_dir():
        raise NotADirectoryError(f"directory={str(directory)!r} is a file, not a folder")
    parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return pathlib.Path(tempfile.mkdtemp(prefix=f"run-{stamp}-", dir=parent))
