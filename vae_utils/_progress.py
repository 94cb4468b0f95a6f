"""Whether long work shows a progress bar: the one place that reads the ``CI`` variable."""

from __future__ import annotations

import os


def show_progress(progress: bool | None) -> bool:
    """``progress`` if given; by default bars show, except where ``CI`` is set (short logs).

    Example:
        >>> show_progress(True)
        True
    """
    return (not os.environ.get("CI")) if progress is None else bool(progress)
