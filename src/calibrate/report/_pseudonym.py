"""Stable keyed pseudonyms, so a report can leave the program without names."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pandas as pd

from calibrate.ratings import RatingsTable

__all__ = ["DEFAULT_KEY_FILE", "Pseudonymizer", "load_or_create_key"]

#: Where the program's pseudonym key lives unless CALIBRATE_PSEUDONYM_KEY or a path is given.
DEFAULT_KEY_FILE = ".calibrate-pseudonym-key"


def load_or_create_key(path: str | Path | None = None) -> bytes:
    """The program's secret key: ``$CALIBRATE_PSEUDONYM_KEY`` if set, else the file
    ``path`` (default ``.calibrate-pseudonym-key`` in the working folder), created with a
    fresh random key (readable by its owner only) on first use. Keep the file to keep
    pseudonyms stable across reports; share it with nobody outside the program."""
    env = os.environ.get("CALIBRATE_PSEUDONYM_KEY")
    if env:
        return env.encode()
    file = Path(path or DEFAULT_KEY_FILE)
    if file.is_file():
        return file.read_bytes().strip()
    key = secrets.token_hex(32).encode()
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key + b"\n")
    return key


class Pseudonymizer:
    """Replace ids with ``<prefix>-<8 letters>`` derived by HMAC-SHA256 under a secret key.

    The same id always gets the same pseudonym under the same key (so reports can be
    compared over time), and without the key a pseudonym cannot be traced back.

    >>> p = Pseudonymizer(b"program secret")
    >>> p("R017", "R") == p("R017", "R"), p("R017", "R") != p("R018", "R")
    (True, True)
    >>> p("R017", "R")
    'R-...'
    """

    def __init__(self, key: bytes):
        if not key:
            raise ValueError("key must be non-empty bytes")
        self._key = key

    def __call__(self, value: str, prefix: str) -> str:
        digest = hmac.new(self._key, f"{prefix}\x00{value}".encode(), hashlib.sha256).digest()
        return f"{prefix}-{base64.b32encode(digest[:5]).decode()}"

    def table(self, ratings: RatingsTable) -> RatingsTable:
        """The ratings with reviewer and submission ids replaced (categories renamed, so
        every analysis of the result carries pseudonyms only)."""
        f = ratings.frame.copy()
        for col, prefix in (("reviewer_id", "R"), ("submission_id", "S")):
            cats = f[col].cat.categories
            new = pd.Index([self(str(c), prefix) for c in cats], dtype=object)
            f[col] = f[col].cat.rename_categories(new).cat.reorder_categories(new.sort_values())
        return RatingsTable(f, ratings.rubric, ratings.source)

    def frame(self, frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
        """A copy of ``frame`` with each column in ``columns`` (name -> prefix) pseudonymized.
        List-valued cells (e.g. anchors missed) are mapped element by element."""
        out = frame.copy()
        for col, prefix in columns.items():
            if col not in out.columns:
                continue
            out[col] = out[col].map(
                lambda v, p=prefix: (
                    [self(str(x), p) for x in v]
                    if isinstance(v, list)
                    else (v if pd.isna(v) else self(str(v), p))
                )
            )
        return out
