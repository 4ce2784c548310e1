"""CPU time spent for a benchmark: this process's, its children's (a look's parts on SQLite run
in child interpreters) and, when PostgreSQL runs on this machine, its server processes' (a
look's queries run in its backends, a part of a look in a backend of its own).

Read from `/proc` on Linux: each `postgres` process's own time and the time of the children it
has waited for (the postmaster's finished parallel workers). Elsewhere only this process and
its children count.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path


def cpu_seconds() -> float:
    """CPU seconds used so far by this process, its finished children and PostgreSQL's
    processes on this machine (differences of two readings are what to compare)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    mine = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return mine + _postgres_seconds()


def _postgres_seconds() -> float:
    proc = Path("/proc")
    if not proc.is_dir():
        return 0.0
    ticks = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile, or not ours to read
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        if name != "postgres":
            continue
        fields = rest.split()
        # utime, stime, cutime, cstime: fields 14-17 of the line, 12-15 after the name.
        ticks += sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")
