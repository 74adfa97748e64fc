"""The workflows read as the runner reads them: their jobs, their `dagger call` steps, their `${{ }}` and `if:`.

Shared by the unit tests (the workflow's shape and conditions, no engine) and
the real-engine tests that run every step of a workflow verbatim.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github/workflows/ci.yml"


def workflow_jobs(workflow: Path = WORKFLOW) -> dict[str, dict]:
    """The jobs of the workflow that call the module, in file order (each after the jobs it needs)."""
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    return {name: job for name, job in jobs.items() if any(is_dagger_call(step) for step in job["steps"])}


def workflow_env(workflow: Path = WORKFLOW) -> dict[str, str]:
    """The workflow's top-level env: its settings in one place (DAGGER_VERSION, REGISTRY, SCAN_FAIL_ON)."""
    return {k: str(v) for k, v in yaml.safe_load(workflow.read_text(encoding="utf-8")).get("env", {}).items()}


def is_dagger_call(step: dict) -> bool:
    """A dagger-for-github step that calls a function (one with no args only installs the CLI)."""
    with_ = step.get("with", {})
    return str(step.get("uses", "")).startswith("dagger/dagger-for-github") and with_.get("verb") == "call"


def workflow_calls() -> list[tuple[str, dict, str]]:
    """(job, matrix entry, args) of every `dagger call` step in the workflow."""
    calls = []
    for name, job in workflow_jobs().items():
        matrix = job.get("strategy", {}).get("matrix", {}).get("include", [{}])
        for entry in matrix:
            calls.extend((name, entry, step["with"]["args"]) for step in job["steps"] if is_dagger_call(step))
    return calls


def substitute(args: str, values: dict[str, str]) -> list[str]:
    """The workflow's args with each ${{ expression }} replaced; an expression not in values fails."""
    return expand(args, values).split()


def expand(text: str, values: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        expression = match[1].strip()
        assert expression in values, f"the test does not know what {expression!r} is in CI; add it here"
        return values[expression]

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


class Context(types.SimpleNamespace):
    """A context object of the expression language: a property it lacks is null, as on GitHub (an empty one here)."""

    def __getattr__(self, name: str) -> Context:
        return Context()


def push(ref: str, outcomes: dict[str, str] | None = None, event: str = "push") -> dict[str, Context]:
    """The `github` and `steps` contexts of an event on ref, with the outcomes of the steps run so far."""
    steps = {step: Context(outcome=outcome) for step, outcome in (outcomes or {}).items()}
    return {"github": Context(event_name=event, ref=ref), "steps": Context(**steps)}


def evaluate(condition: str, contexts: dict[str, Context]) -> bool:
    """An `if:` of the subset the workflows use (==, !=, &&, ||, !, startsWith, quoted strings), as GitHub does.

    Turned into the same Python expression and evaluated with only the
    contexts in scope; a construct outside the subset fails, naming it.
    """
    unknown = re.sub(r"'[^']*'|\b(?:github|steps)(?:\.[A-Za-z_]\w*)+|startsWith|==|!=|&&|\|\||[!(),\s]", "", condition)
    assert not unknown, f"the test cannot evaluate {unknown!r} in `if: {condition}`; extend evaluate()"
    python = re.sub(r"!(?!=)", " not ", condition.replace("&&", " and ").replace("||", " or "))
    scope = {"__builtins__": {}, "startsWith": lambda text, prefix: str(text).lower().startswith(str(prefix).lower())}
    return bool(eval(python, scope, contexts))  # noqa: S307 - the workflow's own text, checked against the subset above
