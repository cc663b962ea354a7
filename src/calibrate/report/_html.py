"""Self-contained HTML reports: inline style, plots as embedded PNG, every text escaped."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from calibrate._atomic import write_atomic

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["HtmlReport"]

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em;margin:.6em 0}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.note{color:#555;font-size:.9em}.warn{background:#fff6e0;border-left:4px solid #e0a000;padding:.4em .8em}
img{max-width:100%}
"""


@dataclass
class HtmlReport:
    """Build a report section by section, then :meth:`write` one self-contained file."""

    title: str
    parts: list[str] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.parts.append(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str, *, css: str = "") -> None:
        cls = f' class="{css}"' if css else ""
        self.parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def bullets(self, items: Sequence[str], *, css: str = "") -> None:
        if items:
            cls = f' class="{css}"' if css else ""
            self.parts.append(
                f"<ul{cls}>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"
            )

    def table(self, frame: pd.DataFrame, *, digits: int = 2) -> None:
        shown = frame.copy()
        for col in shown.columns:
            if shown[col].map(lambda v: isinstance(v, list)).any():
                shown[col] = shown[col].map(
                    lambda v: "; ".join(map(str, v)) if isinstance(v, list) else v
                )
        self.parts.append(
            shown.to_html(
                index=False, escape=True, na_rep="", float_format=lambda x: f"{x:.{digits}f}"
            )
        )

    def figure(self, fig: Figure, *, alt: str) -> None:
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode()
        self.parts.append(f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">')

    def render(self) -> str:
        body = "\n".join(self.parts)
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(self.title)}</title>'
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(self.title)}</h1>\n{body}\n</body></html>\n"
        )

    def write(self, path: str | Path) -> Path:
        """Write the file (to a temporary name first, so a failure leaves none)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_atomic(path, self.render())
