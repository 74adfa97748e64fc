"""The CI workflow's `dagger call` steps and `if:` conditions, read without an engine.

tests/engine/test_dagger_call.py then runs those steps verbatim on the real
engine, taking each `if:` as evaluate() reads it here.
"""

from __future__ import annotations

import re

import pytest

from pipelines.audit.vulns_predicate import PREDICATE_TYPE
from tests.workflows import evaluate, push, workflow_calls, workflow_jobs


def function(args: str) -> tuple[str, str]:
    """(function, --layout) of one call's args: the first word that is neither a flag nor a flag's value."""
    words = re.sub(r"\$\{\{.*?\}\}", "EXPRESSION", args).split()
    values = {i + 1 for i, word in enumerate(words) if word.startswith("--") and "=" not in word}
    name = next(word for i, word in enumerate(words) if not word.startswith("--") and i not in values)
    return name, words[words.index("--layout") + 1] if "--layout" in words else ""


def test_the_workflow_has_the_dagger_calls_the_engine_test_runs() -> None:
    calls = [(job, entry.get("arch", ""), function(args)) for job, entry, args in workflow_calls()]
    per_arch = [("ci", ""), ("publish", ""), ("publish", "minimal"), ("scan", ""), ("scan", "")]  # scan: by --image
    assert calls == [
        *[("image", "amd64", call) for call in per_arch],
        *[("image", "arm64", call) for call in per_arch],
        ("release", "", ("merge", "")),
        ("release", "", ("merge", "minimal")),
        ("release", "", ("sbom", "")),  # what the release attests, beside the provenance
        ("release", "", ("sbom", "minimal")),
        ("release", "", ("scan", "")),  # by --image: the hosted index, then the minimal one
        ("release", "", ("scan", "")),
    ]
    assert workflow_jobs()["release"]["needs"] == "image"  # the index only after every arch passed


def conditions() -> list[str]:
    jobs = workflow_jobs().values()
    return [job["if"] for job in jobs if "if" in job] + [s["if"] for job in jobs for s in job["steps"] if "if" in s]


@pytest.mark.parametrize(
    ("event", "ref", "publishes"),
    [
        ("push", "refs/heads/main", True),
        ("push", "refs/tags/v2.0.0", True),
        ("push", "refs/heads/feature", False),
        ("pull_request", "refs/pull/7/merge", False),
        ("push", "refs/tags/nightly", False),
    ],
)
def test_only_a_push_to_main_or_a_version_tag_publishes(event: str, ref: str, publishes: bool) -> None:
    """The release job and the staging steps run on exactly these events; a pull request publishes nothing."""
    release = workflow_jobs()["release"]["if"]
    assert evaluate(release, push(ref, event=event)) is publishes
    staging = next(s for s in workflow_jobs()["image"]["steps"] if s.get("id") == "ref")
    assert evaluate(staging["if"], push(ref, event=event)) is publishes


def test_the_publish_and_scan_steps_run_only_after_the_staging_address_was_made() -> None:
    after = [s["if"] for s in workflow_jobs()["image"]["steps"] if "steps.ref" in s.get("if", "")]
    assert len(after) == 4  # publish and the release gate's scan, hosted and minimal
    for condition in after:
        assert evaluate(condition, push("refs/heads/main", {"ref": "success"}))
        assert not evaluate(condition, push("refs/heads/main", {"ref": "skipped"}))
        assert not evaluate(condition, push("refs/heads/main"))  # the step did not run at all


def test_every_condition_of_the_workflow_is_in_the_subset_evaluate_reads() -> None:
    for condition in conditions():
        evaluate(condition, push("refs/heads/main"))


def test_evaluate_refuses_what_it_cannot_read() -> None:
    with pytest.raises(AssertionError, match=r"cannot evaluate"):
        evaluate("contains(github.ref, 'main')", push("refs/heads/main"))


# The inputs actions/attest declares in its action.yml at v4.2.2 (the v4 the workflow takes), as read from the
# action's repository at that tag: a `with:` key outside them is ignored by the runner, with a warning only.
ATTEST_INPUTS = frozenset({
    "subject-path", "subject-digest", "subject-name", "subject-checksums", "subject-version", "sbom-path",
    "predicate-type", "predicate", "predicate-path", "push-to-registry", "create-storage-record", "show-summary",
    "github-token",
})  # fmt: skip


def test_each_index_is_attested_three_ways_with_inputs_the_action_declares() -> None:
    """Provenance (no predicate: the action's default), the SBOM (sbom-path) and the scan (in-toto's vulns
    predicate), for each index digest, pushed to the registry; the files named are the ones the release job's
    dagger calls write (tests/engine/test_dagger_call.py checks that they are there, and what they hold)."""
    steps = [s for s in workflow_jobs()["release"]["steps"] if str(s.get("uses", "")).startswith("actions/")]
    attests = [s for s in steps if s["uses"].startswith("actions/attest")]
    assert {s["uses"] for s in attests} == {"actions/attest@v4"}
    assert not [s for s in steps if "attest-build-provenance" in s["uses"] or "attest-sbom" in s["uses"]]
    kinds = []
    for step in attests:
        given = step["with"]
        assert set(given) <= ATTEST_INPUTS, set(given) - ATTEST_INPUTS
        assert given["push-to-registry"] is True
        assert given["subject-name"] == "${{ steps.ref.outputs.image }}"
        layout = given["subject-digest"].removeprefix("${{ steps.digest.outputs.").removesuffix(" }}")
        if "sbom-path" in given:
            kinds.append((layout, "sbom", given["sbom-path"]))
        elif "predicate-path" in given:
            assert given["predicate-type"] == PREDICATE_TYPE
            kinds.append((layout, "scan", given["predicate-path"]))
        else:
            kinds.append((layout, "provenance", ""))
    temp = "${{ runner.temp }}"
    assert kinds == [
        (layout, kind, path)
        for layout in ("hosted", "minimal")
        for kind, path in (
            ("provenance", ""),
            ("sbom", f"{temp}/sbom-{layout}.spdx.json"),
            ("scan", f"{temp}/scan-{layout}.json"),
        )
    ]
