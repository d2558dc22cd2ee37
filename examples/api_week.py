#!/usr/bin/env python3
"""Place a pupil, record a week of their registers and read back their coverage, through the
JSON API alone (Python's standard library, nothing to install).

    python examples/api_week.py --url http://127.0.0.1:5000 --token "$TOKEN" \
        --upn K873210016001 --setting 873400 --week 2025-12-01 --route la_other --sessions 1111111100

Prints the pupil's coverage of that week as JSON. Exits 1 with the API's error (status and
message) when a call is refused: a pupil or setting the token's organisation cannot see is
"not found", exactly as if it did not exist.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta
from typing import Any

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")


class Refused(Exception):
    def __init__(self, status: int, body: dict[str, Any]):
        error = body.get("error", {})
        super().__init__(f"{status}: {error.get('message', 'refused')}")
        self.status, self.errors = status, error.get("errors", [])


def call(base: str, token: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        base.rstrip("/") + "/api/v1" + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as error:
        raise Refused(error.code, json.load(error)) from None


def one(items: list[dict[str, Any]], what: str) -> dict[str, Any]:
    if len(items) != 1:
        raise Refused(404, {"error": {"message": f"{what}: not found"}})
    return items[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--upn", help="The pupil's UPN (or give --pupil-id)")
    parser.add_argument("--pupil-id", type=int, help="The pupil's id in the register")
    parser.add_argument("--setting", help="The provider's ref: its URN, or a local ref (or give --setting-id)")
    parser.add_argument("--setting-id", type=int, help="The provider's id in the register")
    parser.add_argument("--week", required=True, type=date.fromisoformat, help="The Monday of the week")
    parser.add_argument("--route", default="la_other")
    parser.add_argument("--registration", default="dual")
    parser.add_argument("--tier", default="time_limited")
    parser.add_argument("--sessions", default="1111111111")
    parser.add_argument(
        "--planned-end", type=date.fromisoformat, help="The planned last day (a time-limited placement needs one)"
    )
    parser.add_argument("--reintegration-plan", help="How the pupil returns (a time-limited placement needs one)")
    parser.add_argument(
        "--code",
        help="The mark for each session the pupil attends (by default present: / in the morning, \\ in the afternoon)",
    )
    args = parser.parse_args(argv)
    if not (args.upn or args.pupil_id) or not (args.setting or args.setting_id):
        parser.error("give the pupil (--upn or --pupil-id) and the provider (--setting or --setting-id)")
    api = lambda method, path, body=None: call(args.url, args.token, method, path, body)  # noqa: E731
    try:
        if args.pupil_id:
            pupil = {"id": args.pupil_id}
        else:
            found = api("GET", "/pupils?" + urllib.parse.urlencode({"q": args.upn}))["items"]
            pupil = one(found, f"pupil {args.upn}")
        if args.setting_id:
            setting = {"id": args.setting_id}
        else:
            settings = api("GET", "/settings?" + urllib.parse.urlencode({"q": args.setting, "per_page": 200}))["items"]
            setting = one([s for s in settings if s["ref"] == args.setting], f"setting {args.setting}")
        made = api(
            "POST",
            "/placements",
            {
                "pupil_id": pupil["id"],
                "setting_id": setting["id"],
                "route": args.route,
                "registration": args.registration,
                "tier": args.tier,
                "sessions": args.sessions,
                "start_date": args.week.isoformat(),
                "planned_end_date": args.planned_end.isoformat() if args.planned_end else None,
                "reintegration_plan": args.reintegration_plan,
            },
        )
        for warning in made["warnings"]:
            print(f"warning: {warning}", file=sys.stderr)
        marks = [
            {
                "pupil_id": pupil["id"],
                "setting_id": setting["id"],
                "date": (args.week + timedelta(days=n // 2)).isoformat(),
                "session": "AM" if n % 2 == 0 else "PM",
                "code": args.code or ("/" if n % 2 == 0 else "\\"),
            }
            for n in range(10)
            if args.sessions[n] == "1"
        ]
        written = api("POST", "/attendance", {"marks": marks})
        print(f"placement {made['placement']['id']}; {written['written']} marks recorded", file=sys.stderr)
        coverage = api("GET", f"/pupils/{pupil['id']}/coverage?week={args.week.isoformat()}")
    except Refused as refused:
        print(f"refused: {refused}", file=sys.stderr)
        for problem in refused.errors:
            print(f"  {problem['field']}: {problem['message']}", file=sys.stderr)
        return 1
    print(json.dumps(coverage, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
