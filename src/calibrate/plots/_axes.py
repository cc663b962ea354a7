"""Where a plot draws: on the caller's Axes when one is given, on a new figure otherwise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["axes_for", "finish", "panels_for"]


def _figure_of(ax: Axes) -> Figure:
    """The top-level figure an Axes belongs to (through any subfigures)."""
    from matplotlib.figure import Figure

    fig: Any = ax.figure
    while fig is not None and not isinstance(fig, Figure):
        fig = fig.figure  # a SubFigure: its parent
    if fig is None:
        raise ValueError("ax must belong to a figure")
    return fig


def _check_axes(name: str, ax: object) -> Axes:
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"{name} must be a matplotlib Axes; got {type(ax).__name__}")
    return ax


def axes_for(ax: object, *, figsize: tuple[float, float]) -> tuple[Figure, Axes, bool]:
    """The figure and axes a one-panel plot draws on: ``ax`` (a TypeError if it is not an
    Axes) or a new figure of ``figsize``. The flag says whether the figure is the plot's
    own, to lay out (see :func:`finish`); a caller's figure is left as the caller made it."""
    if ax is None:
        import matplotlib.pyplot as plt

        fig, new = plt.subplots(figsize=figsize)
        return fig, new, True
    ax = _check_axes("ax", ax)
    return _figure_of(ax), ax, False


def panels_for(ax: object, n: int, **subplots: Any) -> tuple[Figure, list[Axes], bool]:
    """The figure and ``n`` axes a several-panel plot draws on: ``ax`` given as one Axes
    (when ``n`` is 1) or a sequence (or array) of exactly ``n`` Axes of one figure, or a
    new figure from ``plt.subplots(**subplots)``."""
    if ax is None:
        import matplotlib.pyplot as plt

        fig, grid = plt.subplots(squeeze=False, **subplots)
        return fig, list(np.asarray(grid).ravel()), True
    from matplotlib.axes import Axes

    if isinstance(ax, Axes):
        given: list[object] = [ax]
    elif isinstance(ax, Sequence | np.ndarray) and not isinstance(ax, str):
        given = list(np.asarray(ax, dtype=object).ravel())
    else:
        raise TypeError(
            f"ax must be a matplotlib Axes or a sequence of {n}; got {type(ax).__name__}"
        )
    if len(given) != n:
        raise ValueError(f"ax must be {n} Axes for this plot (one per panel); got {len(given)}")
    axes = [_check_axes(f"ax[{i}]", a) for i, a in enumerate(given)]
    figs = {id(_figure_of(a)) for a in axes}
    if len(figs) > 1:
        raise ValueError("ax must all belong to one figure")
    return _figure_of(axes[0]), axes, False


def finish(fig: Figure, own: bool, *, dates: Sequence[Axes] = ()) -> Figure:
    """Lay out a figure the plot made itself (dates on the x axis slanted, tight layout);
    on a caller's figure only slant the date labels of the plot's own ``dates`` axes."""
    if own:
        if dates:
            fig.autofmt_xdate()
        fig.tight_layout()
    else:
        for a in dates:
            for label in a.get_xticklabels():
                label.set_rotation(30)
                label.set_horizontalalignment("right")
    return fig
