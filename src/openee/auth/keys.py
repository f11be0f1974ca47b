"""Minting Google-format service-account JSON keys whose `token_uri` points at openee.

The private key is returned to the caller exactly once; the store only ever sees the public key.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from openee.auth.store import AuthStore
from openee.errors import AlreadyExistsError

# Informational fields of a Google JSON key. google-auth reads only client_email, private_key,
# private_key_id and token_uri; these are kept so the file looks exactly like Google's.
_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
_AUTH_PROVIDER_CERT_URL = "https://www.googleapis.com/oauth2/v1/certs"
_CLIENT_CERT_URL_PREFIX = "https://www.googleapis.com/robot/v1/metadata/x509/"
_UNIVERSE_DOMAIN = "googleapis.com"

_RSA_BITS = 2048
_RSA_PUBLIC_EXPONENT = 65537


def service_account_email(project: str, account_name: str = "openee") -> str:
    """Returns the e-mail of a service account, in Google's format.

    Args:
        project: The project id.
        account_name: The account id (the part before the `@`).

    Returns:
        `<account_name>@<project>.iam.gserviceaccount.com`.
    """
    return f"{account_name}@{project}.iam.gserviceaccount.com"


def _new_client_id() -> str:
    """Returns a random 21-digit numeric client id, like Google's."""
    return str(10**20 + secrets.randbelow(9 * 10**20))


def create_service_account_key(
    store: AuthStore, project: str, token_uri: str, account_name: str = "openee"
) -> dict[str, Any]:
    """Creates a key pair for a service account and registers its public half.

    The account is created if it does not exist yet.

    Args:
        store: Where the account and the public key are registered.
        project: The project the account belongs to.
        token_uri: The token endpoint written into the key, e.g. `http://127.0.0.1:8080/token`.
        account_name: The account id (the part before the `@` of the e-mail).

    Returns:
        A Google service-account JSON key (as a dict), including the PKCS#8 PEM private key.
    """
    email = service_account_email(project, account_name)
    if store.get_account(email) is None:
        # Another thread may create it between the check and the insert; that is fine.
        with contextlib.suppress(AlreadyExistsError):
            store.add_account(email, project, display_name=account_name)

    private_key = rsa.generate_private_key(public_exponent=_RSA_PUBLIC_EXPONENT, key_size=_RSA_BITS)
    private_pem = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        private_key.public_key()
        .public_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode("ascii")
    )
    kid = secrets.token_hex(20)
    store.add_key(email, kid, public_pem)

    return {
        "type": "service_account",
        "project_id": project,
        "private_key_id": kid,
        "private_key": private_pem,
        "client_email": email,
        "client_id": _new_client_id(),
        "auth_uri": _AUTH_URI,
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": _AUTH_PROVIDER_CERT_URL,
        "client_x509_cert_url": _CLIENT_CERT_URL_PREFIX + quote(email, safe=""),
        "universe_domain": _UNIVERSE_DOMAIN,
    }


def write_key_file(key: dict[str, Any], path: Path) -> None:
    """Writes a JSON key atomically with mode 0600.

    The file is written to a temporary file in the same directory and then renamed over
    `path`, so readers never see a partial key and the secret is never world-readable.

    Args:
        key: The key, as returned by `create_service_account_key`.
        path: The destination. Missing parent directories are created (mode 0700).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(key, fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
