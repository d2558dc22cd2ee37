"""ap_register is installable: the built wheel carries its templates, migrations, reference data
and built assets, and in a clean virtual environment `ap-register init-db` and the app work from
any directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from ap_register.config import PROJECT_ROOT

# Needs no database of the run's own: once a run, in one half (tests/conftest.py, left_out).
pytestmark = pytest.mark.any_database
LOCK = PROJECT_ROOT / "requirements.lock"


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: int = 600) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args[:3]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def test_the_wheel_installs_and_runs_from_any_directory(tmp_path: Path) -> None:
    assert (PROJECT_ROOT / "ap_register" / "static" / "css" / "main.css").exists(), "run `npm run build` first"
    # Built from a clean copy of the source: pip builds in the tree, and a `build/` left there by an
    # earlier build would carry modules that have since moved or gone into the wheel.
    source = tmp_path / "source"
    shutil.copytree(
        PROJECT_ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "node_modules", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache"
        ),
    )
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, source, cwd=tmp_path)
    (wheel,) = dist.glob("ap_register-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    package = PROJECT_ROOT / "ap_register"
    modules = {f"ap_register/{p.relative_to(package).as_posix()}" for p in package.rglob("*.py")}
    assert {n for n in names if n.endswith(".py")} == modules, "the wheel holds exactly the package's modules"
    for part in (
        "ap_register/templates/base.html",
        "ap_register/templates/register/placement.html",
        "ap_register/migrations/env.py",
        "ap_register/migrations/alembic.ini",
        "ap_register/static/css/main.css",
        "ap_register/reference/la_codes.csv",
    ):
        assert part in names, part
    assert any(n.startswith("ap_register/migrations/versions/") and n.endswith(".py") for n in names)
    assert not any(n.startswith(("tests/", "performance/")) for n in names)

    # A clean environment: only the wheel and the dependencies the lock file pins.
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", LOCK, wheel, cwd=tmp_path)

    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    environment = {
        "PATH": f"{env_dir / 'bin'}:{os.environ.get('PATH', '')}",
        "DATABASE_URL": f"sqlite:///{elsewhere / 'register.db'}",
        "SECRET_KEY": "a test secret, not for production",
        "AP_REGISTER_INSTANCE": str(elsewhere / "instance"),
        "HOME": str(tmp_path),
    }
    said = run(env_dir / "bin" / "ap-register", "init-db", cwd=elsewhere, env=environment)
    assert "bank holidays" in said.lower() or "database" in said.lower(), said
    check = (
        "from ap_register import create_app\n"
        "import ap_register\n"
        "assert 'site-packages' in ap_register.__file__, ap_register.__file__\n"
        "app = create_app()\n"
        "client = app.test_client()\n"
        "page = client.get('/sign-in')\n"
        "assert page.status_code == 200 and b'govuk-template' in page.data and b'Sign in' in page.data\n"
        "css = client.get('/static/css/main.css')\n"
        "assert css.status_code == 200 and b'govuk' in css.data, css.status_code\n"
        "print('served')\n"
    )
    assert "served" in run(python, "-c", check, cwd=elsewhere, env=environment)
