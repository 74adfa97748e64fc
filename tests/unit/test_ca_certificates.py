"""--ca-certificate, the pure parts: what is accepted, what is refused and how it is named, the label, client mode."""

from __future__ import annotations

import base64
import ssl
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.image.assemble import labels
from pipelines.image.certificates import LOCAL_DIR, file_name
from pipelines.shared.errors import InvalidSpecError
from pipelines.shared.labels import CA_CERTIFICATES_LABEL
from pipelines.shared.pem import certificate_fingerprint, valid_certificates
from pipelines.shared.spec import RunnerSpec
from runner_image.client.cli import specs_from_args
from runner_image.client.flags import parser
from tests.unit.test_cli import client_mode_without_engine

# Two self-signed EC certificates made with openssl req -x509 for these tests (no key is kept anywhere).
CA = """-----BEGIN CERTIFICATE-----
MIIBnzCCAUWgAwIBAgIUJDj+LEWK6s5LRI21Fh0URV/GrYcwCgYIKoZIzj0EAwIw
JDEiMCAGA1UEAwwZcnVubmVyLWltYWdlIHVuaXQgdGVzdCBDQTAgFw0yNjEyMDMx
NjAzMTdaGA8yMTI2MTEwOTE2MDMxN1owJDEiMCAGA1UEAwwZcnVubmVyLWltYWdl
IHVuaXQgdGVzdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBhmEU2RNiUg
2Ab5EwaMnbmvYcMlPNJtfIr0mPLNxN7AEtQif5nc7aEIrSpOxvs3nCSGwU50ia3D
CJ1Tua9VGrujUzBRMB0GA1UdDgQWBBTev7heydZoaoYkyuDf+qv6YRUBRjAfBgNV
HSMEGDAWgBTev7heydZoaoYkyuDf+qv6YRUBRjAPBgNVHRMBAf8EBTADAQH/MAoG
CCqGSM49BAMCA0gAMEUCIEOyGBP6fEpiLxSbgAPcPl9fN+nIGOWvY5aK9fZyyGYE
AiEA5uibVkZANNR+Q5Syu6oSU2Re8om0VKEIxp97OJny3nI=
-----END CERTIFICATE-----
"""
# openssl x509 -noout -fingerprint -sha256 of CA, colons dropped, lowercase
CA_SHA256 = "75cab8600a5d581a713dc930a6f881b21c72ea878dbe20835c2e4320ebef07e5"
CA_2 = """-----BEGIN CERTIFICATE-----
MIIBozCCAUmgAwIBAgIUEFwXnqkuhfNfbzq3pQwGJeHsPVgwCgYIKoZIzj0EAwIw
JjEkMCIGA1UEAwwbcnVubmVyLWltYWdlIHVuaXQgdGVzdCBDQSAyMCAXDTI2MTIw
MzE2MDYzN1oYDzIxMjYxMTA5MTYwNjM3WjAmMSQwIgYDVQQDDBtydW5uZXItaW1h
Z2UgdW5pdCB0ZXN0IENBIDIwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATqupnC
sGzDQ3TTarD8YF6mVMfvG4z67A5Jp6X6U1oYz47Yq1Q5MZ12Kz2o7XdRJ7qBgipJ
Mw4e6dIPJpSRR0RFo1MwUTAdBgNVHQ4EFgQUvVNYQwZZPezkDrPPRk98tJN/dNow
HwYDVR0jBBgwFoAUvVNYQwZZPezkDrPPRk98tJN/dNowDwYDVR0TAQH/BAUwAwEB
/zAKBggqhkjOPQQDAgNIADBFAiBCDdhwTCW2Yy99LdJofUBmOKaD/Gef8ict+q0i
SSyp/QIhALkvGgh4hi1ROq7jo+xM2FfDwGvhN3ZBiOAKRpWsK6b3
-----END CERTIFICATE-----
"""
DER = ssl.PEM_cert_to_DER_cert(CA)
# A block of the shape a private key file has; its body is random bytes, not a key.
KEY_BLOCK = f"-----BEGIN PRIVATE KEY-----\n{base64.encodebytes(bytes(range(48))).decode()}-----END PRIVATE KEY-----\n"
EXPECTED = 'expected one PEM certificate: a single "-----BEGIN CERTIFICATE-----" block of base64 DER'


def test_a_pem_certificate_is_kept_in_one_form_and_labelled_by_its_sha256() -> None:
    # CRLF line ends and openssl x509 -text's dump before the block are the same certificate.
    dumped = "Certificate:\r\n    Data: ...\r\n" + CA.replace("\n", "\r\n")
    spec = RunnerSpec(ca_certificates=(dumped, CA_2))  # type: ignore[arg-type]
    assert spec.ca_certificates == (CA, CA_2)
    assert spec.ca_fingerprints[0] == CA_SHA256
    assert labels(spec)[CA_CERTIFICATES_LABEL] == f"{CA_SHA256},{certificate_fingerprint(CA_2)}"
    assert CA_CERTIFICATES_LABEL not in labels(RunnerSpec())
    assert file_name(CA) == f"{LOCAL_DIR}/runner-image-{CA_SHA256}.crt"  # update-ca-certificates reads only .crt


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("", "found an empty file"),
        ("\n \n", "found an empty file"),
        (KEY_BLOCK, "found a PRIVATE KEY block (a private key must never go into an image)"),
        (CA + KEY_BLOCK, "found a CERTIFICATE block and a PRIVATE KEY block (a private key must never"),
        (CA + CA_2, "found a CERTIFICATE block and a CERTIFICATE block; pass each certificate with its own"),
        (CA.replace("MIIBnz", "MI!Bnz"), "found a CERTIFICATE block whose body is not base64"),
        (CA.replace("MIIBnz", "AAAAnz"), "found a CERTIFICATE block that OpenSSL cannot read as an X.509"),
        (DER.decode("utf-8", errors="replace"), "found binary data (a DER file? openssl x509 -inform der"),
        (CA[:-30], "found a -----BEGIN line without its -----END line"),
        ("just some text\n", "found text without a PEM block"),
    ],
)
def test_what_is_not_exactly_one_certificate_is_refused_naming_the_flag_and_file(text: str, found: str) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        valid_certificates([CA_2, text], ["site.pem", "bad.pem"])
    assert str(caught.value).startswith(f'spec: --ca-certificate #2 "bad.pem": {EXPECTED}'), caught.value
    assert found in str(caught.value)


def test_the_same_certificate_twice_is_refused() -> None:
    with pytest.raises(InvalidSpecError, match="--ca-certificate #2: expected each certificate once; found the same"):
        RunnerSpec(ca_certificates=(CA, CA.replace("\n", "\r\n")))


def outcome(text: str) -> str:
    """The refusal's message, or "accepted: " and the PEM kept."""
    try:
        (pem,) = valid_certificates([text], ["x.pem"])
    except InvalidSpecError as e:
        return str(e)
    return f"accepted: {pem}"


@settings(max_examples=200)
@given(st.one_of(st.text(), st.integers(0, len(CA)).map(lambda at: CA[:at])))
def test_any_text_is_refused_in_printable_ascii_or_accepted_as_the_certificate(text: str) -> None:
    """Arbitrary text and every truncation of a certificate: a clean refusal, or the certificate itself."""
    said = outcome(text)
    if said.startswith("accepted: "):
        assert said == f"accepted: {CA}"
        return
    assert said.startswith(f'spec: --ca-certificate #1 "x.pem": {EXPECTED}'), said
    assert said.isascii()
    assert said.isprintable()


def test_client_mode_reads_each_file_into_every_spec(tmp_path: Path) -> None:
    (tmp_path / "a.pem").write_text(CA)
    (tmp_path / "b.crt").write_text(CA_2)
    args = parser().parse_args(
        ["ci", "--ca-certificate", str(tmp_path / "a.pem"), "--ca-certificate", str(tmp_path / "b.crt")]
    )
    assert {spec.ca_certificates for spec in specs_from_args(args)} == {(CA, CA_2)}


def test_client_mode_names_a_file_it_cannot_read(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    args = parser().parse_args(["build", "--ca-certificate", str(missing)])
    with pytest.raises(InvalidSpecError, match=r'--ca-certificate #1 ".*nope.pem": expected a readable file, found'):
        specs_from_args(args)


def test_client_mode_exits_1_naming_a_refused_file_before_connecting(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text(KEY_BLOCK)
    done = client_mode_without_engine("build", "--ca-certificate", str(bad))
    assert done.returncode == 1, done
    assert f'error: spec: --ca-certificate #1 "{bad}": {EXPECTED}' in done.stderr
    assert "PRIVATE KEY" in done.stderr
    assert "Traceback" not in done.stderr
