"""Documents on a child's record: the evidence behind a decision (a support plan, a report, a
letter received), kept outside the database and opened only once ClamAV has found it clean.

An upload is refused whole, with the reason, when its name, size or kind is wrong, or when the
virus scanner finds anything or cannot be run (the register never keeps a file it could not check).
The kinds taken are those a case file needs and a browser cannot run: PDF, Word (DOCX), JPEG and
PNG images, and plain text, each recognised by its first bytes, never by its name alone. A file
is scanned in the storage's own quarantine folder and moved into place only when clean
(`Scanner`: `clamscan`, with `CLAMAV_DATABASE` naming its signatures when set; production keeps
Debian's signatures up to date with `freshclam`).

Who uploads and reads: as case notes (casework/notes.py; `permissions.scope_documents`): the LA's
officers who work cases upload to their LA's children, a school or provider to the children it
works with; a document is for the LA's officers only (`la`) or also for the settings that work
with the child (`all`); the uploader always reads their own. Each upload and each opening is on
the child's audit trail. Anonymising the record deletes its documents, files and all.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import shutil
import subprocess
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import permissions
from ap_register.accounts import audit
from ap_register.casework.notes import ANONYMISED, AUDIENCES
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, FieldError, NotFound, Refusal
from ap_register.domain.text import control_character_problem, kept_text
from ap_register.domain.typed import record_id as record_id_of
from ap_register.models import CaseNote, Document, Placement, PlacementReview, Pupil, Referral

log = logging.getLogger(__name__)

CATEGORIES = {
    "support_plan": "Support or reintegration plan",
    "report": "Report (health, educational psychology, social care)",
    "letter": "Letter received",
    "evidence": "Other evidence",
}
# What the register keeps itself: a letter as it was sent (casework/letters.py).
LABELS = {**CATEGORIES, "letter_sent": "Letter sent"}
# What a file's first bytes say it is, and the names it may have.
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TYPES = {
    "application/pdf": (".pdf",),
    DOCX: (".docx",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "text/plain": (".txt",),
}
MAX_NAME = 200
MAX_DESCRIPTION = 400
NOT_CHECKED = (
    "The file could not be checked for viruses just now, so it was not kept. Try again later, or ask "
    "your local authority's administrator"
)


NOT_STORED = (
    "The file could not be stored just now, so it was not kept. Try again later, or ask your local "
    "authority's administrator"
)


class ScanUnavailable(Exception):
    """The scanner could not give an answer (not installed, no signatures, an error)."""


@dataclass(frozen=True)
class Scanner:
    """ClamAV's command-line scanner: 0 clean, 1 found, anything else no answer."""

    command: str = "clamscan"
    database: str = ""

    def scan(self, path: Path) -> str | None:
        """None when clean; the name of what was found otherwise."""
        args = [self.command, "--no-summary", "--stdout"]
        if self.database:
            args.append(f"--database={self.database}")
        try:
            done = subprocess.run([*args, str(path)], capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ScanUnavailable(str(error)) from error
        if done.returncode == 0:
            return None
        if done.returncode == 1:
            found = done.stdout.strip().rsplit(": ", 1)[-1].removesuffix(" FOUND")
            return found or "a virus"
        raise ScanUnavailable((done.stderr or done.stdout).strip()[:300])


class StorageUnavailable(Exception):
    """The document store could not be reached or gave an error."""


class Store(Protocol):
    """Where documents are kept, each under a random key; uploads wait in a local `quarantine`
    folder until they are scanned."""

    def quarantine(self) -> Path: ...

    def keep(self, waiting: Path, key: str) -> None: ...

    def put(self, key: str, data: bytes) -> None: ...

    def read(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class Storage:
    """A folder of documents (the default: `DOCUMENTS_DIR`), kept under `kept/`."""

    root: Path

    def quarantine(self) -> Path:
        folder = self.root / "quarantine"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def keep(self, waiting: Path, key: str) -> None:
        (self.root / "kept").mkdir(parents=True, exist_ok=True)
        shutil.move(str(waiting), self.root / "kept" / key)

    def put(self, key: str, data: bytes) -> None:
        """Keep a file the register made itself (no upload to scan)."""
        (self.root / "kept").mkdir(parents=True, exist_ok=True)
        (self.root / "kept" / key).write_bytes(data)

    def read(self, key: str) -> bytes:
        return (self.root / "kept" / key).read_bytes()

    def delete(self, key: str) -> None:
        (self.root / "kept" / key).unlink(missing_ok=True)


@dataclass(frozen=True)
class S3Storage:
    """A bucket of an S3-compatible store (production: `DOCUMENTS_S3_BUCKET`), each object
    encrypted at rest by the store (`encryption`, `AES256` unless the LA's store says otherwise);
    uploads are scanned in a local quarantine folder before they go."""

    bucket: str
    client: Any
    scratch: Path
    encryption: str = "AES256"

    def quarantine(self) -> Path:
        folder = self.scratch / "quarantine"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def keep(self, waiting: Path, key: str) -> None:
        try:
            self.put(key, waiting.read_bytes())
        finally:
            waiting.unlink(missing_ok=True)

    def put(self, key: str, data: bytes) -> None:
        sealed = {"ServerSideEncryption": self.encryption} if self.encryption else {}
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **sealed)
        except (BotoCoreError, ClientError) as error:
            raise StorageUnavailable(str(error)) from error

    def read(self, key: str) -> bytes:
        try:
            return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(key) from error
            raise StorageUnavailable(str(error)) from error
        except BotoCoreError as error:
            raise StorageUnavailable(str(error)) from error

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as error:
            raise StorageUnavailable(str(error)) from error


@functools.lru_cache(maxsize=4)
def _s3_client(endpoint: str, region: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint or None, region_name=region or None)


def storage_for(config: Mapping[str, Any]) -> Store:
    """The app's document store: the S3-compatible bucket `DOCUMENTS_S3_BUCKET` names (at
    `DOCUMENTS_S3_ENDPOINT`, in `DOCUMENTS_S3_REGION`; credentials as boto3 finds them, e.g. the
    standard AWS variables or the server's role), else the folder `DOCUMENTS_DIR`. Either way
    uploads wait in `DOCUMENTS_DIR/quarantine` until scanned."""
    scratch = Path(config["DOCUMENTS_DIR"])
    bucket = config.get("DOCUMENTS_S3_BUCKET") or ""
    if not bucket:
        return Storage(scratch)
    client = _s3_client(config.get("DOCUMENTS_S3_ENDPOINT") or "", config.get("DOCUMENTS_S3_REGION") or "")
    return S3Storage(bucket, client, scratch, config.get("DOCUMENTS_S3_ENCRYPTION", "AES256"))


# The records a document may be evidence for, as the upload page names them.
ATTACHABLE = {"referral": "the referral to the panel", "review": "the placement review", "note": "the case note"}


@dataclass(frozen=True)
class DocumentDraft:
    filename: str
    data: bytes
    category: str
    audience: str
    description: str = ""
    # The record it is evidence for (`ATTACHABLE`) and its id, or none: the child's record.
    attach_to: str = ""
    attach_id: int | None = None


def attachment(session: Session, actor: Actor, pupil: Pupil, kind: str, record_id: int | None) -> dict[str, int]:
    """The column naming the record a document is evidence for: one of the child's own the actor
    may see (NotFound otherwise, as any record outside their reach)."""
    if not kind:
        return {}
    found = None
    record_id = record_id_of(record_id)
    if kind == "referral" and record_id is not None:
        found = session.scalar(
            permissions.scope_referrals(
                actor, select(Referral.id).where(Referral.id == record_id, Referral.pupil_id == pupil.id)
            )
        )
    elif kind == "review" and record_id is not None:
        found = session.scalar(
            permissions.scope_placements(
                actor,
                select(PlacementReview.id)
                .join(Placement, Placement.id == PlacementReview.placement_id)
                .where(PlacementReview.id == record_id, Placement.pupil_id == pupil.id),
            )
        )
    elif kind == "note" and record_id is not None:
        found = session.scalar(
            permissions.scope_notes(
                actor, select(CaseNote.id).where(CaseNote.id == record_id, CaseNote.pupil_id == pupil.id)
            )
        )
    if found is None:
        raise NotFound("Page not found")
    return {f"{kind}_id": found}


def attached(session: Session, actor: Actor, column: str, ids: list[int]) -> dict[int, list[Document]]:
    """The documents the actor may open that are evidence for these records (`column`:
    `referral_id`, `review_id` or `note_id`), by record."""
    if not ids:
        return {}
    link = getattr(Document, column)
    found: dict[int, list[Document]] = {}
    for document in session.scalars(
        permissions.scope_documents(actor, select(Document).where(link.in_(ids)).order_by(Document.id))
    ):
        found.setdefault(getattr(document, column), []).append(document)
    return found


def descriptions(session: Session, shown: list[Document]) -> dict[int, str]:
    """What record, if any, each document is evidence for, as a list of documents says it (the
    reviews' and notes' days read in one query each, not one a document)."""
    reviews = {r.id: r.review_date for r in _by_id(session, PlacementReview, {d.review_id for d in shown})}
    notes_on = {n.id: n.happened_on for n in _by_id(session, CaseNote, {d.note_id for d in shown})}
    said = {}
    for d in shown:
        if d.referral_id is not None:
            said[d.id] = "for the referral to the panel"
        elif d.review_id is not None:
            said[d.id] = (
                f"for the review of {reviews[d.review_id]:%-d %B %Y}" if d.review_id in reviews else "for a review"
            )
        elif d.note_id is not None:
            said[d.id] = f"for the note of {notes_on[d.note_id]:%-d %B %Y}" if d.note_id in notes_on else "for a note"
        else:
            said[d.id] = ""
    return said


def _by_id(session: Session, model: Any, ids: set[int | None]) -> list[Any]:
    wanted = {i for i in ids if i is not None}
    return list(session.scalars(select(model).where(model.id.in_(wanted)))) if wanted else []


def describe(session: Session, document: Document) -> str:
    """What record, if any, one document is evidence for."""
    return descriptions(session, [document])[document.id]


def made_document(
    session: Session, actor: Actor, pupil_id: int, name: str, content_type: str, data: bytes, category: str,
    audience: str, description: str, **links: int,
) -> Document:  # fmt: skip
    """The row of a file the register made itself (a sent letter's PDF, the demo's plan), under a
    new random key: the caller keeps the bytes there (`Store.put`) in the same transaction."""
    user = actor.user
    document = Document(
        pupil_id=pupil_id, filename=name, content_type=content_type, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), storage_key=uuid.uuid4().hex, category=category, audience=audience,
        description=description, uploaded_by_id=actor.user_id, uploaded_by_name=user.name if user else actor.name,
        organisation=user.organisation_name if user else "", **links,
    )  # fmt: skip
    session.add(document)
    session.flush()
    return document


def kind_of(data: bytes, filename: str) -> str | None:
    """The file's type, from its first bytes, when its name agrees; None otherwise."""
    suffix = Path(filename).suffix.lower()
    found: str | None = None
    if data.startswith(b"%PDF-"):
        found = "application/pdf"
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        found = "image/png"
    elif data.startswith(b"\xff\xd8\xff"):
        found = "image/jpeg"
    elif data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    found = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        except zipfile.BadZipFile:
            found = None
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and "\x00" not in text:
            found = "text/plain"
    return found if found is not None and suffix in TYPES[found] else None


def upload(
    session: Session, actor: Actor, pupil_id: int, draft: DocumentDraft, storage: Store, scanner: Scanner, limit: int
) -> Document:
    """Keep a document on the child's record once it is checked and scanned clean."""
    pupil = permissions.get_pupil(session, actor, pupil_id)
    permissions.require(session, actor, "document.upload", pupil)
    if pupil.anonymised_on is not None:
        raise DomainError("The document was not kept", [FieldError("", ANONYMISED)])
    attached = attachment(session, actor, pupil, draft.attach_to, draft.attach_id)
    refusal = Refusal()
    if "note_id" in attached and draft.audience == "all":
        note = session.get(CaseNote, attached["note_id"])
        if note is not None and note.audience == "la":
            refusal.add("audience", "The note is for the local authority's officers only, so its documents are too")
    name = Path(draft.filename.replace("\\", "/")).name.strip()
    problem = control_character_problem(name)
    kind = None
    if not draft.data:
        refusal.add("file", "Choose a file" if not name else "The file is empty")
    elif len(draft.data) > limit:
        refusal.add("file", f"The file must be smaller than {limit // (1024 * 1024)} MB")
    elif not name or len(name) > MAX_NAME or problem:
        refusal.add("file", f"The file's name must be readable text of {MAX_NAME} characters or fewer")
    else:
        kind = kind_of(draft.data, name)
        if kind is None:
            refusal.add("file", "The file must be a PDF, a Word document (DOCX), a JPEG or PNG image, or plain text")
    if draft.category not in CATEGORIES:
        refusal.add("category", "Choose what the document is")
    if draft.audience not in AUDIENCES:
        refusal.add("audience", "Choose who may open it")
    description = kept_text(
        refusal, "description", "The description", draft.description, MAX_DESCRIPTION, multiline=True
    )
    refusal.raise_if_any("The document was not kept")
    assert kind is not None
    key = uuid.uuid4().hex
    waiting = storage.quarantine() / key
    waiting.write_bytes(draft.data)
    try:
        found = scanner.scan(waiting)
    except ScanUnavailable as error:
        waiting.unlink(missing_ok=True)
        log.error("The virus scanner gave no answer: %s", error)
        raise DomainError("The document was not kept", [FieldError("file", NOT_CHECKED)]) from error
    if found is not None:
        waiting.unlink(missing_ok=True)
        log.warning("An upload to pupil %s was refused: the scanner found %s", pupil.id, found)
        raise DomainError(
            "The document was not kept",
            [FieldError("file", f"The virus scanner found {found} in the file, so it was not kept")],
        )
    user = actor.user
    document = Document(
        pupil_id=pupil.id,
        filename=name,
        content_type=kind,
        size=len(draft.data),
        sha256=hashlib.sha256(draft.data).hexdigest(),
        storage_key=key,
        category=draft.category,
        audience=draft.audience,
        description=description,
        uploaded_by_id=actor.user_id,
        uploaded_by_name=user.name if user is not None else actor.name,
        organisation=user.organisation_name if user is not None else "",
        **attached,
    )
    with session.begin_nested():
        session.add(document)
        session.flush()
        audit.record(
            session, actor, "create", "document", document.id, pupil_id=pupil.id,
            detail={"category": draft.category, "audience": draft.audience, "size": len(draft.data), "type": kind}
            | attached,
        )  # fmt: skip
        # Stored within the savepoint: a store that fails takes the row and its audit back with it.
        try:
            storage.keep(waiting, key)
        except (OSError, StorageUnavailable) as error:
            log.error("A document could not be stored: %s", error)
            raise DomainError("The document was not kept", [FieldError("file", NOT_STORED)]) from error
    return document


def visible(session: Session, actor: Actor, pupil: Pupil) -> list[Document]:
    """The child's documents the actor may open, newest first."""
    return list(
        session.scalars(
            permissions.scope_documents(
                actor, select(Document).where(Document.pupil_id == pupil.id).order_by(Document.id.desc())
            )
        )
    )


def open_document(session: Session, actor: Actor, document_id: int, storage: Store) -> tuple[Document, bytes]:
    """A document the actor may open, and its bytes; the opening is on the child's audit trail."""
    found = session.scalar(permissions.scope_documents(actor, select(Document).where(Document.id == document_id)))
    if found is None:
        raise NotFound("Page not found")
    try:
        data = storage.read(found.storage_key)
    except FileNotFoundError as error:
        raise NotFound("Page not found") from error
    audit.record(session, actor, "view", "document", found.id, pupil_id=found.pupil_id)
    return found, data


def forget(session: Session, pupil: Pupil, storage: Store | None) -> None:
    """Anonymising: the child's documents go, files and rows."""
    for document in session.scalars(select(Document).where(Document.pupil_id == pupil.id)):
        if storage is not None:
            storage.delete(document.storage_key)
        session.delete(document)
