"""The register's fixed vocabularies, with their plain-English labels (the README's import
files, API and command use them).

Values are the stable codes used in files, the API and the database; labels are for people.
"""

from __future__ import annotations

from enum import StrEnum


class SettingKind(StrEnum):
    MAINSTREAM = "mainstream"
    SPECIAL = "special"
    PRU = "pru"
    AP_ACADEMY = "ap_academy"
    AP_FREE_SCHOOL = "ap_free_school"
    INDEPENDENT_AP = "independent_ap"
    UNREGISTERED_AP = "unregistered_ap"
    HOSPITAL = "hospital"
    POST16 = "post16"


SETTING_KIND_LABELS = {
    SettingKind.MAINSTREAM: "Mainstream school",
    SettingKind.SPECIAL: "Special school",
    SettingKind.PRU: "Pupil referral unit",
    SettingKind.AP_ACADEMY: "AP academy",
    SettingKind.AP_FREE_SCHOOL: "AP free school",
    SettingKind.INDEPENDENT_AP: "Independent AP school",
    SettingKind.UNREGISTERED_AP: "Unregistered AP provider",
    SettingKind.HOSPITAL: "Hospital or medical school",
    SettingKind.POST16: "FE or post-16 provider",
}

# Settings whose places are alternative provision (the three tiers apply to placements there).
AP_KINDS = frozenset(
    {
        SettingKind.PRU,
        SettingKind.AP_ACADEMY,
        SettingKind.AP_FREE_SCHOOL,
        SettingKind.INDEPENDENT_AP,
        SettingKind.UNREGISTERED_AP,
        SettingKind.HOSPITAL,
    }
)
# Settings that are schools, so a pupil can be on their admission register.
REGISTERED_SCHOOL_KINDS = frozenset(SettingKind) - {SettingKind.UNREGISTERED_AP, SettingKind.POST16}
# Settings that can be a pupil's school of main registration in the register's sense.
HOME_SCHOOL_KINDS = frozenset({SettingKind.MAINSTREAM, SettingKind.SPECIAL} | AP_KINDS) - {SettingKind.UNREGISTERED_AP}


class Route(StrEnum):
    HOME_SCHOOL = "home_school"
    PART_TIME_TIMETABLE = "part_time_timetable"
    OFF_SITE_DIRECTION = "off_site_direction"
    SCHOOL_ARRANGED = "school_arranged"
    SUSPENSION_PROVISION = "suspension_provision"
    MANAGED_MOVE = "managed_move"
    LA_EXCLUSION = "la_exclusion"
    LA_HEALTH = "la_health"
    LA_OTHER = "la_other"
    EHCP_NAMED = "ehcp_named"
    FAIR_ACCESS = "fair_access"


ROUTE_LABELS = {
    Route.HOME_SCHOOL: "Home school (school of main registration)",
    Route.PART_TIME_TIMETABLE: "Part-time timetable at the home school",
    Route.OFF_SITE_DIRECTION: "Off-site direction (s29A Education Act 2002)",
    Route.SCHOOL_ARRANGED: "Other school-commissioned AP",
    Route.SUSPENSION_PROVISION: "Provision from the sixth day of a suspension",
    Route.MANAGED_MOVE: "Managed move",
    Route.LA_EXCLUSION: "LA provision after a permanent exclusion (s19 Education Act 1996)",
    Route.LA_HEALTH: "LA provision for health needs (s19 Education Act 1996)",
    Route.LA_OTHER: "Other LA-arranged provision (s19 Education Act 1996)",
    Route.EHCP_NAMED: "Placement named in an EHC plan",
    Route.FAIR_ACCESS: "Fair access allocation",
}

# Routes the local authority arranges (the home school records K when the pupil stays on its roll).
LA_ROUTES = frozenset({Route.LA_EXCLUSION, Route.LA_HEALTH, Route.LA_OTHER})
# Routes that are time-limited by their nature: the pupil goes back to the home school.
ALWAYS_TIME_LIMITED = frozenset({Route.OFF_SITE_DIRECTION, Route.SUSPENSION_PROVISION})
# Routes a school arranges for a pupil on its own roll.
SCHOOL_ROUTES = frozenset(
    {
        Route.HOME_SCHOOL,
        Route.PART_TIME_TIMETABLE,
        Route.OFF_SITE_DIRECTION,
        Route.SCHOOL_ARRANGED,
        Route.SUSPENSION_PROVISION,
        Route.MANAGED_MOVE,
    }
)


class Tier(StrEnum):
    TIME_LIMITED = "time_limited"
    TRANSITIONAL = "transitional"


TIER_LABELS = {Tier.TIME_LIMITED: "Time-limited placement", Tier.TRANSITIONAL: "Transitional placement"}


class Registration(StrEnum):
    DUAL = "dual"
    SOLE = "sole"
    NONE = "none"


REGISTRATION_LABELS = {
    Registration.DUAL: "Dual registered",
    Registration.SOLE: "Sole registration",
    Registration.NONE: "Not registered (stays on the home school's roll)",
}


class HomeSchoolCode(StrEnum):
    D = "D"
    B = "B"
    K = "K"
    C2 = "C2"


HOME_SCHOOL_CODE_LABELS = {
    HomeSchoolCode.D: "D: dual registered at another school",
    HomeSchoolCode.B: "B: approved off-site educational activity",
    HomeSchoolCode.K: "K: education arranged by the local authority",
    HomeSchoolCode.C2: "C2: part-time timetable",
}


class Destination(StrEnum):
    RETURNED_HOME_SCHOOL = "returned_home_school"
    NEW_MAINSTREAM_SCHOOL = "new_mainstream_school"
    SPECIAL_SCHOOL = "special_school"
    OTHER_AP = "other_ap"
    POST16_EDUCATION = "post16_education"
    APPRENTICESHIP = "apprenticeship"
    EMPLOYMENT = "employment"
    NEET = "neet"
    MOVED_OUT_OF_AREA = "moved_out_of_area"
    ELECTIVE_HOME_EDUCATION = "elective_home_education"
    NOT_KNOWN = "not_known"


DESTINATION_LABELS = {
    Destination.RETURNED_HOME_SCHOOL: "Returned to the home school",
    Destination.NEW_MAINSTREAM_SCHOOL: "A new mainstream school",
    Destination.SPECIAL_SCHOOL: "A special school",
    Destination.OTHER_AP: "Other alternative provision",
    Destination.POST16_EDUCATION: "Post-16 education",
    Destination.APPRENTICESHIP: "Apprenticeship",
    Destination.EMPLOYMENT: "Employment",
    Destination.NEET: "Not in education, employment or training",
    Destination.MOVED_OUT_OF_AREA: "Moved out of the area",
    Destination.ELECTIVE_HOME_EDUCATION: "Elective home education",
    Destination.NOT_KNOWN: "Not known",
}


# Why a part-time timetable is agreed: in very exceptional circumstances, in the pupil's best
# interests, and never to manage behaviour (Working together to improve school attendance, 2024,
# paras 65 and 66). There is no behaviour choice.
PART_TIME_PURPOSES = {
    "medical": "A medical condition prevents the pupil attending full time",
    "reintegration": "Part of a plan to bring the pupil back to full-time education",
    "other": "Another exceptional reason in the pupil's best interests (say which in the reason)",
}


class SenStatus(StrEnum):
    NONE = "N"
    SEN_SUPPORT = "K"
    EHCP = "E"


SEN_STATUS_LABELS = {SenStatus.NONE: "No SEN", SenStatus.SEN_SUPPORT: "SEN support", SenStatus.EHCP: "EHC plan"}

# A child's sex as the censuses record it, "as recognised in law" (AP census guide, "Codes for
# the AP census": sex replaced gender from the 2024 census).
SEXES = {"M": "Male", "F": "Female", "U": "Unknown"}
# The DfE's main ethnicity codes, the code set the school and AP censuses share (CBDS). The
# extended codes (WENG, WSCO, ...) are not yet accepted: a child recorded with one is recorded
# under its main code.
ETHNICITIES = {
    "WBRI": "White - British",
    "WIRI": "White - Irish",
    "WIRT": "Traveller of Irish heritage",
    "WROM": "Gypsy / Roma",
    "WOTH": "Any other White background",
    "MWBC": "White and Black Caribbean",
    "MWBA": "White and Black African",
    "MWAS": "White and Asian",
    "MOTH": "Any other mixed background",
    "AIND": "Indian",
    "APKN": "Pakistani",
    "ABAN": "Bangladeshi",
    "AOTH": "Any other Asian background",
    "BCRB": "Black Caribbean",
    "BAFR": "Black - African",
    "BOTH": "Any other Black background",
    "CHNE": "Chinese",
    "OOTH": "Any other ethnic group",
    "REFU": "Refused",
    "NOBT": "Information not yet obtained",
}

# School census primary need codes.
PRIMARY_NEEDS = {
    "SPLD": "Specific learning difficulty",
    "MLD": "Moderate learning difficulty",
    "SLD": "Severe learning difficulty",
    "PMLD": "Profound and multiple learning difficulty",
    "SEMH": "Social, emotional and mental health",
    "SLCN": "Speech, language and communication needs",
    "HI": "Hearing impairment",
    "VI": "Visual impairment",
    "MSI": "Multi-sensory impairment",
    "PD": "Physical disability",
    "ASD": "Autistic spectrum disorder",
    "OTH": "Other difficulty or disability",
    "NSA": "SEN support but no specialist assessment of type of need",
}


class MovementKind(StrEnum):
    ADMITTED = "admitted"
    PERMANENT_EXCLUSION = "permanent_exclusion"
    SUSPENSION = "suspension"
    REMOVED_FROM_ROLL = "removed_from_roll"
    # The steps of a permanent exclusion (`placements.roll`): the pupil stays on the roll until
    # the process is over.
    EXCLUSION_UPHELD = "exclusion_upheld"
    REINSTATED = "reinstated"
    REVIEW_REQUESTED = "review_requested"
    REVIEW_CONCLUDED = "review_concluded"
    PLACEMENT_STARTED = "placement_started"
    PLACEMENT_REVIEWED = "placement_reviewed"
    PLACEMENT_ENDED = "placement_ended"
    PLACEMENT_CORRECTED = "placement_corrected"


MOVEMENT_KIND_LABELS = {
    MovementKind.ADMITTED: "Admitted to the roll",
    MovementKind.PERMANENT_EXCLUSION: "Permanently excluded",
    MovementKind.SUSPENSION: "Suspended",
    MovementKind.REMOVED_FROM_ROLL: "Removed from the roll",
    MovementKind.EXCLUSION_UPHELD: "Governing board will not reinstate (parents told)",
    MovementKind.REINSTATED: "Reinstated",
    MovementKind.REVIEW_REQUESTED: "Independent review requested",
    MovementKind.REVIEW_CONCLUDED: "Independent review (and any reconsideration) over, not reinstated",
    MovementKind.PLACEMENT_STARTED: "Placement recorded",
    MovementKind.PLACEMENT_REVIEWED: "Placement reviewed",
    MovementKind.PLACEMENT_ENDED: "Placement ended",
    MovementKind.PLACEMENT_CORRECTED: "Placement corrected",
}
# The movements that put a pupil on a school's roll or take them off it, and a permanent
# exclusion, which starts the process at whose end the pupil leaves the roll (`placements.roll`).
ROLL_KINDS = (MovementKind.ADMITTED, MovementKind.PERMANENT_EXCLUSION, MovementKind.REMOVED_FROM_ROLL)
# The later steps of a permanent exclusion.
EXCLUSION_PROCESS_KINDS = (
    MovementKind.EXCLUSION_UPHELD,
    MovementKind.REINSTATED,
    MovementKind.REVIEW_REQUESTED,
    MovementKind.REVIEW_CONCLUDED,
)
# The kinds a person or an import records directly; the placement kinds are written by the
# placement rules themselves.
ROLL_MOVEMENT_KINDS = (
    MovementKind.ADMITTED,
    MovementKind.PERMANENT_EXCLUSION,
    MovementKind.SUSPENSION,
    MovementKind.REMOVED_FROM_ROLL,
    *EXCLUSION_PROCESS_KINDS,
)


class Role(StrEnum):
    AP_HEAD = "ap_head"
    SCHOOL_LEAD = "school_lead"
    PANEL_MEMBER = "panel_member"
    PANEL_CHAIR = "panel_chair"
    COMMISSIONER = "commissioner"
    ATTENDANCE_OFFICER = "attendance_officer"
    LA_ADMIN = "la_admin"


ROLE_LABELS = {
    Role.AP_HEAD: "AP head or outreach lead",
    Role.SCHOOL_LEAD: "School lead (head, SENCo, inclusion lead)",
    Role.PANEL_MEMBER: "Panel member",
    Role.PANEL_CHAIR: "Panel chair",
    Role.COMMISSIONER: "Commissioner",
    Role.ATTENDANCE_OFFICER: "Attendance officer",
    Role.LA_ADMIN: "LA administrator",
}
# Roles held by people in a setting; the rest belong to a local authority.
SETTING_ROLES = frozenset({Role.AP_HEAD, Role.SCHOOL_LEAD})
LA_ROLES = frozenset(Role) - SETTING_ROLES
