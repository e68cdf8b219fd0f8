"""Documents encrypted at rest: AES-256-GCM, one random nonce per file, the file's name bound in.

A stored file is ``ESD1`` + key id (8 bytes) + nonce (12 bytes) + ciphertext and tag.  The storage key (the
file's random name) is the associated data, so a file copied under another document's name does not decrypt.
The key comes from settings (``ESOCIAL_DOCUMENT_KEY``); production refuses to start without one
(:func:`portal.config.validate`).  Outside production a key is made once in ``<instance>/keys/document.key``.
Old keys (``document_old_keys``) still decrypt what they encrypted, so the key can be rotated.

Files live in ``upload_dir``, which settings keep outside the web root; they are only ever read through
:func:`serve`, after the view's permission check, and every read is audited by the caller.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal.config import Settings, SettingsError

MAGIC = b"ESD1"
KEY_ID_BYTES = 8
NONCE_BYTES = 12


class VaultError(RuntimeError):
    """A stored file cannot be read back: wrong key, changed on disk, or not ours."""


def _decode_key(value: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (ValueError, TypeError) as exc:
        raise SettingsError("document_key must be 32 random bytes, base64-encoded") from exc
    if len(key) != 32:
        raise SettingsError("document_key must be 32 random bytes, base64-encoded")
    return key


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"esocial-document-key" + key).digest()[:KEY_ID_BYTES]


def development_key(settings: Settings) -> str:
    """The key of a development or test instance, made once and kept beside its database."""
    path = settings.instance_dir() / "keys" / "document.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.b64encode(secrets.token_bytes(32)).decode("ascii"))
    return path.read_text().strip()


@dataclass(frozen=True)
class Vault:
    directory: Path
    current: bytes
    keys: dict[bytes, bytes]  # key id -> key
    allow_plaintext: bool = False  # files written before encryption existed (development instances only)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Vault":
        if settings.document_key:
            current = _decode_key(settings.document_key)
        elif settings.is_production:
            raise SettingsError("production needs ESOCIAL_DOCUMENT_KEY: documents are encrypted at rest")
        else:
            current = _decode_key(development_key(settings))
        keys = {key_id(current): current}
        for old in settings.document_old_keys:
            k = _decode_key(old)
            keys[key_id(k)] = k
        return cls(directory=settings.resolve(settings.upload_dir), current=current, keys=keys,
                   allow_plaintext=not settings.is_production)

    @staticmethod
    def new_name(suffix: str) -> str:
        return secrets.token_hex(16) + suffix

    def _path(self, name: str) -> Path:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise VaultError("not a storage key")
        return self.directory / name

    def encrypt(self, name: str, data: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return MAGIC + key_id(self.current) + nonce + AESGCM(self.current).encrypt(nonce, data, name.encode())

    def decrypt(self, name: str, blob: bytes) -> bytes:
        if not blob.startswith(MAGIC):
            if self.allow_plaintext:
                return blob
            raise VaultError("file is not encrypted")
        head = len(MAGIC)
        kid, nonce = blob[head:head + KEY_ID_BYTES], blob[head + KEY_ID_BYTES:head + KEY_ID_BYTES + NONCE_BYTES]
        key = self.keys.get(kid)
        if key is None:
            raise VaultError("file was encrypted with a key this portal does not have")
        try:
            return AESGCM(key).decrypt(nonce, blob[head + KEY_ID_BYTES + NONCE_BYTES:], name.encode())
        except InvalidTag as exc:
            raise VaultError("file was changed or does not belong under this name") from exc

    def put(self, name: str, data: bytes) -> None:
        path = self._path(name)
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.encrypt(name, data))
        os.replace(tmp, path)

    def get(self, name: str) -> bytes:
        try:
            blob = self._path(name).read_bytes()
        except FileNotFoundError as exc:
            raise VaultError("file is missing") from exc
        return self.decrypt(name, blob)

    def delete(self, name: str) -> None:
        try:
            self._path(name).unlink()
        except FileNotFoundError:
            pass


_cache: dict[tuple, Vault] = {}


def for_settings(settings: Settings) -> Vault:
    cache_key = (settings.env, settings.document_key, settings.document_old_keys, settings.upload_dir,
                 str(settings.instance_dir()))
    vault = _cache.get(cache_key)
    if vault is None:
        vault = _cache[cache_key] = Vault.from_settings(settings)
    return vault


def current() -> Vault:
    """The vault of the running app (needs an app context)."""
    from flask import current_app

    return for_settings(current_app.config["ESOCIAL"])


def serve(document, *, settings: Settings | None = None):
    """A download response for ``document`` (an :class:`portal.applications.models.Document`).

    Call only after the permission check, and audit the reading (``document_downloaded``).
    """
    from flask import abort, send_file

    vault = for_settings(settings) if settings is not None else current()
    try:
        data = vault.get(document.storage_key)
    except VaultError:
        abort(404)
    response = send_file(io.BytesIO(data), mimetype=document.content_type, as_attachment=True,
                         download_name=document.filename, max_age=0)
    response.headers["Cache-Control"] = "no-store, private"
    return response
