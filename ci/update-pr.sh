#!/usr/bin/env bash
# The update workflow's last step, after `bump` exported pipelines/pins.toml
# over the checkout's copy. When the file changed: commit it alone to BRANCH
# (one branch, force-pushed, so there is never more than one update PR), open
# the PR against BASE or update the one already open (title: the first line
# of UPDATES, `updates`' output, in ARC's words; body: its table, then FIXES,
# `base-fixes`' output, or, when that step failed (FIXES_OUTCOME), a line saying
# it could not tell what the new base fixes), then start ci.yml on the branch.
# Unchanged: say so and do nothing.
# Reads BRANCH, BASE, UPDATES, FIXES, FIXES_OUTCOME; gh reads GH_TOKEN.
set -euo pipefail
cd "$(dirname "$0")/.."
pins=pipelines/pins.toml
branch=${BRANCH:?BRANCH: expected the update branch, e.g. update/pins}
base=${BASE:?BASE: expected the branch the PR goes to, e.g. main}
if git diff --quiet -- "$pins"; then
  echo "update-pr: $pins is unchanged: nothing to propose"
  exit 0
fi
title=$(printf '%s\n' "${UPDATES:?UPDATES: expected the output of dagger call updates}" | sed -n '1p')
if [[ -z $title || $title == "Nothing to update" ]]; then
  echo "update-pr: $pins changed but updates proposed nothing ('$title'); refusing to commit it" >&2
  exit 1
fi
body=$(printf '%s\n' "$UPDATES" | tail -n +3)
fixes=${FIXES:-}
if [[ ${FIXES_OUTCOME:-success} != success ]]; then
  fixes='### What the new base image fixes

Could not tell: `dagger call base-fixes` did not run its scans (its step in this run says why).'
fi
body=$(printf 'Proposed by the scheduled `update` workflow: `dagger call bump` (sums from two agreeing sources).\n\n%s\n' "$body")
if [[ -n $fixes ]]; then
  body=$(printf '%s\n\n%s\n' "$body" "$fixes")
fi
git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
git checkout -B "$branch"
git commit --quiet -m "$title" -- "$pins"
git push --force origin "$branch"
open=$(gh pr list --head "$branch" --base "$base" --state open --json number --jq '.[0].number // empty')
if [[ -n $open ]]; then
  gh pr edit "$open" --title "$title" --body "$body"
else
  gh pr create --head "$branch" --base "$base" --title "$title" --body "$body"
fi
gh workflow run ci.yml --ref "$branch"
echo "update-pr: $title"
