"""What a file given to `forge jobs submit` becomes: a POST /api/jobs body (a job, a batch
or a sweep), labelled with the instance's name when the file has one. The sniffing is
forge_contracts.jobfiles', the same the hub's upload route uses."""
from __future__ import annotations

from pathlib import Path

from forge_contracts.jobfiles import JobFileError, submission

from .errors import CliError

def load_job_file(path: Path, job_type: str | None, batch: bool, priority: int) -> dict:
    """Turn a file into a POST /api/jobs body, or raise CliError saying what is wrong."""
    try:
        text = path.read_text()
    except OSError as e:
        raise CliError(f"cannot read {path}: {e.strerror}") from None
    try:
        return submission(str(path), text, job_type, priority, batch=batch, how_to_type="pass --type").body
    except JobFileError as e:
        raise CliError(str(e)) from None
