"""The AP census as the DfE's collection system takes it: one record per child, written as XML,
and checked against the specification's rules before anyone downloads it.

Sources (read December 2026; `docs/law-status.md` says what could and could not be read):
- The Education (Information about Children in Alternative Provision) (England) Regulations 2007
  require the return; census day is the third Thursday of January, and the census period runs
  from the day after the previous census day to census day inclusive (AP census 2024
  specification: "20 January 2023 to 18 January 2024 inclusive").
- Who is in it (AP census guide, "Which pupils to include", 2025): children born between
  1 September twenty years and 31 December three years before the census year ("pupils aged 2
  to 18") who attend a school not maintained by an LA whose full tuition fees the LA pays, or
  are educated otherwise than at a school, PRU, AP academy or AP free school under arrangements
  the LA makes and funds. Not pupils at a hospital school.
- One record per child: the placement module holds "the latest or last placement within the
  census period": the current placement, or the last one where the child is no longer in AP
  (AP census guide, "Data items", 2023).
- The items and their codes: UPN (with its check letter), names, date of birth, sex (M, F, U,
  "as recognised in law"), ethnicity, free school meal eligibility dates, SEN provision (E, K,
  N), home information with the UPRN, and the placement: URN, or UKPRN, or type of setting (NFE,
  OOT, OTH, WBP), never more than one; primary reason; entry and leaving dates; sessions a week;
  the URN of the school attended before.

What is NOT from the specification: its own element names and rule numbers could not be read
here. The XML follows the header and layout the DfE's other LA returns use (Message, Header with
CollectionDetails and Source, then one element per child), and the checks below are the
register's, each built from an item's published definition. The page and `NOT_PRODUCED` say so;
an LA must load the file into the collection system's own validation before it submits.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ap_register.domain.reference_data import english_la_codes
from ap_register.domain.upn import check_upn
from ap_register.domain.vocab import ETHNICITIES, SEXES, SenStatus

COLLECTION = "AP"
SOFTWARE_CODE = "ap_register"
SOURCE_LEVEL = "L"  # a local authority's return
SETTING_TYPE_CODES = frozenset({"NFE", "OOT", "OTH", "WBP"})
SEN_PROVISION_CODES = frozenset(status.value for status in SenStatus)
# The most sessions a child can attend in a week: two a day, five days.
MOST_SESSIONS = 10
STANDING = (
    "The file follows the layout of the DfE's other local authority returns; the AP census "
    "specification's own element names and rule numbers could not be checked. Load it into the "
    "collection system and clear its validation before you submit."
)
# Items the specification lists that the register does not yet hold, so never sends.
NOT_PRODUCED = (
    "unique learner number (for pupils aged 14 or over)",
    "middle names and preferred surname",
    "service children in education indicator",
    "post looked after arrangements",
    "early years pupil premium and the early learning entitlement for 2-year-olds",
    "association and attendance pattern of the placement (their code sets could not be read)",
)
POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}")
UPRN = re.compile(r"[1-9][0-9]{0,11}")
URN = re.compile(r"[0-9]{6}")
UKPRN = re.compile(r"1[0-9]{7}")
SESSIONS = re.compile(r"[0-9]{1,2}")


# --- who is in it --------------------------------------------------------------------------


def born_in_scope(born: date, census_year: int) -> bool:
    """Aged 2 to 18: born from 1 September twenty years before the census year to 31 December
    three years before it (the 2025 census: September 2005 to 31 December 2022)."""
    return date(census_year - 20, 9, 1) <= born <= date(census_year - 3, 12, 31)


def latest_or_last(placements: list[Any], census_day: date) -> Any:
    """The child's placement the census returns: the one open on census day (the latest to
    start, if several), or else the one that ended last."""
    open_on_day = [p for p in placements if p.end_date is None or p.end_date > census_day]
    if open_on_day:
        return max(open_on_day, key=lambda p: (p.start_date, p.id))
    return max(placements, key=lambda p: (p.end_date, p.start_date, p.id))


# --- the file ------------------------------------------------------------------------------


def release() -> str:
    """The register's version, for the header's Release."""
    try:
        return version("ap-register")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _add(parent: ET.Element, tag: str, value: Any) -> None:
    """An item with a value; an item with none is left out, as the specification asks."""
    if value is None or value == "":
        return
    ET.SubElement(parent, tag).text = str(value)


def to_xml(
    la_code: str, census_day: date, rows: list[dict[str, Any]], created: datetime, release: str, serial: int = 1
) -> bytes:
    """The return as XML: the header, then one Pupil per row of the people's view."""
    message = ET.Element("Message")
    header = ET.SubElement(message, "Header")
    details = ET.SubElement(header, "CollectionDetails")
    _add(details, "Collection", COLLECTION)
    _add(details, "Year", census_day.year)
    _add(details, "ReferenceDate", census_day.isoformat())
    source = ET.SubElement(header, "Source")
    _add(source, "SourceLevel", SOURCE_LEVEL)
    _add(source, "LEA", la_code)
    _add(source, "SoftwareCode", SOFTWARE_CODE)
    _add(source, "Release", release)
    _add(source, "SerialNo", f"{serial:03d}")
    _add(source, "DateTime", created.replace(microsecond=0, tzinfo=None).isoformat())
    pupils = ET.SubElement(message, "Pupils")
    for row in rows:
        pupil = ET.SubElement(pupils, "Pupil")
        ids = ET.SubElement(pupil, "PupilIdentifiers")
        _add(ids, "UPN", row["upn"])
        _add(ids, "Surname", row["last_name"])
        _add(ids, "Forename", row["first_name"])
        _add(ids, "DOB", row["date_of_birth"])
        _add(ids, "Sex", row["sex"])
        traits = ET.SubElement(pupil, "PupilCharacteristics")
        _add(traits, "Ethnicity", row["ethnicity"])
        if row["fsm_start"]:
            fsm = ET.SubElement(ET.SubElement(traits, "FSMList"), "FSM")
            _add(fsm, "FSMstartDate", row["fsm_start"])
            _add(fsm, "FSMendDate", row["fsm_end"])
        _add(ET.SubElement(pupil, "SpecialEducationalNeeds"), "SENprovision", row["sen_provision"])
        home = ET.SubElement(pupil, "HomeInformation")
        _add(home, "PostCode", row["postcode"])
        _add(home, "UPRN", row["uprn"])
        placement = ET.SubElement(pupil, "Placement")
        for tag, column in PLACEMENT_ITEMS:
            _add(placement, tag, row[column])
    ET.indent(message)
    return ET.tostring(message, encoding="utf-8", xml_declaration=True)


PLACEMENT_ITEMS = (
    ("URN", "urn"),
    ("UKPRN", "ukprn"),
    ("SettingType", "setting_type"),
    ("PrimaryReason", "primary_reason"),
    ("EntryDate", "entry_date"),
    ("LeavingDate", "leaving_date"),
    ("SessionsPerWeek", "sessions_per_week"),
    ("PreviousURN", "previous_urn"),
)


# --- the check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """One rule a record (or the header, record 0) breaks. `item` is the column of the people's
    view that holds the value to put right."""

    record: int
    upn: str
    item: str
    message: str
    severity: str = "error"  # "error": the return cannot be accepted; "query": check it


class _Record:
    def __init__(self, element: ET.Element):
        self.element = element

    def get(self, path: str) -> str | None:
        found = self.element.find(path)
        return found.text.strip() if found is not None and found.text and found.text.strip() else None

    def day(self, path: str) -> date | None:
        value = self.get(path)
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            return None


def check(xml: bytes, reasons: frozenset[str], period_start: date) -> list[Failure]:
    """Every failure in a return, read back from the file itself (so what is checked is what
    would be sent). `reasons` are the primary reason codes; `period_start` the census period's
    first day."""
    failures: list[Failure] = []
    try:
        root = ET.fromstring(xml)  # the register's own file: no DTD, no entities
    except ET.ParseError as error:
        return [
            Failure(0, "", "file", f"The file is not well-formed XML ({error}): a value holds a character XML cannot")
        ]
    found = root.find("Header")
    header = _Record(found if found is not None else ET.Element("Header"))

    def header_failure(item: str, message: str) -> None:
        failures.append(Failure(0, "", item, message))

    if header.get("CollectionDetails/Collection") != COLLECTION:
        header_failure("collection", f"The header's collection must be {COLLECTION}")
    reference = header.day("CollectionDetails/ReferenceDate")
    if reference is None or not (reference.month == 1 and reference.weekday() == 3 and 15 <= reference.day <= 21):
        header_failure("census_day", "The reference date must be census day, the third Thursday of January")
    elif header.get("CollectionDetails/Year") != str(reference.year):
        header_failure("census_day", "The header's year must be the year of census day")
    if header.get("Source/LEA") not in english_la_codes():
        header_failure("la_code", "The header's LEA must be an English local authority's three-digit code")
    if reference is None:
        return failures
    seen: dict[str, int] = {}
    for number, element in enumerate(root.iterfind("Pupils/Pupil"), start=1):
        failures.extend(_check_pupil(_Record(element), number, reference, period_start, reasons, seen))
    return failures


def _check_pupil(
    record: _Record, number: int, census_day: date, period_start: date, reasons: frozenset[str], seen: dict[str, int]
) -> list[Failure]:
    upn = record.get("PupilIdentifiers/UPN") or ""
    found: list[Failure] = []

    def fail(item: str, message: str, severity: str = "error") -> None:
        found.append(Failure(number, upn, item, message, severity))

    # Identifiers.
    checked = check_upn(upn)
    if not checked.valid:
        fail("upn", checked.message or "The UPN is not valid")
    elif upn in seen:
        fail("upn", f"The UPN is also on record {seen[upn]}: the census holds one record per child")
    else:
        seen[upn] = number
    for path, item, label in (("Surname", "last_name", "surname"), ("Forename", "first_name", "forename")):
        if record.get(f"PupilIdentifiers/{path}") is None:
            fail(item, f"The {label} is missing")
    born = record.day("PupilIdentifiers/DOB")
    if born is None:
        fail("date_of_birth", "The date of birth is missing")
    elif not born_in_scope(born, census_day.year):
        fail(
            "date_of_birth",
            f"Born {born:%-d %B %Y}: the census holds children born from 1 September {census_day.year - 20} "
            f"to 31 December {census_day.year - 3}",
        )
    sex = record.get("PupilIdentifiers/Sex")
    if sex not in SEXES:
        fail("sex", "Sex is required for every child: M, F or U (unknown), as recognised in law")

    # Characteristics.
    ethnicity = record.get("PupilCharacteristics/Ethnicity")
    if ethnicity not in ETHNICITIES:
        fail("ethnicity", "Ethnicity is missing or not a DfE code: record NOBT if it is not yet obtained")
    fsm_start = record.day("PupilCharacteristics/FSMList/FSM/FSMstartDate")
    fsm_end = record.day("PupilCharacteristics/FSMList/FSM/FSMendDate")
    if fsm_start is not None and fsm_start > census_day:
        fail("fsm_start", "Free school meal eligibility starts after census day")
    if fsm_start is not None and fsm_end is not None and fsm_end < fsm_start:
        fail("fsm_end", "Free school meal eligibility ends before it starts")

    # SEN and home.
    if record.get("SpecialEducationalNeeds/SENprovision") not in SEN_PROVISION_CODES:
        fail("sen_provision", "SEN provision must be E (EHC plan), K (SEN support) or N (none)")
    postcode = record.get("HomeInformation/PostCode")
    if postcode is None:
        fail("postcode", "The home postcode is missing", "query")
    elif not POSTCODE.fullmatch(postcode):
        fail("postcode", f"{postcode} is not a UK postcode")
    uprn = record.get("HomeInformation/UPRN")
    if uprn is not None and not UPRN.fullmatch(uprn):
        fail("uprn", "A UPRN is 1 to 12 digits, not starting with 0")

    # The placement.
    urn, ukprn, kind = (record.get(f"Placement/{tag}") for tag in ("URN", "UKPRN", "SettingType"))
    given = [item for item in (urn, ukprn, kind) if item is not None]
    if not given:
        fail("setting_type", "Give the setting's URN, or its UKPRN, or its type of setting where it has neither")
    elif len(given) > 1:
        fail("setting_type", "Give only one of the setting's URN, UKPRN and type of setting")
    if urn is not None and not URN.fullmatch(urn):
        fail("urn", "A URN is six digits")
    if ukprn is not None and not UKPRN.fullmatch(ukprn):
        fail("ukprn", "A UKPRN is eight digits starting with 1")
    if kind is not None and kind not in SETTING_TYPE_CODES:
        fail("setting_type", f"The type of setting must be one of {', '.join(sorted(SETTING_TYPE_CODES))}")
    if record.get("Placement/PrimaryReason") not in reasons:
        fail("primary_reason", "The primary reason for the placement is missing or not a census code")
    entry = record.day("Placement/EntryDate")
    leaving = record.day("Placement/LeavingDate")
    if entry is None:
        fail("entry_date", "The date of entry is missing")
    elif entry > census_day:
        fail("entry_date", "The date of entry is after census day")
    if leaving is not None:
        if entry is not None and leaving < entry:
            fail("leaving_date", "The date of leaving is before the date of entry")
        if leaving > census_day or leaving < period_start:
            fail("leaving_date", "The date of leaving is outside the census period")
    sessions = record.get("Placement/SessionsPerWeek")
    if sessions is None or not SESSIONS.fullmatch(sessions) or not 1 <= int(sessions) <= MOST_SESSIONS:
        fail("sessions_per_week", f"Sessions a week must be 1 to {MOST_SESSIONS}")
    previous = record.get("Placement/PreviousURN")
    if previous is not None and not URN.fullmatch(previous):
        fail("previous_urn", "The previous school's URN is six digits")
    return found
