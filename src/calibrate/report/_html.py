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
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;padding:0 1em;max-width:1100px;color:#222;line-height:1.45;overflow-wrap:anywhere}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
.scroll{overflow-x:auto;max-width:100%}details summary{cursor:pointer;color:#1a4f8a}
table{border-collapse:collapse;font-size:.9em;margin:.6em 0}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.note{color:#555;font-size:.9em}.warn{background:#fff6e0;border-left:4px solid #e0a000;padding:.4em .8em}
.privacy{font-size:.9em;padding:.3em .8em;border-radius:3px;display:inline-block}
.privacy.hidden-ids{background:#e6f4ea;color:#0b5d1e}.privacy.real-ids{background:#fde8e8;color:#8a1c1c}
dl.inputs{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;font-size:.9em}dl.inputs dt{font-weight:600}dl.inputs dd{margin:0}
img{max-width:100%;height:auto}
@media (max-width:600px){body{margin:.5em auto}h1{font-size:1.3em}table{font-size:.8em}dl.inputs{grid-template-columns:1fr}}
"""

#: The privacy line at the top of a page (``HtmlReport.pseudonymised``).
PRIVACY_LINES = {
    True: "pseudonymised: reviewer and submission ids are keyed pseudonyms",
    False: "contains real ids: share only inside the program",
    "no ids": "no reviewer or submission ids on this page",
}


@dataclass
class HtmlReport:
    """Build a report section by section, then :meth:`write` one self-contained file."""

    title: str
    parts: list[str] = field(default_factory=list)
    #: Whether the page's ids are pseudonyms (a line at the top says which); ``"no ids"``:
    #: the page shows none; None: unsaid.
    pseudonymised: bool | str | None = None
    #: What produced the page (files, rubric and its version, options, kit version), shown
    #: at its end; set it with :meth:`provenance`.
    inputs: dict[str, str] = field(default_factory=dict)

    def provenance(
        self, *, pseudonymised: bool, inputs: dict[str, object], ids: bool = True
    ) -> HtmlReport:
        """Say whether the page's ids are pseudonyms (``ids`` False: the page shows no
        reviewer or submission id) and what produced it (the kit's version is added).
        Returns the report, for chaining."""
        from calibrate._version import __version__

        self.pseudonymised = bool(pseudonymised) if ids else "no ids"
        self.inputs = {str(k): str(v) for k, v in inputs.items() if v is not None}
        self.inputs.setdefault("calibrate version", __version__)
        return self

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
            '<div class="scroll">'
            + shown.to_html(
                index=False, escape=True, na_rep="", float_format=lambda x: f"{x:.{digits}f}"
            )
            + "</div>"
        )

    def kit_html(self, fragment: str) -> None:
        """A fragment of HTML that the kit built and escaped itself (e.g.
        :meth:`RoundResult.reviewer_table_html <calibrate.calibration.RoundResult.reviewer_table_html>`),
        added as it is, in a scrolling box; never pass text from data here."""
        self.parts.append(f'<div class="scroll">{fragment}</div>')

    def figure(self, fig: Figure, *, alt: str) -> None:
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode()
        self.parts.append(f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">')

    def render(self) -> str:
        body = "\n".join(self.parts)
        top = ""
        if self.pseudonymised is not None:
            css = "real-ids" if self.pseudonymised is False else "hidden-ids"
            top = f'<p class="privacy {css}">{html.escape(PRIVACY_LINES[self.pseudonymised])}</p>\n'
        end = ""
        if self.inputs:
            items = "".join(
                f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>"
                for k, v in self.inputs.items()
            )
            end = f'\n<h2>Inputs</h2><dl class="inputs">{items}</dl>'
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(self.title)}</title>"
            f"<style>{_STYLE}</style></head><body>{top}<h1>{html.escape(self.title)}</h1>\n"
            f"{body}{end}\n</body></html>\n"
        )

    def write(self, path: str | Path) -> Path:
        """Write the file (to a temporary name first, so a failure leaves none)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_atomic(path, self.render())
