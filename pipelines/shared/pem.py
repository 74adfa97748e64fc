"""CA certificates given as PEM text: exactly one X.509 certificate per input, each once, in one canonical form."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import ssl
from collections.abc import Sequence

from pipelines.shared.errors import InvalidSpecError, shown

CA_CERTIFICATE_FLAG = "--ca-certificate"
_CA_FORM = 'one PEM certificate: a single "-----BEGIN CERTIFICATE-----" block of base64 DER (as openssl x509 writes it)'
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,64})-----(.*?)-----END \1-----", re.DOTALL)
_PEM_BEGIN = re.compile(r"-----BEGIN ")


def certificate_der(text: str) -> bytes:
    """The DER of text's one CERTIFICATE block; ValueError saying what text holds instead.

    One block per input: `openssl rehash`, which update-ca-certificates runs,
    skips a file of several certificates (so OpenSSL's directory lookup would
    miss them), and a private key beside the certificate must never reach an
    image. Text outside the block (openssl x509 -text's dump) is allowed.
    """
    blocks = _PEM_BLOCK.findall(text)
    if len(_PEM_BEGIN.findall(text)) != len(blocks):
        msg = "a -----BEGIN line without its -----END line"
        raise ValueError(msg)
    if not blocks:
        if not text.strip():
            msg = "an empty file"
            raise ValueError(msg)
        if not text.isascii() or not text.replace("\n", "").replace("\r", "").isprintable():
            msg = "binary data (a DER file? openssl x509 -inform der -in FILE -out FILE.pem converts it)"
            raise ValueError(msg)
        msg = "text without a PEM block"
        raise ValueError(msg)
    kinds = [kind for kind, _ in blocks]
    if kinds != ["CERTIFICATE"]:
        found = " and ".join(f"a {kind} block" for kind in kinds)
        key = " (a private key must never go into an image)" if any("PRIVATE KEY" in k for k in kinds) else ""
        several = "; pass each certificate with its own --ca-certificate" if kinds.count("CERTIFICATE") > 1 else ""
        msg = f"{found}{key}{several}"
        raise ValueError(msg)
    try:
        der = base64.b64decode(re.sub(r"[ \t\r\n]", "", blocks[0][1]), validate=True)
    except binascii.Error:
        msg = "a CERTIFICATE block whose body is not base64"
        raise ValueError(msg) from None
    try:  # OpenSSL itself parses it, as the image's OpenSSL will
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=der)
    except ssl.SSLError:
        msg = "a CERTIFICATE block that OpenSSL cannot read as an X.509 certificate"
        raise ValueError(msg) from None
    return der


def certificate_fingerprint(pem: str) -> str:
    """SHA-256 of a certificate's DER, lowercase hex (what openssl x509 -fingerprint -sha256 shows, without colons)."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def valid_certificates(values: Sequence[str] | None, names: Sequence[str] = ()) -> tuple[str, ...]:
    """PEM certificates, each exactly one, each once, re-encoded from their DER in one canonical form.

    names (file names or paths) say which input a refusal is about, beside its position.
    """
    found: dict[bytes, int] = {}
    for index, value in enumerate(values or (), start=1):
        which = f"{CA_CERTIFICATE_FLAG} #{index}" + (f" {shown(names[index - 1])}" if index <= len(names) else "")
        try:
            der = certificate_der(value if isinstance(value, str) else "")
        except ValueError as e:
            msg = f"{which}: expected {_CA_FORM}; found {e}"
            raise InvalidSpecError(msg) from None
        if der in found:
            msg = f"{which}: expected each certificate once; found the same one as #{found[der]}"
            raise InvalidSpecError(msg)
        found[der] = index
    return tuple(ssl.DER_cert_to_PEM_cert(der) for der in found)
