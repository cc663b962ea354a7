"""The session's pages: server-rendered HTML, inline style, every text escaped.

Nothing here reads the store: each function gets exactly what its page may show, so a
reviewer's page cannot leak what it was never given (the key and other reviewers' work
while the round is open).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from calibrate.rubric import Rubric

__all__ = ["denied_page", "lead_page", "problems_page", "results_page", "reviewer_page"]

# Selection at >= 3:1 against white: #1d4ed8 is 6.7:1 (WCAG 2.1, 1.4.11 non-text contrast).
_STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;padding:.8em;max-width:860px;color:#1a1a1a;line-height:1.45;overflow-wrap:anywhere}
h1{font-size:1.35em;margin:.2em 0}h2{font-size:1.15em;margin:1.4em 0 .4em;border-bottom:1px solid #ccc}
.meta{color:#444}.done{color:#14532d;font-weight:600}.todo{color:#7c2d12;font-weight:600}
nav ol{padding-left:1.4em}
fieldset{border:1px solid #999;border-radius:4px;margin:.7em 0;padding:.4em .7em}
legend{font-weight:600;padding:0 .3em}
label.level{display:flex;gap:.6em;align-items:flex-start;padding:.45em .5em;margin:.25em 0;border:2px solid #d4d4d4;border-radius:4px;cursor:pointer}
label.level:has(input:checked){border-color:#1d4ed8;background:#eff4ff}
label.level input{margin-top:.25em;accent-color:#1d4ed8;width:1.15em;height:1.15em;flex:none}
input:focus-visible,textarea:focus-visible,button:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
.desc{display:block;color:#333;font-size:.92em}
textarea{width:100%;min-height:5em;font:inherit;padding:.4em}
button{font:inherit;padding:.5em 1.4em;background:#1d4ed8;color:#fff;border:0;border-radius:4px;cursor:pointer}
.ok{background:#e7f6ec;border-left:4px solid #15803d;padding:.4em .8em}
.bad{background:#fdecec;border-left:4px solid #b91c1c;padding:.4em .8em}
table{border-collapse:collapse;margin:.5em 0;font-size:.95em}th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f1f1f1}.scroll{overflow-x:auto}
@media (max-width:420px){body{padding:.5em}h1{font-size:1.2em}table{font-size:.85em}}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: str) -> str:
    """A whole page: no script, no external fetch (no fonts, icons or style sheets)."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def denied_page() -> str:
    """The one page every refused link gets (it says nothing about why: a guesser learns
    nothing)."""
    return page(
        "Link not valid",
        "<h1>This link does not open a calibration session</h1>"
        "<p>It may be mistyped, expired or replaced by a newer link. "
        "Ask the lead of your calibration round for a new link.</p>",
    )


def problems_page(title: str, problems: Sequence[str], back: str | None = None) -> str:
    items = "".join(f"<li>{_e(p)}</li>" for p in problems)
    link = f'<p><a href="{_e(back)}">Back to your anchors</a></p>' if back else ""
    return page(
        title, f'<h1>{_e(title)}</h1><div class="bad" role="alert"><ul>{items}</ul></div>{link}'
    )


def _header(rubric: Rubric, round_id: str, reviewer_id: str, done: int, total: int) -> str:
    return (
        f"<h1>{_e(rubric.title)}</h1>"
        f'<p class="meta">Calibration round <b>{_e(round_id)}</b> &middot; rubric '
        f"{_e(rubric.id)} v{_e(rubric.version)} &middot; reviewer <b>{_e(reviewer_id)}</b></p>"
        f'<p><span class="done">{done} done</span> &middot; '
        f'<span class="todo">{total - done} to do</span> of {total} anchors</p>'
    )


def reviewer_page(
    *,
    rubric: Rubric,
    round_id: str,
    reviewer_id: str,
    anchors: Sequence[str],
    entries: Mapping[str, Mapping[str, Any]],
    action: str,
    csrf: str,
    max_rationale: int,
    saved: str | None = None,
) -> str:
    """A reviewer's scoring page while the round is open: their own anchors in their order,
    each a form of labelled radio groups, their own entries filled in."""
    need = set(rubric.criterion_ids)
    done = [a for a in anchors if need <= set(entries.get(a, {}).get("scores", {}))]
    nav = "".join(
        f'<li><a href="#a-{_e(a)}">{_e(a)}</a> &mdash; '
        + ('<span class="done">done</span>' if a in done else '<span class="todo">to do</span>')
        + "</li>"
        for a in anchors
    )
    parts = [_header(rubric, round_id, reviewer_id, len(done), len(anchors))]
    if saved is not None:
        parts.append(f'<p class="ok" role="status">Saved your scores of {_e(saved)}.</p>')
    parts.append(
        '<p class="meta">You can correct an entry until the round closes; every change is kept.</p>'
    )
    parts.append(f'<nav aria-label="Your anchors"><ol>{nav}</ol></nav>')
    for n, a in enumerate(anchors):
        mine = entries.get(a, {})
        scores: Mapping[str, int] = mine.get("scores", {})
        state = "done" if a in done else "to do"
        fields = []
        for c in rubric.criteria:
            radios = []
            for lv in c.levels:
                rid = f"a{n}-{c.id}-{lv.score}"
                checked = " checked" if scores.get(c.id) == lv.score else ""
                desc = f'<span class="desc">{_e(lv.descriptor)}</span>' if lv.descriptor else ""
                radios.append(
                    f'<label class="level" for="{_e(rid)}"><input type="radio" id="{_e(rid)}" '
                    f'name="score:{_e(c.id)}" value="{lv.score}" required{checked}>'
                    f"<span><b>{lv.score} {_e(lv.label)}</b>{desc}</span></label>"
                )
            about = f'<p class="desc">{_e(c.description)}</p>' if c.description else ""
            fields.append(
                f"<fieldset><legend>{_e(c.name)}</legend>{about}{''.join(radios)}</fieldset>"
            )
        parts.append(
            f'<section id="a-{_e(a)}" aria-labelledby="h-{n}"><h2 id="h-{n}">Anchor {_e(a)} '
            f'<small>({state})</small></h2><form method="post" action="{_e(action)}">'
            f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
            f'<input type="hidden" name="submission" value="{_e(a)}">'
            + "".join(fields)
            + f'<label for="r{n}"><b>Rationale</b> (optional)</label>'
            f'<textarea id="r{n}" name="rationale" maxlength="{max_rationale}">'
            f"{_e(mine.get('rationale', ''))}</textarea>"
            f'<p><button type="submit">Save {_e(a)}</button></p></form></section>'
        )
    return page(f"Round {round_id}: {reviewer_id}", "".join(parts))


def results_page(
    *,
    rubric: Rubric,
    round_id: str,
    reviewer_id: str,
    anchors: Sequence[str],
    mine: pd.DataFrame,
    summary: Mapping[str, Any] | None,
    to_discuss: pd.DataFrame,
) -> str:
    """A reviewer's page after the round closed: their scores beside the key's, their
    qualification, and the anchors the group will discuss (no other reviewer's work)."""
    done = int(mine["submission_id"].nunique()) if len(mine) else 0
    parts = [_header(rubric, round_id, reviewer_id, done, len(anchors))]
    parts.append('<p class="meta">The round is closed: your scores beside the answer key.</p>')
    if summary is not None:
        notes = list(summary.get("reasons", [])) + list(summary.get("warnings", []))
        if done < len(anchors):
            notes.append(
                f"you scored {done} of your {len(anchors)} anchors: the result covers those only"
            )
        reasons = "".join(f"<li>{_e(r)}</li>" for r in notes)
        parts.append(
            f"<h2>Your result: {_e(summary['status'])}</h2><p>Exact agreement "
            f"{_pct(summary['exact_agreement'])}, within one level {_pct(summary['adjacent_agreement'])}, "
            f"decision agreement {_pct(summary['decision_agreement'])}.</p>"
            + (f"<ul>{reasons}</ul>" if reasons else "")
        )
    else:
        parts.append("<p>No answer key covers the anchors you scored yet.</p>")
    names = {c.id: c.name for c in rubric.criteria}
    for a in anchors:
        rows = mine[mine["submission_id"] == a]
        if rows.empty:
            parts.append(f"<h2>Anchor {_e(a)}</h2><p>You did not score this anchor.</p>")
            continue
        body = "".join(
            f"<tr><td>{_e(names.get(r.criterion_id, r.criterion_id))}</td><td>{_e(r.score)}</td>"
            f"<td>{_e(r.key_score)}</td><td>{_e(r.key_rationale)}</td></tr>"
            for r in rows.itertuples()
        )
        parts.append(
            f'<h2>Anchor {_e(a)}</h2><div class="scroll"><table><thead><tr><th>Criterion</th>'
            f"<th>Your score</th><th>Key</th><th>Key rationale</th></tr></thead>"
            f"<tbody>{body}</tbody></table></div>"
        )
    if len(to_discuss):
        items = "".join(
            f"<li>{_e(r.submission_id)} &mdash; furthest from the key on "
            f"{_e(names.get(r.worst_criterion, r.worst_criterion))}</li>"
            for r in to_discuss.itertuples()
        )
        parts.append(f"<h2>Anchors to discuss</h2><ol>{items}</ol>")
    return page(f"Round {round_id}: {reviewer_id} results", "".join(parts))


def lead_page(
    *, rubric: Rubric, round_id: str, status: str, progress: Mapping[str, Mapping[str, list[str]]]
) -> str:
    """The lead's live view: per reviewer, anchors done and to do. No scoring, no scores."""
    rows = "".join(
        f"<tr><td>{_e(rev)}</td><td>{len(p['done'])}</td><td>{len(p['to_do'])}</td>"
        f"<td>{_e(', '.join(p['to_do']))}</td></tr>"
        for rev, p in progress.items()
    )
    finished = sum(not p["to_do"] for p in progress.values())
    body = (
        f"<h1>{_e(rubric.title)}: round {_e(round_id)}</h1>"
        f'<p class="meta">Lead view &middot; round {_e(status)} &middot; {finished} of '
        f"{len(progress)} reviewers finished. Reload for the latest.</p>"
        '<div class="scroll"><table><thead><tr><th>Reviewer</th><th>Done</th><th>To do</th>'
        f"<th>Anchors to do</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )
    return page(f"Round {round_id}: lead view", body)


def _pct(x: object) -> str:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if v != v else f"{100 * v:.0f}%"
