"""Where every benchmark keeps its figures: performance/results/KIND-DATE-DATABASE[SUFFIX].json."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ap_register import clock

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(kind: str, database_url: str, suffix: str = "", **figures: Any) -> Path:
    database = database_url.split(":", 1)[0].split("+")[0]
    out = RESULTS / f"{kind}-{clock.today().isoformat()}-{database}{suffix}.json"
    run = {"run_at": clock.local_now().isoformat(timespec="seconds"), "database": database, **figures}
    out.write_text(json.dumps(run, indent=2) + "\n")
    print(f"written to {out}", file=sys.stderr)
    return out
