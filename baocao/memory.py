"""Handing freed memory back to the system after a batch stage.

A national batch frees hundreds of MB between stages (the parsed rows once loaded, Great
Expectations' frames once validated, the Arrow tables once inserted), but the allocators keep
the pages for reuse: glibc's heap until it is trimmed, Arrow's pool until it is told to release
them. The marts' build that follows allocates through DuckDB's own allocator, which cannot reuse
them, so without this the process's peak is the sum of both."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache


@cache
def _libc():
    name = ctypes.util.find_library("c")
    try:
        lib = ctypes.CDLL(name) if name else None
        return lib if lib is not None and hasattr(lib, "malloc_trim") else None
    except OSError:
        return None


def give_back() -> None:
    """Collect garbage, release Arrow's unused pool memory and trim the C heap (glibc only; a
    no-op elsewhere)."""
    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except (ImportError, AttributeError):
        pass
    lib = _libc()
    if lib is not None:
        lib.malloc_trim(0)
