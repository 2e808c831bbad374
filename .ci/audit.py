"""Audit the hashed locks for published vulnerabilities: pip-audit, with a fallback for pins
that pip-audit's service cannot answer (`make audit`; run from .ci/run).

pip-audit asks PyPI's per-release JSON API (/pypi/NAME/VERSION/json) for each pinned release.
Where that endpoint is not served (it answers 404 on the project's machines, which reach PyPI
through a mirror; the OSV service is not reachable at all), pip-audit marks the pin "skipped"
and, without --strict, exits 0: a false green. Here a skipped pin is looked up in the project's
JSON (/pypi/NAME/json), whose `vulnerabilities` are those of the latest release, so they apply to
a pin only when it *is* the latest release (right after `make lock LOCK_FLAGS=--upgrade` they
all are). A pin that is neither audited by pip-audit nor the latest release is listed as
"not audited"; it fails the audit only with AUDIT_STRICT=1.

Exit status: 0 clean, 1 a known vulnerability (or, with AUDIT_STRICT=1, a pin not audited),
2 the audit itself could not run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
PYPI = "https://pypi.org/pypi"


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(locks: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for lock in locks:
        for line in Path(lock).read_text().splitlines():
            m = PIN.match(line)
            if m:
                found[norm(m.group(1))] = m.group(2)
    return found


def pip_audit(locks: list[str]) -> dict[str, dict[str, object]]:
    args = [sys.executable, "-m", "pip_audit", "--disable-pip", "--require-hashes",
            "--progress-spinner", "off", "-f", "json"]
    for lock in locks:
        args += ["-r", lock]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(proc.stderr)
        print(f"audit: pip-audit gave no report (exit {proc.returncode})", file=sys.stderr)
        sys.exit(2)
    return {norm(d["name"]): d for d in report["dependencies"]}


def latest(name: str) -> tuple[str, list[dict[str, object]]]:
    with urllib.request.urlopen(f"{PYPI}/{name}/json", timeout=30) as resp:
        doc = json.load(resp)
    return doc["info"]["version"], doc.get("vulnerabilities") or []


def main(locks: list[str]) -> int:
    pinned = pins(locks)
    report = pip_audit(locks)
    vulnerable: list[str] = []
    unaudited: list[str] = []
    by_pip_audit = by_latest = 0
    for name, version in sorted(pinned.items()):
        dep = report.get(name, {})
        if dep and "skip_reason" not in dep:
            by_pip_audit += 1
            for v in dep.get("vulns", []):  # type: ignore[union-attr]
                vulnerable.append(f"{name}=={version}: {v['id']} (fixed in "
                                  f"{', '.join(v.get('fix_versions', [])) or '—'})")
            continue
        try:
            newest, vulns = latest(name)
        except (urllib.error.URLError, TimeoutError, KeyError, ValueError) as exc:
            print(f"audit: PyPI's JSON for {name} could not be read: {exc}", file=sys.stderr)
            return 2
        if newest != version:
            unaudited.append(f"{name}=={version} (latest {newest})")
            continue
        by_latest += 1
        for v in vulns:
            if not v.get("withdrawn"):
                vulnerable.append(f"{name}=={version}: {v['id']} {v.get('aliases') or ''} "
                                  f"(fixed in {', '.join(v.get('fixed_in') or []) or '—'})")
    print(f"audit: {len(pinned)} pins in {', '.join(locks)}: {by_pip_audit} audited by "
          f"pip-audit, {by_latest} by PyPI's advisories on the latest release, "
          f"{len(unaudited)} not audited, {len(vulnerable)} known vulnerabilities")
    for line in unaudited:
        print(f"  not audited (pip-audit's service has no answer and it is not the latest): {line}")
    for line in vulnerable:
        print(f"  VULNERABLE {line}")
    if vulnerable:
        print("audit: raise the minimum in pyproject.toml and run `make lock`", file=sys.stderr)
        return 1
    if unaudited and os.environ.get("AUDIT_STRICT") == "1":
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["requirements.lock", "requirements-test.lock"]))
