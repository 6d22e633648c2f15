"""Field encryption with a searchable keyed hash (resident ID numbers, case notes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@cache
def _master_key() -> bytes:
    configured = settings.FIELD_ENCRYPTION_KEY
    if configured:
        return base64.urlsafe_b64decode(configured)
    # Embedded default: a key file in the data directory, created once, readable by us only.
    path = settings.DATA_DIR / "field.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.urlsafe_b64encode(os.urandom(32)))
    return base64.urlsafe_b64decode(path.read_bytes().strip())


def master_key_text() -> str:
    """The master key in use, as FIELD_ENCRYPTION_KEY takes it (for a process of our own)."""
    return base64.urlsafe_b64encode(_master_key()).decode()


def _derive(purpose: bytes) -> bytes:
    return hmac.new(_master_key(), purpose, hashlib.sha256).digest()


@cache
def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(b"sanlian-field-encryption")))


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong key must fail loudly, never show ciphertext
        raise ValueError("field cannot be decrypted with the configured key") from exc


@cache
def _search_hmac() -> hmac.HMAC:
    return hmac.new(_derive(b"sanlian-search-hash"), digestmod=hashlib.sha256)


def search_hash(value: str) -> str:
    """A keyed hash for exact-match search; without the key it reveals nothing. The keyed
    HMAC is made once per process and copied per value, like the encryption key (bulk
    writers hash a million values; keying it again costs more than the hash itself)."""
    mac = _search_hmac().copy()
    mac.update(value.encode())
    return mac.hexdigest()
