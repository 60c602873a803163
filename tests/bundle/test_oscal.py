"""OSCAL documents in a real bundle: shape, internal references and stable UUIDs.

Validation against NIST's published JSON Schemas is in test_oscal_schema.py; the schemas
check structure only, so these checks add that every UUID reference resolves inside the
document and that UUIDs are stable.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from tests.bundle.conftest import Exported, members

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _walk(value: Any, key: str = "") -> list[tuple[str, Any]]:
    out = [(key, value)]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            out += _walk(v, key)
    return out


def test_oscal_documents(exported: Exported) -> None:
    files = members(exported.second)
    ap = json.loads(files["oscal/assessment-plan.json"])["assessment-plan"]
    ar = json.loads(files["oscal/assessment-results.json"])["assessment-results"]
    poam = json.loads(files["oscal/poam.json"])["plan-of-action-and-milestones"]
    for doc in (ap, ar, poam):
        assert UUID_RE.match(doc["uuid"])
        meta = doc["metadata"]
        assert meta["oscal-version"] and meta["last-modified"].endswith("Z")
        parties = {p["uuid"] for p in meta["parties"]}
        refs = [v for k, v in _walk(doc) if k in ("party-uuids", "party-uuid", "actor-uuid")]
        flat = {r for v in refs for r in (v if isinstance(v, list) else [v])}
        assert flat <= parties, "every referenced party is defined in metadata"
        uuids = [v for k, v in _walk(doc) if k == "uuid"]
        assert all(UUID_RE.match(u) for u in uuids)
    assert ar["import-ap"]["href"] == "oscal/assessment-plan.json"
    assert ap["import-ssp"]["href"] == "workbench.toml"
    result = ar["results"][0]
    signed = [a for a in result["attestations"] if "responsible-parties" in a]
    assert signed and all(a["responsible-parties"][0]["role-id"] == "signer" for a in signed)
    assert all("collected" in o and "expires" in o for o in result["observations"])
    risk_ids = {r["uuid"] for r in result.get("risks", [])}
    for f in result.get("findings", []):
        assert f["target"]["status"]["state"] == "not-satisfied"
        assert {r["risk-uuid"] for r in f["related-risks"]} <= risk_ids
    statuses = {r["status"] for r in result.get("risks", [])}
    assert statuses <= {"open", "closed", "deviation-approved"}
    assert result.get("findings"), "the demo has violations"
    assert any(e["title"].startswith("Review") for e in result["assessment-log"]["entries"])
    titles = {i["title"] for i in poam["poam-items"]}
    assert any("ownership" in t.lower() for t in titles)
    # stable ids: the same data gives the same documents
    again = members(exported.second)
    assert again["oscal/assessment-results.json"] == files["oscal/assessment-results.json"]
    assert str(uuid.UUID(ar["uuid"])) == ar["uuid"]
