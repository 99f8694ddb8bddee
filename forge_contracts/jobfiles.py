"""A file as a job submission: the same sniffing `forge jobs submit FILE` does, on a name and its text.

The hub's upload route (POST /api/jobs/upload, used by the dashboard and the desktop jobs
window) turns a chosen file into a POST /api/jobs body with `submission()`: a JSON job, a
batch or sweep, a bare JSON payload (its type given or recognised), a JSPLIB instance, or
an MPS/LP model. `JobFileError` says what is wrong in words a person can act on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

MAX_LABEL = 200


class JobFileError(ValueError):
    """A file that is no job submission, and why."""


@dataclass(frozen=True)
class Submission:
    """The POST /api/jobs body a file makes, and what the file was taken for (e.g. "JSPLIB instance")."""
    body: dict
    kind: str


def submission(name: str, text: str, job_type: str | None = None, priority: int = 0, *, batch: bool = False,
               how_to_type: str = "choose the type") -> Submission:
    """Turn the file `name` holding `text` into a submission, or raise JobFileError. `batch`:
    the file is a batch whatever it looks like; `how_to_type` is how the caller's user names a
    type in the messages (the CLI: "pass --type")."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    looks_json = suffix == "json" or text.lstrip()[:1] in ("{", "[")
    try:
        doc = json.loads(text)
    except ValueError as e:
        if looks_json:
            raise JobFileError(json_error(name, text, e)) from None
        doc = None
    if doc is None:
        if job_type == "jobshop" or (job_type is None and looks_like_jsplib(text)):
            return Submission(_labelled({"type": "jobshop", "payload": {"jsplib": text}, "priority": priority},
                                        jsplib_name(text)), "JSPLIB instance")
        if job_type == "mps" or (job_type is None and suffix in ("mps", "lp")):
            fmt = "lp" if suffix == "lp" else "mps"
            return Submission(_labelled({"type": "mps", "payload": {"model": text, "format": fmt},
                                         "priority": priority}, mps_name(text)), f"{fmt.upper()} model")
        if job_type:
            raise JobFileError(f"{name} is not JSON: a {job_type} job needs a JSON payload")
        raise JobFileError(f"{name} is not JSON, a JSPLIB instance or an .mps/.lp model; {how_to_type} mps "
                           "if it is an MPS or LP model under another name")
    if isinstance(doc, dict) and "sweep" in doc:
        return Submission(doc, "sweep")
    if batch or isinstance(doc, list) or (isinstance(doc, dict) and "jobs" in doc):
        if isinstance(doc, dict) and job_type == "jobshop" and is_jobshop_payload(doc):
            return Submission(_labelled({"type": "jobshop", "payload": doc, "priority": priority}, json_name(doc)),
                              "jobshop payload")
        jobs = doc if isinstance(doc, list) else doc.get("jobs")
        if not isinstance(jobs, list) or not jobs:
            raise JobFileError(f"{name}: a batch must be a list of jobs or {{'jobs': [...]}}")
        return Submission({"jobs": [j if isinstance(j, dict) and "type" in j else
                                    _labelled({"type": job_type, "payload": j}, json_name(j)) for j in jobs]},
                          "batch")
    if not isinstance(doc, dict):
        raise JobFileError(f"{name}: expected a JSON object")
    if "type" in doc and "payload" in doc:
        doc.setdefault("priority", priority)
        return Submission(_labelled(doc, json_name(doc.get("payload"))), "JSON job")
    if not job_type:
        if "known_optimum" in doc or "items" in doc:
            job_type = "prodplan"
        else:
            raise JobFileError(f"{name} is a bare payload; {how_to_type} (jobshop, prodplan, mps)")
    return Submission(_labelled({"type": job_type, "payload": doc, "priority": priority}, json_name(doc)),
                      f"{job_type} payload")


def json_error(name: str, text: str, e: ValueError) -> str:
    """Where a JSON file breaks, and whether it simply ends too early."""
    if not isinstance(e, json.JSONDecodeError):
        return f"{name} is not valid JSON: {e}"
    truncated = e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated string")
    return (f"{name} is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno}, character {e.pos})"
            + ("; the file ends early: is it truncated?" if truncated else ""))


def is_jobshop_payload(doc: dict) -> bool:
    """A JSON job-shop payload ({"jobs": [[[machine, duration], ...], ...]}) rather than a batch."""
    jobs = doc.get("jobs")
    return isinstance(jobs, list) and all(isinstance(j, list) for j in jobs)


def _labelled(body: dict, name: str | None) -> dict:
    if name and not body.get("label"):
        body["label"] = name[:MAX_LABEL]
    return body


def json_name(doc: object) -> str | None:
    if isinstance(doc, dict):
        for key in ("name", "instance", "label"):
            if isinstance(doc.get(key), str) and doc[key].strip():
                return doc[key].strip()
    return None


def jsplib_name(text: str) -> str | None:
    for line in text.splitlines()[:10]:
        words = line.lstrip("#+ ").split()
        if len(words) >= 2 and words[0].lower() == "instance":
            return words[1]
    return None


def mps_name(text: str) -> str | None:
    for line in text.splitlines()[:20]:
        words = line.split()
        if len(words) >= 2 and words[0].upper() == "NAME":
            return words[1]
    return None


def looks_like_jsplib(text: str) -> bool:
    lines = [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return bool(lines) and len(lines[0]) == 2 and all(x.isdigit() for x in lines[0])
