"""Uploaded documents: judged by content, encrypted at rest outside the web root, served only to those allowed,
every download in the audit trail."""
from __future__ import annotations

import base64
import dataclasses
import os

import pytest
from sqlalchemy import select

from portal.applications import services
from portal.applications.models import Application, Document
from portal.audit.models import AuditEvent
from portal.config import SettingsError, load_settings, validate
from portal.core import vault
from portal.core.db import db
from portal.core.errors import DomainError

PDF = b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n<< /Title (Certificat de nastere Munteanu) >>\nendobj\n"


@pytest.fixture
def draft(app, make_account):
    owner = make_account(first_name="Andrei", last_name="Munteanu")
    with app.app_context():
        application = Application(applicant_id=owner.id, created_by_id=owner.id, benefits=["birth_allowance"],
                                  current_step="documents", answers={})
        db.session.add(application)
        db.session.commit()
        return owner, application.ref


def upload(app, ref, owner, data=PDF, filename="certificat.pdf"):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        application = db.session.scalar(select(Application).where(Application.ref == ref))
        settings = app.config["ESOCIAL"]
        doc = services.add_document(db.session, application, actor=db.session.get(type(owner), owner.id),
                                    kind="foreign_birth_certificate", filename=filename, data=data,
                                    upload_dir=settings.resolve(settings.upload_dir),
                                    max_bytes=settings.max_upload_bytes)
        db.session.commit()
        return doc.ref, doc.storage_key


def test_the_file_on_disk_is_encrypted_and_outside_the_web_root(app, draft):
    owner, ref = draft
    _, key = upload(app, ref, owner)
    settings = app.config["ESOCIAL"]
    path = settings.resolve(settings.upload_dir) / key
    blob = path.read_bytes()
    assert blob.startswith(vault.MAGIC)
    assert b"PDF" not in blob and b"Munteanu" not in blob
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    static = (settings.resolve("static")).resolve()
    assert static not in path.resolve().parents


def test_the_owner_downloads_the_plain_file_and_the_download_is_logged(app, client, draft, login):
    owner, ref = draft
    doc_ref, _ = upload(app, ref, owner)
    login(client, owner)
    response = client.get(f"/applications/{ref}/documents/{doc_ref}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    with app.app_context():
        logged = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "document_downloaded")).all()
        assert [(e.actor_idnp, e.subject_idnp, e.object_id) for e in logged] == [(owner.idnp, owner.idnp, doc_ref)]


def test_another_citizen_gets_nothing_and_nothing_is_logged(app, client, draft, login, make_account):
    owner, ref = draft
    doc_ref, _ = upload(app, ref, owner)
    login(client, make_account())
    assert client.get(f"/applications/{ref}/documents/{doc_ref}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document_downloaded")) is None


def test_a_file_changed_on_disk_is_not_served(app, client, draft, login):
    owner, ref = draft
    doc_ref, key = upload(app, ref, owner)
    settings = app.config["ESOCIAL"]
    path = settings.resolve(settings.upload_dir) / key
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    login(client, owner)
    assert client.get(f"/applications/{ref}/documents/{doc_ref}").status_code == 404


def test_a_file_moved_under_another_documents_name_does_not_decrypt(app, draft):
    owner, ref = draft
    _, key = upload(app, ref, owner)
    with app.app_context():
        store = vault.current()
        other = store.new_name(".pdf")
        (store.directory / other).write_bytes((store.directory / key).read_bytes())
        with pytest.raises(vault.VaultError):
            store.get(other)
        assert store.get(key) == PDF


def test_another_key_cannot_read_and_an_old_key_still_can(app, draft):
    owner, ref = draft
    _, key = upload(app, ref, owner)
    settings = app.config["ESOCIAL"]
    with app.app_context():
        old_key = base64.b64encode(vault.current().current).decode()
    stranger = dataclasses.replace(settings, document_key=base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(vault.VaultError):
        vault.Vault.from_settings(stranger).get(key)
    rotated = dataclasses.replace(stranger, document_old_keys=(old_key,))
    assert vault.Vault.from_settings(rotated).get(key) == PDF


def test_production_never_reads_an_unencrypted_file(app, tmp_path):
    settings = dataclasses.replace(app.config["ESOCIAL"], env="production", upload_dir=str(tmp_path),
                                   document_key=base64.b64encode(os.urandom(32)).decode())
    store = vault.Vault.from_settings(settings)
    (tmp_path / "legacy.pdf").write_bytes(PDF)
    with pytest.raises(vault.VaultError):
        store.get("legacy.pdf")
    with pytest.raises(vault.VaultError):
        store.get("../etc/passwd")


@pytest.mark.parametrize("data, filename, message", [
    (b"<html><script>alert(1)</script></html>", "certificat.pdf", "PDF, JPEG or PNG"),
    (b"MZ\x90\x00 an executable", "photo.jpg", "PDF, JPEG or PNG"),
    (b"", "certificat.pdf", "empty"),
    (b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024), "big.pdf", "too large"),
])
def test_type_and_size_are_judged_by_content(app, draft, data, filename, message):
    owner, ref = draft
    with pytest.raises(DomainError) as refused:
        upload(app, ref, owner, data=data, filename=filename)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert message in str(refused.value)
    with app.app_context():
        assert db.session.scalar(select(Document)) is None


def test_the_type_comes_from_the_bytes_not_the_name(app, draft):
    owner, ref = draft
    upload(app, ref, owner, data=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, filename="scan.pdf")
    with app.app_context():
        assert db.session.scalar(select(Document.content_type)) == "image/png"


def test_production_refuses_to_start_without_a_document_key_or_with_uploads_in_the_web_root(settings):
    production = dataclasses.replace(settings, env="production", secret_key="x" * 40, dev_idp=False,
                                     base_url="https://esocial.gov.md", session_cookie_secure=True,
                                     database_url="postgresql+psycopg://esocial@db/esocial",
                                     idp_metadata_file="config/saml/mpass-metadata.xml",
                                     document_key=base64.b64encode(os.urandom(32)).decode())
    validate(production)  # complete: accepted
    with pytest.raises(SettingsError, match="DOCUMENT_KEY"):
        validate(dataclasses.replace(production, document_key=""))
    with pytest.raises(SettingsError, match="web root"):
        validate(dataclasses.replace(production, upload_dir="static/uploads"))
    with pytest.raises(SettingsError, match="32 random bytes"):
        vault.Vault.from_settings(dataclasses.replace(production, document_key="too-short"))


def test_the_development_key_is_made_once_and_kept(tmp_path):
    settings = load_settings("test", overrides={"instance_path": str(tmp_path), "upload_dir": str(tmp_path / "u")})
    first = vault.Vault.from_settings(settings).current
    second = vault.Vault.from_settings(settings).current
    assert first == second and len(first) == 32
    assert oct((tmp_path / "keys" / "document.key").stat().st_mode & 0o777) == "0o600"
