"""Type stubs of codefuel's native module (harness/python/src/lib.rs). Use the ``codefuel``
package, which wraps it in typed results; this module's requests and results are JSON text."""

import os
from typing import Dict, List, Literal, Optional, Union

__version__: str
DEFAULT_FUEL: int
FUEL_PER_SECOND: int
DEFAULT_FUEL_PER_TEST: int
DEFAULT_RUN_MEMORY_MIB: int
DEFAULT_EVAL_MEMORY_MIB: int
MAX_MEMORY_MIB: int
DEFAULT_TIMEOUT_SECS: float

class SandboxError(Exception):
    """codefuel itself failed (never a program's verdict)."""

class Engine:
    """A compiled guest and a pool of sandboxes; thread-safe, releases the GIL."""

    def __init__(self, jobs: Optional[int] = None,
                 cache_dir: Union[str, "os.PathLike[str]", None] = None,
                 guest: Optional[Literal["rustpython", "cpython"]] = None) -> None:
        """``ValueError`` for a guest other than ``"rustpython"`` or ``"cpython"``."""
    @property
    def guest(self) -> str: ...
    @property
    def jobs(self) -> int: ...
    @property
    def cache_dir(self) -> str: ...
    def run(self, source: str, stdin: bytes, fuel: int, memory_mib: int, timeout_secs: float,
            files: Optional[Dict[str, bytes]] = None,
            fetch: Optional[List[str]] = None) -> str:
        """A RunOutcome as JSON."""
    def judge(self, tasks: str, options: str) -> str:
        """JudgeResults as a JSON list."""
    def evaluate(self, request: str) -> str:
        """``{"results", "summary"}`` as JSON."""

def extract_code(answer: str) -> str:
    """The code ``codefuel judge --extract`` judges."""

def sanitize(code: str, entry_point: str) -> str:
    """evalplus 0.3.1's sanitizer."""
