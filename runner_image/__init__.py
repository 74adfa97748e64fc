"""Build, smoke-test and publish the GitHub Actions runner image for actions-runner-controller.

Two layouts from the ARC ADR (2022-10-17): `hosted` (GitHub-hosted parity:
/home/runner, user runner 1001, group docker 123, passwordless sudo) and
`minimal` (bring-your-own contract: /actions-runner/run.sh, WORKDIR
/actions-runner, root with RUNNER_ALLOW_RUNASROOT=1). Every download is
checked against a SHA-256 before it is unpacked, every image is smoke-tested
(`run.sh --version` as the image user) before it is published, and a
multi-arch image is published all or none.
"""

from runner_image.main import RunnerImage

__all__ = ["RunnerImage"]
