"""--extra-package, the pure parts: what is accepted, what is refused, the label."""

from __future__ import annotations

import pytest

from pipelines.image.assemble import labels
from pipelines.shared.errors import InvalidSpecError
from pipelines.shared.labels import EXTRA_PACKAGES_LABEL
from pipelines.shared.spec import RunnerSpec


def test_names_and_versions_are_kept_in_order_and_labelled() -> None:
    spec = RunnerSpec(extra_packages=["tree", "jq=1.6-2.1", "g++"])  # type: ignore[arg-type]
    assert spec.extra_packages == ("tree", "jq=1.6-2.1", "g++")
    assert labels(spec)[EXTRA_PACKAGES_LABEL] == "tree,jq=1.6-2.1,g++"
    assert EXTRA_PACKAGES_LABEL not in labels(RunnerSpec())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tree", "expected NAME or NAME=VERSION"),
        ("tree;rm -rf /", "expected NAME or NAME=VERSION"),
        ("t", "expected NAME or NAME=VERSION"),
        ("tree=", "expected NAME or NAME=VERSION"),
        ("tree\n", "expected NAME or NAME=VERSION"),
    ],
)
def test_a_malformed_request_is_refused_by_name(value: str, expected: str) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        RunnerSpec(extra_packages=(value,))
    assert str(caught.value).startswith("spec: extra_package ")
    assert expected in str(caught.value)


def test_a_package_asked_twice_is_refused() -> None:
    with pytest.raises(InvalidSpecError, match=r'extra_package "tree=2": expected each package once'):
        RunnerSpec(extra_packages=("tree", "tree=2"))
