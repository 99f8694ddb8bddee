"""What a file given to `forge jobs submit` becomes: a POST /api/jobs body (a job, a batch
or a sweep), labelled with the instance's name when the file has one."""
from __future__ import annotations

import json
from pathlib import Path

from .errors import CliError


def load_job_file(path: Path, job_type: str | None, batch: bool, priority: int) -> dict:
    """Turn a file into a POST /api/jobs body, or raise CliError saying what is wrong."""
    try:
        text = path.read_text()
    except OSError as e:
        raise CliError(f"cannot read {path}: {e.strerror}") from None
    looks_json = path.suffix.lower() == ".json" or text.lstrip()[:1] in ("{", "[")
    try:
        doc = json.loads(text)
    except ValueError as e:
        if looks_json:
            raise CliError(json_error(path, text, e)) from None
        doc = None
    if doc is None:
        if job_type == "jobshop" or (job_type is None and _looks_like_jsplib(text)):
            return _labelled({"type": "jobshop", "payload": {"jsplib": text}, "priority": priority},
                             _jsplib_name(text))
        if job_type == "mps" or (job_type is None and path.suffix.lower() in (".mps", ".lp")):
            fmt = "lp" if path.suffix.lower() == ".lp" else "mps"
            return _labelled({"type": "mps", "payload": {"model": text, "format": fmt}, "priority": priority},
                             _mps_name(text))
        if job_type:
            raise CliError(f"{path} is not JSON: a {job_type} job needs a JSON payload")
        raise CliError(f"{path} is not JSON, a JSPLIB instance or an .mps/.lp model; pass --type mps if it is "
                       "an MPS or LP model under another name")
    if batch or (isinstance(doc, dict) and ("jobs" in doc or "sweep" in doc)) or isinstance(doc, list):
        jobs = doc if isinstance(doc, list) else doc.get("jobs")
        if isinstance(doc, dict) and "sweep" in doc:
            return doc
        if isinstance(doc, dict) and job_type == "jobshop" and _is_jobshop_payload(doc):
            return _labelled({"type": "jobshop", "payload": doc, "priority": priority}, _json_name(doc))
        if not isinstance(jobs, list) or not jobs:
            raise CliError(f"{path}: a batch must be a list of jobs or {{'jobs': [...]}}")
        return {"jobs": [j if isinstance(j, dict) and "type" in j else
                         _labelled({"type": job_type, "payload": j}, _json_name(j)) for j in jobs]}
    if not isinstance(doc, dict):
        raise CliError(f"{path}: expected a JSON object")
    if "type" in doc and "payload" in doc:
        doc.setdefault("priority", priority)
        return _labelled(doc, _json_name(doc.get("payload")))
    if not job_type:
        if "known_optimum" in doc or "items" in doc:
            job_type = "prodplan"
        else:
            raise CliError(f"{path} is a bare payload; pass --type (jobshop, prodplan, mps)")
    return _labelled({"type": job_type, "payload": doc, "priority": priority}, _json_name(doc))


def json_error(path: Path, text: str, e: ValueError) -> str:
    """Where a JSON file breaks, and whether it simply ends too early."""
    if not isinstance(e, json.JSONDecodeError):
        return f"{path} is not valid JSON: {e}"
    truncated = e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated string")
    return (f"{path} is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno}, character {e.pos})"
            + ("; the file ends early: is it truncated?" if truncated else ""))


def _is_jobshop_payload(doc: dict) -> bool:
    """A JSON job-shop payload ({"jobs": [[[machine, duration], ...], ...]}) rather than a batch."""
    jobs = doc.get("jobs")
    return isinstance(jobs, list) and all(isinstance(j, list) for j in jobs)


def _labelled(body: dict, name: str | None) -> dict:
    if name and not body.get("label"):
        body["label"] = name[:200]
    return body


def _json_name(doc: object) -> str | None:
    if isinstance(doc, dict):
        for key in ("name", "instance", "label"):
            if isinstance(doc.get(key), str) and doc[key].strip():
                return doc[key].strip()
    return None


def _jsplib_name(text: str) -> str | None:
    for line in text.splitlines()[:10]:
        words = line.lstrip("#+ ").split()
        if len(words) >= 2 and words[0].lower() == "instance":
            return words[1]
    return None


def _mps_name(text: str) -> str | None:
    for line in text.splitlines()[:20]:
        words = line.split()
        if len(words) >= 2 and words[0].upper() == "NAME":
            return words[1]
    return None


def _looks_like_jsplib(text: str) -> bool:
    lines = [l.split() for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    return bool(lines) and len(lines[0]) == 2 and all(x.isdigit() for x in lines[0])
