"""Show that Linux's PAGEMAP_SCAN reports never-touched pages as written.

wasmtime 50 resets a reused instance slot by asking PAGEMAP_SCAN for the pages that are
"written, not the zero page, not a file page" and copying those back from the snapshot.
Without userfaultfd write protection, the kernel counts a page-table hole (a page never
touched) as written too, so wasmtime copied every hole back, and each became a private page
copied again after every later run. runtime/src/residency.rs explains the fix (populate the
slot's memory for reading first); this script shows the kernel behaviour on its own:

    python3 scripts/pagemap_holes.py

It maps a 256-page file privately (and 256 anonymous pages), reads pages 0-63, writes
pages 100-103, and prints the regions the scan reports with wasmtime's query, and with the
same query restricted to present or swapped pages. On Linux 6.7+ the first includes the
untouched pages 64-99 and 104-255; the second only 100-103. Linux only; standard library
only.
"""
import argparse
import ctypes
import mmap
import os
import struct
import tempfile

PAGEMAP_SCAN = 0xC0606610  # _IOWR('f', 16, struct pm_scan_arg), 96 bytes
WRITTEN, FILE, PRESENT, SWAPPED, PFNZERO = 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5
PAGE = mmap.PAGESIZE
PAGES = 256


def scan(base, anyof):
    """Regions (first page, end page, categories) that wasmtime's query reports."""
    regions = (ctypes.c_uint64 * (3 * 64))()
    arg = ctypes.create_string_buffer(struct.pack(
        "<12Q", 96, 0, base, base + PAGE * PAGES, 0, ctypes.addressof(regions), 64, 0,
        PFNZERO | FILE,  # category_inverted
        WRITTEN | PFNZERO | FILE,  # category_mask: written, not zero page, not file page
        anyof,  # category_anyof_mask
        WRITTEN | FILE | PRESENT | PFNZERO))  # return_mask
    libc = ctypes.CDLL(None, use_errno=True)
    pagemap = os.open("/proc/self/pagemap", os.O_RDONLY)
    try:
        n = libc.ioctl(pagemap, ctypes.c_ulong(PAGEMAP_SCAN), arg)
    finally:
        os.close(pagemap)
    if n < 0:
        raise OSError(ctypes.get_errno(), "PAGEMAP_SCAN (needs Linux 6.7 or later)")
    return [((regions[3 * i] - base) // PAGE, (regions[3 * i + 1] - base) // PAGE,
             hex(regions[3 * i + 2])) for i in range(n)]


def show(name, mapping):
    base = ctypes.addressof((ctypes.c_char * (PAGE * PAGES)).from_buffer(mapping))
    for page in range(64):
        mapping[page * PAGE]  # read
    for page in range(100, 104):
        mapping[page * PAGE] = 1  # write
    print(f"{name}: read pages 0-63, wrote pages 100-103")
    print(f"  wasmtime's query:          {scan(base, 0)}")
    print(f"  ... and present or swapped: {scan(base, PRESENT | SWAPPED)}")


def main():
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    with tempfile.TemporaryFile() as f:
        f.write(os.urandom(PAGE * PAGES))
        f.flush()
        show("private file mapping",
             mmap.mmap(f.fileno(), PAGE * PAGES, mmap.MAP_PRIVATE,
                       mmap.PROT_READ | mmap.PROT_WRITE))
    show("anonymous mapping",
         mmap.mmap(-1, PAGE * PAGES, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,
                   mmap.PROT_READ | mmap.PROT_WRITE))


if __name__ == "__main__":
    main()
