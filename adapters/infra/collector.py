"""Python's cycle collector, set for relance's processes.

A relance process holds a large heap that lives long: the files it has loaded, the
keys and ciphers of the people it has opened, the state of each file a catch-up is
following. Python's defaults collect the youngest objects after every 700 new ones,
and the whole heap once a quarter of it is new: while a catch-up works through its
facts, each batch's rows and decoded facts outlive a few young collections, so the
whole heap was scanned again every few batches. That took a quarter of a catch-up's
CPU (4.1 of 16.1 s for 100,000 facts, `bench.projections`).

Collecting the young objects after 50,000 new ones instead leaves the batches time to
end before they are looked at, and takes the collector's share of a catch-up down to
0.2-0.4 s. Reference counting still frees at once everything that holds no cycle;
cycles wait a little longer, at most 50,000 objects of them (a few MiB).
"""

from __future__ import annotations

import gc

YOUNG = 50_000
"""New objects (net of those freed) between two collections of the youngest ones."""


def tune_collector() -> None:
    """Sets the collector's thresholds for this process (the older generations keep
    Python's own)."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, old)
