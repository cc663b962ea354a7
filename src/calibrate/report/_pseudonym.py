"""Stable keyed pseudonyms, so a report can leave the program without names."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calibrate.io import PseudonymCollisionError, refuse_collisions, scrub_text
from calibrate.ratings import RatingsTable

__all__ = [
    "DEFAULT_KEY_FILE",
    "KeyFileError",
    "MIN_KEY_FILE_BYTES",
    "PseudonymCollisionError",
    "Pseudonymizer",
    "load_or_create_key",
]

#: Where the program's pseudonym key lives unless CALIBRATE_PSEUDONYM_KEY or a path is given.
DEFAULT_KEY_FILE = ".calibrate-pseudonym-key"
#: The shortest key a key file may hold (a created one holds 64 hex characters).
MIN_KEY_FILE_BYTES = 16
#: Bytes of the HMAC kept in a pseudonym: 10 bytes = 80 bits = 16 base32 letters. Among a
#: million ids the chance that any two share a pseudonym is about n^2 / 2^81 = 4e-13.
_DIGEST_BYTES = 10
_B32 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", dtype=np.uint8)
_FIVE_BITS = np.array([16, 8, 4, 2, 1], dtype=np.uint8)
#: Key files already warned about (the warning is printed once per file and process).
_WARNED: set[str] = set()


class KeyFileError(ValueError):
    """A pseudonym key file that cannot be used (named in the message)."""


def _warn_if_readable(file: Path, mode: int) -> None:
    if mode & 0o077 and str(file) not in _WARNED:
        _WARNED.add(str(file))
        who = "everyone" if mode & 0o007 else "its group"
        print(
            f"warning: the pseudonym key file {file} can be read by {who} "
            f"(mode {stat.filemode(mode)}); anyone who reads it can trace pseudonyms back: "
            f"chmod 600 {file}",
            file=sys.stderr,
        )


def _read_key(file: Path) -> bytes:
    try:
        info = file.stat()
        key = file.read_bytes().strip()
    except OSError as exc:
        raise KeyFileError(
            f"the pseudonym key file {file} cannot be read ({exc.strerror or exc})"
        ) from None
    if len(key) < MIN_KEY_FILE_BYTES:
        what = "is empty" if not key else f"holds only {len(key)} bytes"
        raise KeyFileError(
            f"the pseudonym key file {file} {what}; a key needs at least {MIN_KEY_FILE_BYTES}. "
            "If it was never used (e.g. a first write that failed), delete it and a new key "
            "is made; if reports were made with it, restore it from your backup (a new key "
            "gives every id a new pseudonym)"
        )
    _warn_if_readable(file, info.st_mode)
    return key


def load_or_create_key(path: str | Path | None = None) -> bytes:
    """The program's secret key: ``$CALIBRATE_PSEUDONYM_KEY`` if set, else the file
    ``path`` (default ``.calibrate-pseudonym-key`` in the working folder), created with a
    fresh random key (mode 0600, readable by its owner only) on first use. Keep the file to
    keep pseudonyms stable across reports; share it with nobody outside the program.

    The file is created whole or not at all (written to a temporary file in the same
    folder, flushed, then linked into place), so a full disk leaves no empty key file, and
    two programs creating it at once end up with the same key. A key file another user can
    read gets a warning on stderr (once); an empty or short one (under
    ``MIN_KEY_FILE_BYTES``) is refused with its name.

    Raises
    ------
    KeyFileError
        (a ``ValueError``) naming the file, when it cannot be read, created or used.

    References
    ----------
    RFC 2104, HMAC: keys shorter than the hash output weaken the MAC.
    """
    env = os.environ.get("CALIBRATE_PSEUDONYM_KEY")
    if env:
        return env.encode()
    file = Path(path or DEFAULT_KEY_FILE)
    if file.is_dir():
        raise KeyFileError(f"the pseudonym key path {file} is a folder; give the key file's path")
    if file.exists():
        return _read_key(file)
    key = secrets.token_hex(32).encode()
    try:
        _create(file, key + b"\n")
    except FileExistsError:  # made by another process meanwhile: use that one
        return _read_key(file)
    except OSError as exc:
        raise KeyFileError(
            f"the pseudonym key file {file} cannot be created ({exc.strerror or exc}); "
            "nothing was written"
        ) from None
    return key


def _create(file: Path, data: bytes) -> None:
    """Write ``data`` to a new file ``file`` (mode 0600) whole, or leave nothing."""
    fd, name = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:  # mkstemp makes it 0600
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, file)  # atomic, and never over a key made meanwhile
        except FileExistsError:
            raise
        except OSError:  # a filesystem without hard links
            os.replace(tmp, file)
    finally:
        tmp.unlink(missing_ok=True)


class Pseudonymizer:
    """Replace ids with ``<prefix>-<16 letters>`` derived by HMAC-SHA256 under a secret key.

    The 16 letters are the base32 spelling of the first 80 bits of
    HMAC-SHA256(key, prefix + NUL + id). The same id always gets the same pseudonym under
    the same key (so reports can be compared over time), and without the key a pseudonym
    cannot be traced back. Every method that maps many ids checks that no two distinct ids
    share a pseudonym and raises :class:`PseudonymCollisionError` rather than merge them.

    >>> p = Pseudonymizer(b"program secret")
    >>> p("R017", "R") == p("R017", "R"), p("R017", "R") != p("R018", "R")
    (True, True)
    >>> p("R017", "R")
    'R-...'
    >>> len(p("R017", "R"))
    18

    References
    ----------
    RFC 2104 (HMAC); RFC 4648 section 6 (base32).
    """

    def __init__(self, key: bytes):
        if not key:
            raise ValueError("key must be non-empty bytes")
        self._key = key

    def __call__(self, value: str, prefix: str) -> str:
        digest = hmac.digest(self._key, f"{prefix}\x00{value}".encode(), "sha256")
        return f"{prefix}-{base64.b32encode(digest[:_DIGEST_BYTES]).decode().rstrip('=')}"

    def mapping(self, values: Iterable[object], prefix: str, *, what: str = "id") -> dict[str, str]:
        """Each distinct value (as text) -> its pseudonym; refuses a collision.

        Raises
        ------
        PseudonymCollisionError
            When two distinct values get the same pseudonym (naming both).

        >>> Pseudonymizer(b"k" * 64).mapping(["S1", "S2", "S1"], "S").keys()
        dict_keys(['S1', 'S2'])
        """
        texts = list(dict.fromkeys(str(v) for v in values))
        aliases = self._many(texts, prefix)
        table = dict(zip(texts, aliases, strict=True))
        refuse_collisions(table, what)
        return table

    def _many(self, texts: list[str], prefix: str) -> list[str]:
        """``[self(t, prefix) for t in texts]``, with the base32 spelling done by numpy
        (a million ids in about a second and a half of HMAC on an idle core)."""
        if _DIGEST_BYTES != 10 or not texts:  # the array spelling needs 10 bytes = 16 letters
            return [self(t, prefix) for t in texts]
        # HMAC-SHA256 from its two padded-key states (RFC 2104 section 2), copied per id:
        # the same digest as hmac.digest, without setting up the key a million times
        key = self._key if len(self._key) <= 64 else hashlib.sha256(self._key).digest()
        key = key.ljust(64, b"\0")
        inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        inner.update(f"{prefix}\x00".encode())
        outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

        def mac(text: str, ic: Any = inner.copy, oc: Any = outer.copy) -> bytes:
            i = ic()
            i.update(text.encode())
            o = oc()
            o.update(i.digest())
            return o.digest()[:10]

        raw = b"".join([mac(t) for t in texts])
        bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8).reshape(-1, 10), axis=1)
        letters = _B32[bits.reshape(-1, 16, 5) @ _FIVE_BITS]
        spelled = letters.view("S16").ravel().tobytes().decode("ascii")
        return [f"{prefix}-{spelled[i : i + 16]}" for i in range(0, len(spelled), 16)]

    def table(self, ratings: RatingsTable) -> RatingsTable:
        """The ratings with reviewer and submission ids replaced (categories renamed, so
        every analysis of the result carries pseudonyms only). The source file's name is
        replaced by ``"input 1"``: a file name can name a person."""
        f = ratings.frame.copy()
        for col, prefix in (("reviewer_id", "R"), ("submission_id", "S")):
            cats = f[col].cat.categories
            table = self.mapping(cats, prefix, what=col)
            new = pd.Index([table[str(c)] for c in cats], dtype=object)
            f[col] = f[col].cat.rename_categories(new).cat.reorder_categories(new.sort_values())
        source = None if ratings.source is None else "input 1"
        return RatingsTable(f, ratings.rubric, source)

    def scrub(
        self,
        texts: Iterable[object],
        *,
        reviewers: Iterable[object] = (),
        submissions: Iterable[object] = (),
        names: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Free text (rationales, comments) fit for a pseudonymised output: each reviewer
        and submission id written in it becomes its pseudonym, each e-mail address
        ``[e-mail]``, and each person's name in ``names`` (name -> the reviewer or
        submission id it belongs to) the pseudonym of that id (see
        :func:`calibrate.io.scrub_text`; matching ignores case).

        >>> p = Pseudonymizer(b"k" * 32)
        >>> out = p.scrub(["Agreed with R002 on S9; ask ann.lee@x.org"], reviewers=["R002"],
        ...               submissions=["S9"])
        >>> out[0] == f"Agreed with {p('R002', 'R')} on {p('S9', 'S')}; ask [e-mail]"
        True
        """
        replace = self.mapping(reviewers, "R", what="reviewer_id")
        subs = self.mapping(submissions, "S", what="submission_id")
        replace.update(subs)
        for name, owner in (names or {}).items():
            owner = str(owner)
            replace[str(name)] = replace.get(owner) or self(owner, "P")
        return scrub_text(texts, replace)

    def frame(self, frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
        """A copy of ``frame`` with each column in ``columns`` (name -> prefix) pseudonymized.
        List-valued cells (e.g. anchors missed) are mapped element by element."""
        out = frame.copy()
        for col, prefix in columns.items():
            if col not in out.columns:
                continue
            values = [
                x
                for v in out[col]
                for x in (v if isinstance(v, list) else [v])
                if isinstance(v, list) or not pd.isna(x)
            ]
            table = self.mapping(values, prefix, what=col)
            out[col] = out[col].map(
                lambda v, t=table: (
                    [t[str(x)] for x in v]
                    if isinstance(v, list)
                    else (v if pd.isna(v) else t[str(v)])
                )
            )
        return out
