"""Import profiles as YAML: strict keys (named, with path and line), safe YAML, round trips."""

from __future__ import annotations

import pytest

from calibrate.io import (
    BUILTIN_PROFILES,
    Profile,
    ProfileError,
    get_profile,
    load_profile,
    parse_profile,
    profile_to_yaml,
)

MINIMAL = """\
name: mine
submission: Submission
reviewer: Reviewer
criteria:
  - pattern: 'Q \\[(?P<criterion>.+)\\]'
"""


def problems(text: str) -> list:
    with pytest.raises(ProfileError) as info:
        parse_profile(text, source="p.yaml")
    return list(info.value.problems)


@pytest.mark.parametrize("name", list(BUILTIN_PROFILES), ids=list(BUILTIN_PROFILES))
def test_builtins_round_trip_through_yaml(name):
    profile = BUILTIN_PROFILES[name]
    assert parse_profile(profile_to_yaml(profile)) == profile
    assert get_profile(name) is profile


def test_minimal_profile_reads_with_defaults():
    p = parse_profile(MINIMAL)
    assert p.layout == "wide" and p.other_columns == "unmapped" and p.time is None
    assert p.submission[0].column == "Submission"
    assert parse_profile(profile_to_yaml(p)) == p


def test_unknown_top_level_key_is_named_with_line():
    got = problems(MINIMAL + "revewer: R\n")
    assert len(got) == 1
    assert "unknown key 'revewer'" in got[0].message
    assert got[0].field == "revewer" and got[0].line == 6 and got[0].file == "p.yaml"


def test_unknown_nested_keys_are_all_named():
    text = MINIMAL + "time: {column: T, formt: '%d'}\ncomments:\n  - {colum: Notes}\n"
    got = problems(text)
    fields = sorted(p.field for p in got)
    assert "time.formt" in fields
    assert any(f.startswith("comments[0]") for f in fields)
    assert all(p.line is not None for p in got)


def test_missing_required_key():
    got = problems("name: x\nreviewer: R\ncriteria: [{pattern: '(?P<criterion>.+)'}]\n")
    assert [p.message for p in got] == ["required key 'submission' is missing"]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("ignore: [{contains: a, pattern: b}]\n", "exactly one of column, contains, pattern"),
        ("round: {pattern: '('}\n", "not a regular expression"),
        ("time: {column: T, format: 'DD/MM/YYYY'}\n", "neither 'iso' nor a strptime format"),
        ("submission_attributes: {District: D}\n", "must be snake_case"),
        ("layout: long\n", "layout long needs criterion and score"),
        ("time: {column: T, timezone: Central}\n", "IANA zone name"),
    ],
    ids=[
        "two-selector-keys",
        "bad-regex",
        "bad-format",
        "attribute-name",
        "long-needs-columns",
        "zone",
    ],
)
def test_bad_values_are_explained(extra, words):
    got = problems(MINIMAL + extra)
    assert any(words in p.message for p in got), [p.message for p in got]


def test_criterion_pattern_needs_its_group():
    got = problems("name: x\nsubmission: S\nreviewer: R\ncriteria: [{pattern: 'Q .+'}]\n")
    assert any("needs a (?P<criterion>...) group" in p.message for p in got)


def test_yaml_aliases_and_tags_are_refused():
    got = problems("name: &n x\nsubmission: *n\nreviewer: R\ncriteria: []\n")
    assert got[0].message == "YAML alias *n is not allowed in a profile" and got[0].line == 2
    got = problems("name: !!python/object:os.system x\n")
    assert "not allowed" in got[0].message or "not valid YAML" in got[0].message


def test_duplicate_keys_are_refused():
    got = problems(MINIMAL + "name: again\n")
    assert "appears twice" in got[0].message


def test_load_profile_file_and_errors(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert isinstance(load_profile(path), Profile)
    assert get_profile(str(path)) == load_profile(path)
    with pytest.raises(FileNotFoundError):
        load_profile(tmp_path / "none.yaml")
    with pytest.raises(ValueError, match="profile must be one of 'long', 'wide'"):
        get_profile("gogle-forms")
    with pytest.raises(TypeError, match="profile must be"):
        get_profile(3)  # type: ignore[arg-type]
    path.write_bytes(b"name: \xff\n")
    with pytest.raises(ProfileError, match="not a UTF-8 text file"):
        load_profile(path)


def test_the_sample_profile_loads():
    p = load_profile("data/samples/profile-custom.yaml")
    assert p.name == "lms-gradebook" and p.time is not None and p.time.timezone == "Europe/Berlin"
