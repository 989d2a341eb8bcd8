"""Semantic versions and the version ranges receivers accept."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seamline.contracts import Version, VersionRange
from seamline.exceptions import ConfigurationError, VersionError

parts = st.integers(min_value=0, max_value=10_000)
versions = st.builds(Version, parts, parts, parts)


# --- Version ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1", Version(1, 0, 0), id="major-only"),
        pytest.param("1.2", Version(1, 2, 0), id="major-minor"),
        pytest.param("1.2.3", Version(1, 2, 3), id="full"),
        pytest.param("0.0.0", Version(0, 0, 0), id="zero"),
        pytest.param("10.20.30", Version(10, 20, 30), id="multi-digit"),
        pytest.param("  4.5.6 \n", Version(4, 5, 6), id="surrounding-whitespace"),
    ],
)
def test_version_parses_one_to_three_parts(text: str, expected: Version) -> None:
    """Missing minor/patch parts read as zero and surrounding whitespace is ignored."""
    assert Version.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("v1.2.3", id="v-prefix"),
        pytest.param("1.2.3.4", id="four-parts"),
        pytest.param("01.2.3", id="leading-zero-major"),
        pytest.param("1.02.3", id="leading-zero-minor"),
        pytest.param("1.2.-3", id="negative"),
        pytest.param("1.2.3-beta.1", id="pre-release"),
        pytest.param("1.2.3+build", id="build-metadata"),
        pytest.param("a.b.c", id="letters"),
        pytest.param("1..2", id="empty-part"),
        pytest.param("1.2.", id="trailing-dot"),
        pytest.param("1.2.3\n4", id="embedded-newline"),
    ],
)
def test_version_rejects_malformed_text(text: str) -> None:
    """Anything but MAJOR[.MINOR[.PATCH]] raises VersionError naming the value and the format."""
    with pytest.raises(VersionError) as caught:
        Version.parse(text)
    message = str(caught.value)
    assert repr(text) in message
    assert "is not a semantic version" in message
    assert "MAJOR.MINOR.PATCH" in message


@pytest.mark.parametrize("value", [pytest.param(1, id="int"), pytest.param(None, id="none")])
def test_version_rejects_non_strings(value: Any) -> None:
    """A non-string, non-Version value raises VersionError instead of a TypeError."""
    with pytest.raises(VersionError, match="is not a semantic version"):
        Version.parse(value)


def test_version_error_is_a_configuration_error() -> None:
    """A bad version is a wiring mistake: VersionError sits under ConfigurationError."""
    with pytest.raises(ConfigurationError):
        Version.parse("nope")


def test_version_parse_passes_a_version_through() -> None:
    """Parsing an existing Version returns that very object."""
    version = Version(1, 2, 3)
    assert Version.parse(version) is version


def test_version_parse_is_stable_across_repeated_calls() -> None:
    """Repeated parses of the same text (the memoised path) give equal versions."""
    first = Version.parse("7.8.9")
    assert Version.parse("7.8.9") == first == Version(7, 8, 9)


def test_version_str_is_always_three_parts() -> None:
    """str() prints MAJOR.MINOR.PATCH even when the input omitted parts."""
    assert str(Version.parse("3")) == "3.0.0"
    assert str(Version.parse("3.1")) == "3.1.0"


def test_version_equality_and_hash_ignore_spelling() -> None:
    """'1', '1.0' and '1.0.0' are the same version, equal and hash-equal."""
    spellings = {Version.parse("1"), Version.parse("1.0"), Version.parse("1.0.0")}
    assert spellings == {Version(1, 0, 0)}


def test_version_orders_numerically_not_lexically() -> None:
    """1.10.0 sorts after 1.9.0 (numeric parts), and all comparison operators agree."""
    low, high = Version.parse("1.9.0"), Version.parse("1.10.0")
    assert low < high
    assert low <= high
    assert high > low
    assert high >= low
    assert low != high
    assert sorted([high, low]) == [low, high]


def test_version_does_not_compare_with_other_types() -> None:
    """Ordering against a non-Version raises TypeError rather than guessing."""
    with pytest.raises(TypeError):
        _ = Version(1) < "2.0.0"


def test_version_is_immutable() -> None:
    """Versions are frozen: assigning a part raises."""
    version = Version(1, 2, 3)
    with pytest.raises(AttributeError):
        setattr(version, "major", 2)  # noqa: B010


@given(versions)
def test_version_str_parse_round_trip(version: Version) -> None:
    """Printing a version and parsing the text back gives the same version."""
    assert Version.parse(str(version)) == version


@given(versions, versions)
def test_version_ordering_matches_tuple_ordering(a: Version, b: Version) -> None:
    """Version comparison is exactly (major, minor, patch) tuple comparison."""
    ta, tb = (a.major, a.minor, a.patch), (b.major, b.minor, b.patch)
    assert (a < b) == (ta < tb)
    assert (a <= b) == (ta <= tb)
    assert (a > b) == (ta > tb)
    assert (a >= b) == (ta >= tb)
    assert (a == b) == (ta == tb)


# --- VersionRange ----------------------------------------------------------------------

RANGE_CASES = [
    # caret: changes that keep the left-most non-zero part
    pytest.param("^1.2.3", "1.2.3", True, id="caret-full-lower-bound"),
    pytest.param("^1.2.3", "1.9.9", True, id="caret-full-same-major"),
    pytest.param("^1.2.3", "1.2.2", False, id="caret-full-below"),
    pytest.param("^1.2.3", "2.0.0", False, id="caret-full-next-major"),
    pytest.param("^1.2", "1.2.0", True, id="caret-minor-lower-bound"),
    pytest.param("^1.2", "1.1.9", False, id="caret-minor-below"),
    pytest.param("^1.2", "1.99.0", True, id="caret-minor-same-major"),
    pytest.param("^1", "1.0.0", True, id="caret-major-lower-bound"),
    pytest.param("^1", "0.9.9", False, id="caret-major-below"),
    pytest.param("^1", "2.0.0", False, id="caret-major-next"),
    pytest.param("^0.2.3", "0.2.3", True, id="caret-zero-major-lower"),
    pytest.param("^0.2.3", "0.2.9", True, id="caret-zero-major-patch-up"),
    pytest.param("^0.2.3", "0.3.0", False, id="caret-zero-major-minor-is-breaking"),
    pytest.param("^0.2", "0.2.5", True, id="caret-zero-minor-patch-up"),
    pytest.param("^0.2", "0.3.0", False, id="caret-zero-minor-next-minor"),
    pytest.param("^0.0.3", "0.0.3", True, id="caret-zero-zero-exact"),
    pytest.param("^0.0.3", "0.0.4", False, id="caret-zero-zero-patch-is-breaking"),
    pytest.param("^0.0", "0.0.9", True, id="caret-0.0-any-patch"),
    pytest.param("^0.0", "0.1.0", False, id="caret-0.0-next-minor"),
    pytest.param("^0", "0.9.9", True, id="caret-0-any-minor"),
    pytest.param("^0", "1.0.0", False, id="caret-0-next-major"),
    # tilde: same minor when a minor is given, else same major
    pytest.param("~1.2.3", "1.2.3", True, id="tilde-full-lower-bound"),
    pytest.param("~1.2.3", "1.2.9", True, id="tilde-full-patch-up"),
    pytest.param("~1.2.3", "1.2.2", False, id="tilde-full-below"),
    pytest.param("~1.2.3", "1.3.0", False, id="tilde-full-next-minor"),
    pytest.param("~1.2", "1.2.0", True, id="tilde-minor-lower-bound"),
    pytest.param("~1.2", "1.3.0", False, id="tilde-minor-next-minor"),
    pytest.param("~1", "1.9.0", True, id="tilde-major-any-minor"),
    pytest.param("~1", "2.0.0", False, id="tilde-major-next-major"),
    pytest.param("~0.2", "0.2.7", True, id="tilde-zero-major"),
    # x-ranges and wildcards
    pytest.param("1.x", "1.0.0", True, id="x-major-lower"),
    pytest.param("1.x", "1.9.9", True, id="x-major-upper"),
    pytest.param("1.x", "0.9.9", False, id="x-major-below"),
    pytest.param("1.x", "2.0.0", False, id="x-major-next"),
    pytest.param("1.X", "1.4.0", True, id="X-uppercase"),
    pytest.param("1.*", "1.4.0", True, id="star-after-major"),
    pytest.param("1.*", "2.0.0", False, id="star-after-major-next"),
    pytest.param("1.2.x", "1.2.0", True, id="x-minor-lower"),
    pytest.param("1.2.x", "1.2.99", True, id="x-minor-upper"),
    pytest.param("1.2.x", "1.3.0", False, id="x-minor-next"),
    pytest.param("1.2.x", "1.1.9", False, id="x-minor-below"),
    pytest.param("1.2.*", "1.2.5", True, id="star-after-minor"),
    pytest.param("*", "0.0.0", True, id="star-zero"),
    pytest.param("*", "999.0.0", True, id="star-any"),
    pytest.param("x", "3.1.4", True, id="bare-x"),
    pytest.param("X", "3.1.4", True, id="bare-X"),
    # comparators
    pytest.param(">=1.0.0", "1.0.0", True, id="ge-equal"),
    pytest.param(">=1.0.0", "0.9.9", False, id="ge-below"),
    pytest.param(">1.0.0", "1.0.0", False, id="gt-equal"),
    pytest.param(">1.0.0", "1.0.1", True, id="gt-above"),
    pytest.param("<2", "1.99.99", True, id="lt-below"),
    pytest.param("<2", "2.0.0", False, id="lt-equal"),
    pytest.param("<=2", "2.0.0", True, id="le-equal"),
    pytest.param("<=2", "2.0.1", False, id="le-above"),
    pytest.param("=1.2.3", "1.2.3", True, id="eq-single"),
    pytest.param("==1.2.3", "1.2.3", True, id="eq-double"),
    pytest.param("==1.2.3", "1.2.4", False, id="eq-double-other"),
    pytest.param("1.2.3", "1.2.3", True, id="exact"),
    pytest.param("1.2.3", "1.2.4", False, id="exact-other"),
    pytest.param("1.2", "1.2.0", True, id="exact-short"),
    pytest.param(">= 1.5", "1.5.0", True, id="comparator-with-space"),
    # comma lists: every part must hold
    pytest.param(">=1.0.0,<2.0.0", "1.5.0", True, id="list-inside"),
    pytest.param(">=1.0.0,<2.0.0", "2.0.0", False, id="list-upper-exclusive"),
    pytest.param(">=1.0.0,<2.0.0", "0.9.0", False, id="list-below"),
    pytest.param(" >= 1.0 , < 3 ", "2.9.9", True, id="list-with-spaces"),
    pytest.param(">=1.0,<3", "3.0.0", False, id="list-short-upper"),
    pytest.param("^1.2,<1.5", "1.4.9", True, id="caret-and-comparator-inside"),
    pytest.param("^1.2,<1.5", "1.5.0", False, id="caret-and-comparator-cut"),
    pytest.param(">=2,<1", "1.5.0", False, id="empty-intersection"),
    pytest.param("*,<2", "1.0.0", True, id="star-in-list"),
]


@pytest.mark.parametrize(("spec", "version", "admitted"), RANGE_CASES)
def test_range_admits(spec: str, version: str, admitted: bool) -> None:
    """Each range spelling admits exactly the versions npm/cargo semantics say it does."""
    assert VersionRange.parse(spec).admits(version) is admitted
    assert VersionRange.parse(spec).admits(Version.parse(version)) is admitted


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("^", id="bare-caret"),
        pytest.param("~", id="bare-tilde"),
        pytest.param(">=", id="bare-comparator"),
        pytest.param("=>1.0", id="reversed-comparator"),
        pytest.param("latest", id="word"),
        pytest.param("1.2.3.4", id="four-parts"),
        pytest.param("^v1", id="caret-v-prefix"),
        pytest.param("1.x.x", id="double-x"),
        pytest.param("^1.2.x", id="caret-with-x"),
        pytest.param(">=1.0,", id="trailing-comma"),
        pytest.param(">=1.0,,<2", id="empty-list-part"),
        pytest.param("1.0 - 2.0", id="hyphen-range"),
        pytest.param(">=1.0 <2.0", id="space-separated"),
        pytest.param("1.2.3-beta", id="pre-release"),
    ],
)
def test_range_rejects_malformed_specs(spec: str) -> None:
    """A malformed range raises VersionError quoting the whole spec and the accepted spellings."""
    with pytest.raises(VersionError) as caught:
        VersionRange.parse(spec)
    message = str(caught.value)
    assert repr(spec) in message
    assert "is not a version range" in message
    for spelling in ("'^1.2'", "'~1.2'", "'1.x'", "'*'", "'>=1.0.0,<2.0.0'"):
        assert spelling in message


def test_range_error_quotes_the_whole_list_not_the_bad_part() -> None:
    """When one part of a comma list is bad, the message quotes the full spec the user wrote."""
    with pytest.raises(VersionError, match=r"'>=1\.0,<two' is not a version range"):
        VersionRange.parse(">=1.0,<two")


@pytest.mark.parametrize("value", [pytest.param(None, id="none"), pytest.param(2, id="int")])
def test_range_rejects_non_strings(value: Any) -> None:
    """A non-string spec raises VersionError, not AttributeError."""
    with pytest.raises(VersionError, match="is not a version range"):
        VersionRange.parse(value)


def test_range_admits_raises_on_a_malformed_version() -> None:
    """Asking a range about an unparseable version raises VersionError."""
    with pytest.raises(VersionError, match="is not a semantic version"):
        VersionRange.parse("^1").admits("one")


def test_range_str_is_the_stripped_spec() -> None:
    """str() of a range prints the spec as written, minus surrounding whitespace."""
    assert str(VersionRange.parse("  ^1.2 ")) == "^1.2"
    assert str(VersionRange.parse(">=1.0.0,<2.0.0")) == ">=1.0.0,<2.0.0"


def test_range_parse_passes_a_range_through() -> None:
    """Parsing an existing VersionRange returns that very object."""
    accepted = VersionRange.parse("~1.2")
    assert VersionRange.parse(accepted) is accepted


@given(versions, versions)
def test_caret_admits_exactly_same_major_at_or_above(low: Version, candidate: Version) -> None:
    """For X > 0, ^X.Y.Z admits a version iff it has major X and is >= X.Y.Z."""
    low = Version(low.major + 1, low.minor, low.patch)  # X > 0
    expected = candidate.major == low.major and candidate >= low
    assert VersionRange.parse(f"^{low}").admits(candidate) is expected


@given(versions, versions)
def test_tilde_admits_exactly_same_minor_at_or_above(low: Version, candidate: Version) -> None:
    """~X.Y.Z admits a version iff it has major X, minor Y and is >= X.Y.Z."""
    expected = candidate.major == low.major and candidate.minor == low.minor and candidate >= low
    assert VersionRange.parse(f"~{low}").admits(candidate) is expected


@given(versions, versions, versions)
def test_comparator_list_is_the_intersection(low: Version, high: Version, v: Version) -> None:
    """'>=A,<B' admits v iff A <= v < B: a comma list is the conjunction of its parts."""
    assert VersionRange.parse(f">={low},<{high}").admits(v) is (low <= v < high)


@given(versions)
def test_exact_range_admits_only_itself(version: Version) -> None:
    """A bare version admits that version and not its neighbours."""
    exact = VersionRange.parse(str(version))
    assert exact.admits(version)
    assert not exact.admits(Version(version.major, version.minor, version.patch + 1))
