"""Every user-supplied string, against arbitrary text: refused with the stage's error, or clean.

Property: for any input a validator either raises its stage's error, whose
message names the input, says what was expected and is printable ASCII (so a
hostile value cannot forge log lines), or returns a value made only of the
characters its documented form allows. Beside arbitrary text, the strategies
build near misses: a valid value with one character inserted (a newline, a
space, a control character, a non-ASCII digit...), which is how such bugs
slip past regexes anchored with ``$`` or written with ``\\d``.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipelines.release.publish import valid_address, valid_username
from pipelines.shared.errors import InvalidSpecError, PublishError, RunnerImageError, shown
from pipelines.shared.reference import parse_reference
from pipelines.shared.spec import RunnerSpec
from pipelines.shared.validators import (
    parse_runner_checksums,
    valid_base_url,
    valid_created,
    valid_fingerprint,
    valid_revision,
    valid_sha256,
    valid_version,
)
from runner_image.client.flags import valid_secret_uri

# Characters that must never survive validation, each a known way past a loose regex.
HOSTILE = [
    "\n",  # `$` matches before a trailing newline
    "\r",
    "\t",
    " ",
    "\x00",
    "\x1b",  # terminal escape
    "\u0663",  # ARABIC-INDIC DIGIT THREE: `\d` matches it
    "\uff12",  # FULLWIDTH DIGIT TWO
    "\u212a",  # KELVIN SIGN: lowercases to ASCII "k"
    "\u200b",  # zero-width space
    "\u0430",  # Cyrillic a, looks like "a"
    "/",
    ":",
    "@",
    "?",
    "#",
    "%",
    '"',
    "\\",
]
VISIBLE_ASCII = set(string.ascii_letters + string.digits + string.punctuation)

versions = st.tuples(*[st.integers(0, 99_999)] * 3).map(lambda t: ".".join(map(str, t)))
sha256s = st.binary(min_size=32, max_size=32).map(bytes.hex)
hosts = st.sampled_from(["127.0.0.1", "127.0.0.1:8080", "localhost:5000", "github.com", "mirror.example", "[::1]:80"])
url_paths = st.lists(st.from_regex(r"[A-Za-z0-9._~-]{0,12}", fullmatch=True), max_size=4).map(
    lambda parts: "".join(f"/{p}" for p in parts)
)
urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}{path}", st.sampled_from(["http", "https"]), hosts, url_paths
)
path_parts = st.from_regex(r"[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}", fullmatch=True)
references = st.builds(
    lambda host, parts, tag: f"{host}{'/'.join(parts)}{tag}",
    st.sampled_from(["", "ghcr.io/", "127.0.0.1:5000/", "localhost/"]),
    st.lists(path_parts, min_size=1, max_size=3),
    st.sampled_from(["", ":latest", ":8.0-noble", ":2.337.0", "@sha256:" + "a" * 64]),
)
offsets = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(dt.timedelta(hours=-8))])
timestamps = st.builds(
    lambda d, spec: d.isoformat(timespec=spec).replace("+00:00", "Z"),
    st.datetimes(timezones=offsets),
    st.sampled_from(["seconds", "milliseconds", "microseconds"]),
)
revisions = st.from_regex(r"[0-9a-f]{7,40}|v[0-9]\.[0-9]{1,3}\.[0-9]|refs/heads/[a-z]{1,10}", fullmatch=True)
usernames = st.sampled_from(["me", "ci-bot", "github-actions[bot]", "robot$ci+push", "_json_key", "a@b.example"])


@st.composite
def near_misses(draw: st.DrawFn, valid: st.SearchStrategy[str]) -> str:
    """A valid value with one hostile character inserted anywhere, or appended."""
    value = draw(valid)
    at = draw(st.integers(0, len(value)))
    return value[:at] + draw(st.sampled_from(HOSTILE)) + value[at:]


def inputs(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Arbitrary text, valid values, and near misses of valid values."""
    return st.one_of(st.text(), valid, near_misses(valid))


def assert_refused_well(error: RunnerImageError, name: str, value: str) -> None:
    """The message names the input and its value, says what is expected, and is safe to print."""
    message = str(error)
    assert message.startswith(f"{error.stage}: {name} {shown(value)}: expected "), message
    assert message.isascii(), message
    assert message.isprintable(), message


def check_property(
    validate: Callable[[str], object], name: str, value: str, allowed: str, error: type[RunnerImageError]
) -> None:
    """validate(value) raises error with a good message, or gives a value of allowed characters only."""
    try:
        result = validate(value)
    except error as e:
        assert_refused_well(e, name, value)
        return
    text = str(result)
    assert re.fullmatch(allowed, text), (value, text)
    assert set(text) <= VISIBLE_ASCII, (value, text)


# --- one property per validator -------------------------------------------------
@settings(max_examples=300)
@given(inputs(versions.flatmap(lambda v: st.sampled_from([v, f"v{v}"]))))
@example("2.337.0\n")
@example("2.\u0663\u0663\u0667.0")
def test_version_property(value: str) -> None:
    check_property(
        lambda v: valid_version("runner_version", v),
        "runner_version",
        value,
        r"[0-9]+\.[0-9]+\.[0-9]+",
        InvalidSpecError,
    )


@settings(max_examples=300)
@given(inputs(sha256s.flatmap(lambda s: st.sampled_from([s, s.upper(), f"sha256:{s}"]))))
@example("a" * 63 + "\u212a")
@example("a" * 64 + "\n")
def test_sha256_property(value: str) -> None:
    check_property(lambda v: valid_sha256("hooks_sha256", v), "hooks_sha256", value, r"[0-9a-f]{64}", InvalidSpecError)


fingerprints = st.binary(min_size=20, max_size=20).map(lambda b: b.hex().upper())


@settings(max_examples=300)
@given(inputs(fingerprints.flatmap(lambda f: st.sampled_from([f, f.lower(), " ".join([f[:20], f[20:]])]))))
@example("\ufb00" + "A" * 38)  # LATIN SMALL LIGATURE FF: upper() makes it "FF"
@example("A" * 40 + "\n")
def test_fingerprint_property(value: str) -> None:
    check_property(
        lambda v: valid_fingerprint("docker_key_fingerprint", v),
        "docker_key_fingerprint",
        value,
        r"[0-9A-F]{40}",
        InvalidSpecError,
    )


@settings(max_examples=300)
@given(inputs(st.builds(lambda arch, sha: f"{arch}={sha}", st.sampled_from(["amd64", "arm64"]), sha256s)))
@example("arm64=" + "a" * 64 + "\n")
@example("arm64\n=" + "a" * 64)
def test_runner_checksum_property(value: str) -> None:
    """Refused as a whole, or as its sum (whose message names runner_checksum ARCH)."""
    try:
        result, message = parse_runner_checksums([value]), None
    except InvalidSpecError as e:
        result, message = {}, str(e)
    if message is not None:
        assert re.match(r"spec: runner_checksum (?:amd64 |arm64 )?\S.*: expected ", message), message
        assert message.isascii()
        assert message.isprintable()
        return
    ((arch, sha),) = result.items()
    assert arch in {"amd64", "arm64"}
    assert re.fullmatch(r"[0-9a-f]{64}", sha)


@settings(max_examples=300)
@given(inputs(urls))
@example("http://127.0.0.1:8080/runner\n")
@example("https://user:secret@mirror.example/runner")
@example("https://mirror.example/runner?x=1")
def test_base_url_property(value: str) -> None:
    check_property(
        lambda v: valid_base_url("runner_base_url", v),
        "runner_base_url",
        value,
        r"https?://[A-Za-z0-9.:\[\]]+(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*",
        InvalidSpecError,
    )


@settings(max_examples=300)
@given(inputs(references))
@example("ubuntu\n")
@example("ghcr.io/o/r:t\n")
def test_reference_property(value: str) -> None:
    check_property(
        lambda v: parse_reference(v, name="base_image"),
        "base_image",
        value,
        r"[A-Za-z0-9._/:@-]+",
        InvalidSpecError,
    )


@settings(max_examples=300)
@given(inputs(references))
@example("127.0.0.1:5000/runner:1\n")
def test_publish_address_property(value: str) -> None:
    check_property(valid_address, "address", value, r"[A-Za-z0-9._/:-]+", PublishError)


@settings(max_examples=300)
@given(inputs(timestamps))
@example("2026-08-26T12:00:00Z\n")
@example("\uff12026-08-26T12:00:00Z")
def test_created_property(value: str) -> None:
    check_property(valid_created, "created", value, r"[0-9]{4}-[0-9T:.+Z-]+", InvalidSpecError)


@settings(max_examples=300)
@given(inputs(revisions))
@example("0123abc\n")
def test_revision_property(value: str) -> None:
    check_property(valid_revision, "revision", value, r"[A-Za-z0-9._/+-]+", InvalidSpecError)


@settings(max_examples=300)
@given(inputs(urls))
def test_source_label_property(value: str) -> None:
    check_property(
        lambda v: RunnerSpec(source=v).source,
        "source",
        value,
        r"https?://[A-Za-z0-9.:\[\]]+(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*",
        InvalidSpecError,
    )


@settings(max_examples=300)
@given(inputs(usernames))
@example("me\n")
@example("me:pw")
def test_username_property(value: str) -> None:
    check_property(valid_username, "username", value, r"[!-9;-~]+", PublishError)


def secret_refusal(value: str) -> str | None:
    """The message valid_secret_uri refuses value with, or None if it accepts it."""
    try:
        valid_secret_uri(value)
    except InvalidSpecError as e:
        return str(e)
    return None


SECRET_REFUSAL = secret_refusal("hunter2")


@settings(max_examples=300)
@given(inputs(st.sampled_from(["env://GITHUB_TOKEN", "env://_T0", "file:///run/secrets/registry"])))
@example("env://TOKEN\n")
@example("env://")
def test_secret_uri_property(value: str) -> None:
    """Refused values are never echoed (they may be the password): every refusal reads the same."""
    refusal = secret_refusal(value)
    if refusal is None:
        assert re.fullmatch(r"env://[A-Za-z_][A-Za-z0-9_]*|file://[!-~]+", value), value
    else:
        assert refusal == SECRET_REFUSAL


@settings(max_examples=200)
@given(field=st.sampled_from(["runner_version", "hooks_version"]), value=inputs(versions))
def test_accepted_spec_urls_are_plain_ascii(field: str, value: str) -> None:
    """End to end: whatever a user types as a version, an accepted spec's URLs are visible ASCII."""
    try:
        spec = RunnerSpec(**{field: value})
    except InvalidSpecError as e:
        assert_refused_well(e, field, value)
        return
    for url in (spec.runner_url, spec.hooks_url, spec.hooks_novolume_url):
        assert set(url) <= VISIBLE_ASCII, url


# --- valid values are accepted (the validators are not simply refusing everything) ----
@given(versions)
def test_every_documented_version_is_accepted(value: str) -> None:
    assert valid_version("runner_version", f"v{value}") == value


@given(sha256s)
def test_every_sha256_is_accepted_in_each_spelling(value: str) -> None:
    for spelling in (value, value.upper(), f"sha256:{value}"):
        assert valid_sha256("runner_sha256", spelling) == value


@given(urls)
def test_every_plain_http_url_is_accepted(value: str) -> None:
    assert valid_base_url("runner_base_url", value) == value.rstrip("/")


@given(references)
def test_every_well_formed_reference_round_trips(value: str) -> None:
    assert str(parse_reference(value)) == value


@given(timestamps)
def test_every_rfc3339_timestamp_is_accepted(value: str) -> None:
    assert valid_created(value) == value


@given(revisions)
def test_every_revision_is_accepted(value: str) -> None:
    assert valid_revision(value) == value


# --- explicit regressions (issue 9) ----------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("runner_version", "2.337.0\n"),  # passed the old `^...$` pattern
        ("runner_version", "2.\u0663\u0663\u0667.0"),  # Arabic-Indic digits passed `\d`
        ("hooks_version", "\uff10.9.1"),  # fullwidth zero
        ("hooks_version", "0.9.1 "),
        ("runner_version", "2.337.0\x00"),
        ("runner_sha256", "a" * 64 + "\n"),  # the old check stripped it silently
        ("runner_sha256", " " + "a" * 64),
        ("runner_base_url", "http://127.0.0.1:8080/runner\n"),
        ("runner_base_url", "http://127.0.0.1:8080/run ner"),
        ("hooks_base_url", "https://user:pw@mirror.example/hooks"),  # credentials would be logged
        ("hooks_base_url", "https://mirror.example/hooks\r\nX-Injected: 1"),
        ("base_image", "ubuntu\n"),  # passed the old reference pattern
        ("base_image", "ubuntu:24.04\t"),
        ("base_image", "ubunt\u0443"),  # Cyrillic u
        ("created", "2026-08-26T12:00:00Z\n"),
        ("created", "2026-08-26"),  # ISO 8601 but not RFC 3339
        ("created", "2026-13-26T12:00:00Z"),
        ("revision", "abc123\n"),
        ("revision", "abc 123"),
        ("source", "https://example.invalid/repo\n"),
    ],
)
def test_regressions_are_refused_with_the_value_escaped(field: str, value: str) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        RunnerSpec(**{field: value})
    assert_refused_well(caught.value, field, value)


def test_newline_is_shown_escaped_not_raw() -> None:
    with pytest.raises(InvalidSpecError) as caught:
        RunnerSpec(runner_version="2.337.0\n")
    assert 'runner_version "2.337.0\\n": expected MAJOR.MINOR.PATCH' in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("value", ["me\n", "me pw", "me:pw", "", "m\u00e9", "x" * 256])
def test_bad_usernames_are_publish_errors(value: str) -> None:
    with pytest.raises(PublishError) as caught:
        valid_username(value)
    assert_refused_well(caught.value, "username", value)


@pytest.mark.parametrize("value", ["env://TOKEN\n", "env://", "env://1X", "env://A B", "file://", "file://a b", "pw"])
def test_bad_secret_uris_are_refused_without_echo(value: str) -> None:
    assert secret_refusal(value) == SECRET_REFUSAL
    assert SECRET_REFUSAL is not None
    assert "hunter2" not in SECRET_REFUSAL
