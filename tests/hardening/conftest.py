"""Fixtures of the bad-input corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hardening.corpus import build_template_store


@pytest.fixture(scope="session")
def template_store(tmp_path_factory) -> Path:
    """A small store built once; each case works on its own copy."""
    return build_template_store(tmp_path_factory.mktemp("template"))
