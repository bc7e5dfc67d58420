"""The limits of a page's sandbox, in one place, and how to tell that a failing block hit one.

Applied without cgroups (image/node.py): rlimits set inside the sandbox, after bubblewrap
made its user namespace, and one sized tmpfs for the page's /tmp, /scratch, /project,
/flash, /run and /dev/shm. The README's "The sandbox around a page" gives the numbers each
page of the guide uses today; keep these well above them.
"""

import re
from dataclasses import dataclass

GIB = 2**30


@dataclass(frozen=True)
class Limit:
    """One limit: its name in messages, its value as people read it, and its failure signs."""

    name: str
    shown: str
    signs: str  # a regular expression for what programs print when they hit it


# RLIMIT_NPROC counts the tasks (processes and threads) of the sandbox user in the page's
# own user namespace, so it is per page; set outside, it would count every process of the
# host user (all pages, or the caller's own editor and browser). About five times the busiest
# page's 413 tasks (threads count: Slurm's daemons and Apptainer's Go runtime start many).
PROCESSES = 2048
# RLIMIT_DATA: heap and private writable mappings of one process. Unlike RLIMIT_AS it does
# not count address space that Apptainer's Go runtime and glibc's malloc arenas only reserve.
DATA = 4 * GIB
# RLIMIT_FSIZE: the largest file a process may write, anywhere (home and work included).
FILE_SIZE = 1 * GIB
# RLIMIT_NOFILE: open files of one process.
OPEN_FILES = 4096
# One tmpfs (memory) for /tmp, /scratch/<project>, /project/<project>, /flash/<project>,
# /run and /dev/shm together.
AREAS_SIZE = 1 * GIB

LIMITS = (
    Limit("processes", f"{PROCESSES} processes and threads per page",
          r"fork: (retry: )?Resource temporarily unavailable|Cannot fork|can't start new thread|"
          r"BlockingIOError: \[Errno 11\]|Resource temporarily unavailable.*(fork|clone|thread)"),
    Limit("memory", f"{DATA // GIB} GiB of data per process (RLIMIT_DATA)",
          r"Cannot allocate memory|MemoryError|[Oo]ut of memory|bad_alloc|xmalloc: cannot allocate"),
    Limit("file size", f"{FILE_SIZE // GIB} GiB per file (RLIMIT_FSIZE)",
          r"File size limit exceeded|File too large"),
    Limit("space", f"{AREAS_SIZE // GIB} GiB for /tmp, /scratch, /project, /flash, /run and /dev/shm "
                   "together", r"No space left on device"),
    Limit("open files", f"{OPEN_FILES} open files per process", r"Too many open files"),
)
# A process killed by SIGXFSZ (the file-size limit) exits with 128 + 25.
FILE_SIZE_STATUS = 153


def ulimit_command():
    """bash that sets the rlimits (soft and hard, so a block cannot raise them) and execs "$@"."""
    return (f"ulimit -H -S -u {PROCESSES} -d {DATA // 1024} -f {FILE_SIZE // 1024} "
            f"-n {OPEN_FILES} && exec \"$@\"")


def limit_hit(status, output):
    """The Limit a failed block (exit `status`, merged `output`) ran into, or None."""
    if status == FILE_SIZE_STATUS:
        return LIMITS[2]
    for limit in LIMITS:
        if re.search(limit.signs, output):
            return limit
    return None


def message(limit):
    """The words for a hit limit, after `page:line: `."""
    return (f"the block hit the sandbox's {limit.name} limit ({limit.shown}; "
            f"set in image/limits.py)")
