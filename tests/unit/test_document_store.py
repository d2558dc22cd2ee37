"""Documents in an S3-compatible store (casework/documents.py `S3Storage`), as production keeps
them: against a real S3 server on loopback (moto's), with the real ClamAV scanning first."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.casework import documents
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, NotFound
from ap_register.domain.vocab import Role
from ap_register.models import Document
from tests.conftest import EICAR, free_port

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LIMIT = 1024 * 1024


@pytest.fixture()
def s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")):
        monkeypatch.setenv(name, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-2")
    # The server's buckets outlive it within the process: each test has its own.
    bucket = f"ap-register-documents-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    config = {
        "DOCUMENTS_DIR": str(tmp_path / "scratch"),
        "DOCUMENTS_S3_BUCKET": bucket,
        "DOCUMENTS_S3_ENDPOINT": endpoint,
        "DOCUMENTS_S3_REGION": "eu-west-2",
    }
    yield {"client": client, "config": config, "scratch": tmp_path / "scratch", "bucket": bucket}
    server.stop()


def as_(user: Any) -> Actor:
    return Actor(user=user, via="test")


def test_a_clean_upload_is_scanned_here_then_kept_encrypted_in_the_bucket_and_forgotten_with_the_record(
    db: Session, world: dict[str, Any], clamav: dict[str, Any], s3: dict[str, Any]
) -> None:
    home = world["home"]
    bucket = s3["bucket"]
    store = documents.storage_for(s3["config"])
    assert isinstance(store, documents.S3Storage)
    scanner = documents.Scanner("clamscan", clamav["database"])
    admin = as_(home["users"][Role.LA_ADMIN])
    draft = documents.DocumentDraft("plan.pdf", PDF, "support_plan", "all")
    kept = documents.upload(db, admin, home["pupil"].id, draft, store, scanner, LIMIT)
    head = s3["client"].head_object(Bucket=bucket, Key=kept.storage_key)
    assert head["ContentLength"] == len(PDF) and head["ServerSideEncryption"] == "AES256"
    assert list((s3["scratch"] / "quarantine").iterdir()) == []  # nothing left on the server's disk
    assert documents.open_document(db, admin, kept.id, store)[1] == PDF
    # The infected file never reaches the bucket.
    with pytest.raises(DomainError):
        documents.upload(
            db, admin, home["pupil"].id, documents.DocumentDraft("a.txt", EICAR, "report", "all"), store, scanner, LIMIT
        )
    assert [o["Key"] for o in s3["client"].list_objects_v2(Bucket=bucket)["Contents"]] == [kept.storage_key]
    documents.forget(db, home["pupil"], store)
    assert s3["client"].list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    with pytest.raises(NotFound):  # the row is gone too
        documents.open_document(db, admin, kept.id, store)


def test_a_store_that_cannot_be_reached_keeps_nothing_and_says_so(
    db: Session, world: dict[str, Any], clamav: dict[str, Any], s3: dict[str, Any]
) -> None:
    home = world["home"]
    store = documents.S3Storage("no-such-bucket", s3["client"], s3["scratch"])
    scanner = documents.Scanner("clamscan", clamav["database"])
    draft = documents.DocumentDraft("plan.pdf", PDF, "support_plan", "all")
    with pytest.raises(DomainError) as refused:
        documents.upload(db, as_(home["users"][Role.LA_ADMIN]), home["pupil"].id, draft, store, scanner, LIMIT)
    assert [e.message for e in refused.value.errors] == [documents.NOT_STORED]
    assert db.scalars(select(Document).where(Document.filename == "plan.pdf")).all() == []
    with pytest.raises(FileNotFoundError):
        documents.S3Storage(s3["bucket"], s3["client"], s3["scratch"]).read("never-kept")
