"""--ca-certificate: a site's CA in the image's trust store, so curl and OpenSSL trust a server it signed.

The CA and a server certificate for internal.test are made here with the
host's openssl; the server answers HTTPS on 127.0.0.1, and `dagger call`
binds it into the built image as internal.test (a tcp:// host service).
"""

from __future__ import annotations

import dataclasses
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagger
import pytest

from pipelines.image.certificates import STORE, with_ca_certificates
from pipelines.release.tested import build_and_test
from pipelines.shared.contract import Layout
from pipelines.shared.errors import CertificateError
from pipelines.shared.labels import CA_CERTIFICATES_LABEL
from pipelines.shared.pem import certificate_fingerprint
from tests.engine.fixtures import ReleaseMirror
from tests.engine.test_dagger_call import dagger as dagger_cli
from tests.engine.test_dagger_call import local_settings
from tests.engine.test_pipeline import make_spec

pytestmark = pytest.mark.anyio
HOST = "internal.test"  # the server certificate's only name; the alias the image reaches the server by
BODY = "hello from internal.test"
BUNDLE = f"{STORE}/ca-certificates.crt"
SERVER_PEM = "/run/server.pem"  # the server certificate, inside the image


@dataclasses.dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path


def openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA (EC P-256, valid 2 days) and a server certificate for HOST that it signed."""
    d = tmp_path_factory.mktemp("pki")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", d / "ca.key", "-out", d / "ca.pem", "-days", "2",
            "-subj", "/CN=runner-image test CA")  # fmt: skip
    openssl("req", "-new", *ec, "-keyout", d / "server.key", "-out", d / "server.csr", "-subj", f"/CN={HOST}")
    (d / "server.ext").write_text(f"subjectAltName=DNS:{HOST}\nbasicConstraints=critical,CA:FALSE\n")
    openssl("x509", "-req", "-in", d / "server.csr", "-CA", d / "ca.pem", "-CAkey", d / "ca.key",
            "-set_serial", "2", "-days", "2", "-extfile", d / "server.ext", "-out", d / "server.pem")  # fmt: skip
    return Pki(ca=d / "ca.pem", server_cert=d / "server.pem", server_key=d / "server.key")


class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = BODY.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet: a refused handshake is what one test wants."""


@pytest.fixture(scope="module")
def https_port(pki: Pki) -> Iterator[int]:
    """HTTPS on 127.0.0.1 with the server certificate, in a thread; its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(pki.server_cert, pki.server_key)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def curl_through_dagger_call(port: int, *, expect_any: bool = False) -> list[str]:
    """build's chain: bind the host's server as HOST, curl it; with expect_any, print curl's exit code instead."""
    curl = ["with-exec", "--args", f"curl,-sS,https://{HOST}:{port}/"]
    tail = [*curl, "--expect", "ANY", "exit-code"] if expect_any else [*curl, "stdout"]
    return [
        "build", "--arch", "amd64",
        "with-service-binding", "--alias", HOST, "--service", f"tcp://localhost:{port}",
        *tail,
    ]  # fmt: skip


async def test_curl_in_the_hosted_image_trusts_a_server_the_ca_signed(
    mirror: ReleaseMirror, base_image: str, pki: Pki, https_port: int
) -> None:
    settings = [*local_settings(mirror, base_image), "--ca-certificate", str(pki.ca)]
    done = await dagger_cli("call", *settings, *curl_through_dagger_call(https_port))
    assert done.returncode == 0, done
    assert done.stdout.strip() == BODY, done


async def test_without_the_ca_curl_refuses_the_server(mirror: ReleaseMirror, base_image: str, https_port: int) -> None:
    """The check above is not vacuous: the same image without --ca-certificate does not trust the server."""
    chain = curl_through_dagger_call(https_port, expect_any=True)
    done = await dagger_cli("call", *local_settings(mirror, base_image), *chain)
    assert done.returncode == 0, done
    assert done.stdout.strip() == "60", done  # curl: the peer's certificate cannot be authenticated


async def test_the_minimal_arm64_image_trusts_the_ca_where_openssl_looks_and_is_labelled(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, pki: Pki
) -> None:
    """The minimal layout has no curl: OpenSSL itself verifies the server certificate against the store."""
    ca = pki.ca.read_text()
    spec = make_spec(mirror, base_image, "arm64", Layout.MINIMAL, ca_certificates=(ca,))
    ctr = (await build_and_test(dag, spec)).container  # the smoke test still passes
    base = dag.container(platform=dagger.Platform("linux/arm64")).from_(base_image)

    before, after = await base.file(BUNDLE).contents(), await ctr.file(BUNDLE).contents()
    assert after.startswith(before)  # the base's CAs all kept, in order: the store was updated, not replaced
    assert spec.ca_certificates[0] in after[len(before) :]
    fingerprint = certificate_fingerprint(ca)
    assert await ctr.label(CA_CERTIFICATES_LABEL) == fingerprint

    server = pki.server_cert.read_text()
    verify = ["openssl", "verify", "-CApath", STORE, SERVER_PEM]  # by subject hash, as OpenSSL's lookup goes
    trusted = await ctr.with_new_file(SERVER_PEM, server).with_exec(verify).stdout()
    assert trusted.strip() == f"{SERVER_PEM}: OK"
    untrusted = base.with_new_file(SERVER_PEM, server).with_exec(verify, expect=dagger.ReturnType.ANY)
    assert await untrusted.exit_code() != 0
    links = f"ls {STORE} | grep -c runner-image-{fingerprint}"
    assert (await ctr.with_exec(["sh", "-c", links]).stdout()).strip() == "1"  # the one link the script makes


@pytest.mark.long
async def test_the_readme_line_through_dagger_call(mirror: ReleaseMirror, base_image: str, pki: Pki) -> None:
    """`dagger call --ca-certificate corp-ca.pem smoke-test --arch arm64 --layout minimal`, with the local settings."""
    done = await dagger_cli(
        "call", *local_settings(mirror, base_image), "--ca-certificate", str(pki.ca),
        "smoke-test", "--arch", "arm64", "--layout", "minimal",
    )  # fmt: skip
    assert done.returncode == 0, done
    assert done.stdout.strip() == mirror.runner_version, done
    # The flag was not ignored: the same image (the engine's cache) has the certificate in its store, by name.
    settings = [*local_settings(mirror, base_image), "--ca-certificate", str(pki.ca)]
    image = [*settings, "build", "--arch", "arm64", "--layout", "minimal"]
    fingerprint = certificate_fingerprint(pki.ca.read_text())
    stored = f"/usr/local/share/ca-certificates/runner-image-{fingerprint}.crt"
    cat = await dagger_cli("call", *image, "file", "--path", stored, "contents")
    assert cat.returncode == 0, cat
    assert cat.stdout.strip() == pki.ca.read_text().strip(), cat
    label = await dagger_cli("call", *image, "label", "--name", CA_CERTIFICATES_LABEL)
    assert label.stdout.strip() == fingerprint, label


async def test_a_base_without_update_ca_certificates_is_named(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, pki: Pki
) -> None:
    spec = make_spec(mirror, base_image, "amd64", Layout.MINIMAL, ca_certificates=(pki.ca.read_text(),))
    base = dag.container().from_(base_image)
    without = base.without_file("/usr/sbin/update-ca-certificates")
    with pytest.raises(CertificateError) as caught:
        await with_ca_certificates(dag, spec, base, tools_ctr=without)
    expected = f'amd64/minimal: --ca-certificate: expected the base image "{base_image}" to have update-ca-certificates'
    assert expected in str(caught.value)


async def test_a_der_file_stops_dagger_call_naming_it(
    mirror: ReleaseMirror, base_image: str, pki: Pki, tmp_path: Path
) -> None:
    """Refused before anything is built, with the file's name: a DER file is the usual mistake."""
    der = tmp_path / "site-ca.der"
    openssl("x509", "-in", pki.ca, "-outform", "der", "-out", der)
    done = await dagger_cli("call", *local_settings(mirror, base_image), "--ca-certificate", str(der), "build")
    assert done.returncode != 0, done
    assert '--ca-certificate #1 "site-ca.der": expected one PEM certificate' in done.stderr, done
    assert "binary data (a DER file?" in done.stderr, done
    assert "Traceback" not in done.stderr
