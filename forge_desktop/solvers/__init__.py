"""Production-planning solvers that workers run as job types.

`registry` imports fast (no solver libraries); each solver module imports
OR-Tools or HiGHS only inside its solve function.
"""

from forge_desktop.solvers.registry import REGISTRY, JobType, PayloadError, get, solve, validate

__all__ = ["REGISTRY", "JobType", "PayloadError", "get", "solve", "validate"]
