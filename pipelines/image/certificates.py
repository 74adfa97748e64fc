"""--ca-certificate: PEM certificates added to the image's system trust store, off the emulator.

Debian's ``update-ca-certificates`` links each ``.crt`` of
/usr/local/share/ca-certificates into /etc/ssl/certs under its OpenSSL
subject hash and appends it to /etc/ssl/certs/ca-certificates.crt; OpenSSL
reads one or the other, and so curl, git, apt's https transport and .NET (the
runner) trust what is there. What the script writes is plain files and
symlinks, the same for every architecture, so it runs on the engine's own
platform, in the base image as the engine runs it, over a copy of the
target's store (the hosted layout's packages may have changed it); only the
resulting /etc/ssl/certs goes into the image. An arm64 image on an amd64
engine would otherwise run the script, and an openssl per certificate, under
qemu.

The hooks of /etc/ca-certificates/update.d that run are the base's (on the
engine's platform); a trust store a package added by --extra-package keeps
of its own (Java's keystore) is not updated.
"""

from __future__ import annotations

import shlex

import dagger

from pipelines.shared.errors import CertificateError
from pipelines.shared.pem import CA_CERTIFICATE_FLAG, certificate_fingerprint
from pipelines.shared.spec import RunnerSpec

LOCAL_DIR = "/usr/local/share/ca-certificates"  # where update-ca-certificates takes a site's certificates from
STORE = "/etc/ssl/certs"  # what it writes: hash links and the ca-certificates.crt bundle
# What update-ca-certificates reads and writes, copied from the target before it runs.
STATE = ("etc/ssl/certs", "usr/share/ca-certificates", "usr/local/share/ca-certificates", "etc/ca-certificates.conf")
TARGET = "/run/runner-image-target"  # the target's root, mounted for the step only
NO_TOOL = 3  # the script's exit code when the base has no update-ca-certificates


def file_name(pem: str) -> str:
    """Where a certificate goes in the image: named by its SHA-256, as the label lists it."""
    return f"{LOCAL_DIR}/runner-image-{certificate_fingerprint(pem)}.crt"


def update_script() -> str:
    """Replace this container's trust store by the target's, then let update-ca-certificates add the new files."""
    paths = " ".join(shlex.quote(p) for p in STATE)
    return "\n".join(
        [
            "set -eu",
            f"command -v update-ca-certificates >/dev/null || exit {NO_TOOL}",
            f"for p in {paths}; do",
            '  rm -rf "/$p"',
            f'  if [ -e "{TARGET}/$p" ]; then mkdir -p "$(dirname "/$p")" && cp -a "{TARGET}/$p" "/$p"; fi',
            "done",
            f"mkdir -p {STORE}",
            "update-ca-certificates",
        ]
    )


def with_certificate_files(spec: RunnerSpec, target: dagger.Container) -> dagger.Container:
    """target with each certificate in LOCAL_DIR, readable by every user as update-ca-certificates wants."""
    for pem in spec.ca_certificates:
        target = target.with_new_file(file_name(pem), pem, permissions=0o644)
    return target


def tools(client: dagger.Client, spec: RunnerSpec) -> dagger.Container:
    """The base on the engine's own platform, which runs update-ca-certificates for any arch's image."""
    return client.container().from_(spec.base_image)


async def with_ca_certificates(
    client: dagger.Client, spec: RunnerSpec, target: dagger.Container, tools_ctr: dagger.Container | None = None
) -> dagger.Container:
    """target trusting spec's CA certificates; unchanged without any. tools_ctr replaces tools() (tests)."""
    if not spec.ca_certificates:
        return target
    added = with_certificate_files(spec, target)
    updated = (
        (tools_ctr or tools(client, spec))
        .with_user("root")  # whatever USER the base sets: the script replaces files under /etc
        .with_mounted_directory(TARGET, added.rootfs(), read_only=True)
        .with_exec(["sh", "-c", update_script()])
    )
    store = updated.directory(STORE)
    try:
        await store.sync()
    except dagger.ExecError as e:
        raise CertificateError(refusal(spec, e)) from e
    return added.without_directory(STORE).with_directory(STORE, store)


def refusal(spec: RunnerSpec, e: dagger.ExecError) -> str:
    """Why the store could not be updated, naming --ca-certificate: no update-ca-certificates, or its own words."""
    flag = f"{spec.name}: {CA_CERTIFICATE_FLAG}"
    if e.exit_code == NO_TOOL:
        return (
            f'{flag}: expected the base image "{spec.base_image}" to have update-ca-certificates (Debian\'s '
            "ca-certificates package), found none; nothing was added. Use a base that has it, as the .NET "
            "runtime-deps images do"
        )
    said = f"{e.stdout or ''}\n{e.stderr or ''}".strip()[-3000:]
    return f"{flag}: update-ca-certificates failed (exit {e.exit_code}); nothing was added. It said:\n{said}"
