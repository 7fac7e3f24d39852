#!/usr/bin/env python3
"""Where a process's memory is, per mapping and, for its own executable, per
ELF section. Runs where the process runs (inside the guest; Python 3.11
standard library, as root for /proc/PID/pagemap):

    inspect_memory.py PID                 JSON on stdout
    inspect_memory.py PID --clear-refs    also clears the referenced bits first
                                          (then read again later: smaps'
                                          Referenced is what was touched since)

Per mapping: /proc/PID/smaps fields in KiB, and PssVM: Pss among this
machine's processes only (see vm_pss). Per section of /proc/PID/exe:
pages resident, and of those, pages that are private anonymous (written:
relocations applied, data changed; bit 61 of the pagemap entry clear) and
pages still the file's (read only).
"""
import json
import struct
import sys

PAGE = 4096


def smaps(pid):
    out, current = [], None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
                start, end = (int(x, 16) for x in head[0].split("-"))
                current = {"start": start, "end": end, "perms": head[1], "offset": int(head[2], 16),
                           "path": head[5] if len(head) > 5 else ""}
                out.append(current)
            elif head and head[0].endswith(":") and len(head) >= 2 and head[-1] == "kB":
                current[head[0][:-1]] = int(head[1])
    return out


def sections(path):
    """(name, vaddr, size) of the SHF_ALLOC sections of an ELF64 file."""
    with open(path, "rb") as f:
        data = f.read(64)
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
        f.seek(shoff)
        table = f.read(shentsize * shnum)
        headers = [struct.unpack_from("<IIQQQQIIQQ", table, i * shentsize) for i in range(shnum)]
        names_offset, names_size = headers[shstrndx][4], headers[shstrndx][5]
        f.seek(names_offset)
        names = f.read(names_size)
    result = []
    for name_index, kind, flags, addr, offset, size, *_ in headers:
        if flags & 0x2 and size:  # SHF_ALLOC
            name = names[name_index:names.index(b"\0", name_index)].decode()
            result.append((name, addr, size, bool(flags & 0x1), kind == 8))  # writable, NOBITS
    return result


def pagemap_entries(pid, start, end):
    with open(f"/proc/{pid}/pagemap", "rb") as f:
        f.seek(start // PAGE * 8)
        raw = f.read((end - start) // PAGE * 8)
    return struct.unpack(f"<{len(raw) // 8}Q", raw)


def pagemap_flags(pid, start, end):
    """For each page: (present, file-or-shared)."""
    return [(bool(e >> 63 & 1), bool(e >> 61 & 1)) for e in pagemap_entries(pid, start, end)]


def frames(pid):
    """{mapping start: [page frame number or None per page]} of a process."""
    out = {}
    with open(f"/proc/{pid}/maps") as f:
        spans = [tuple(int(x, 16) for x in line.split()[0].split("-")) for line in f]
    for start, end in spans:
        if end - start > 1 << 30:
            continue  # reservations, never resident
        try:
            out[start] = [e & ((1 << 55) - 1) if e >> 63 & 1 else None for e in pagemap_entries(pid, start, end)]
        except OSError:
            pass
    return out


def vm_pss(pid, maps):
    """Pss counted among this machine's processes only (the ones this /proc
    shows): each resident page divided by how many of them map it. The
    kernel's Pss also divides by processes of other containers that map the
    same file pages (the image's libraries): not what a VM of its own sees.
    Needs the page frame numbers (CAP_SYS_ADMIN). KiB per mapping start."""
    users = {}
    for entry in __import__("os").listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for pfns in frames(int(entry)).values():
                for pfn in set(p for p in pfns if p):
                    users[pfn] = users.get(pfn, 0) + 1
        except OSError:
            continue
    own = frames(pid)
    return {start: sum(4 / users.get(p, 1) for p in pfns if p) for start, pfns in own.items()}


def main():
    pid = int(sys.argv[1])
    if "--clear-refs" in sys.argv:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("1")
    maps = smaps(pid)
    shares = vm_pss(pid, maps)
    for m in maps:
        m["PssVM"] = round(shares.get(m["start"], 0.0), 1)
    exe = __import__("os").readlink(f"/proc/{pid}/exe")
    own = [m for m in maps if m["path"] == exe]
    base = min(m["start"] - m["offset"] for m in own) if own else 0
    pages = {}
    for m in own:
        for i, flags in enumerate(pagemap_flags(pid, m["start"], m["end"])):
            pages[m["start"] + i * PAGE] = flags
    # bss past the file's end is an anonymous mapping right after the last one.
    last = max((m["end"] for m in own), default=0)
    after = next((m for m in maps if m["start"] == last and not m["path"]), None)
    if after:
        for i, flags in enumerate(pagemap_flags(pid, after["start"], after["end"])):
            pages[after["start"] + i * PAGE] = flags
    # Each page counts for the section its first byte is in (or, in a gap,
    # the first section that starts inside it).
    found = sorted(sections(f"/proc/{pid}/exe"), key=lambda x: x[1])
    totals = {name: [0, 0] for name, *_ in found}

    def owner(page):
        for name, addr, size, *_ in found:
            if base + addr <= page < base + addr + size:
                return name
        return next((name for name, addr, *_ in found if page < base + addr < page + PAGE), None)

    for page, (present, file_backed) in pages.items():
        name = owner(page) if present else None
        if name:
            totals[name][0] += 1
            totals[name][1] += not file_backed
    per_section = [{"name": name, "size_kib": round(size / 1024, 1), "writable": writable,
                    "resident_kib": totals[name][0] * 4, "anonymous_kib": totals[name][1] * 4}
                   for name, addr, size, writable, nobits in found]
    print(json.dumps({"pid": pid, "exe": exe, "mappings": maps, "sections": per_section}))


if __name__ == "__main__":
    main()
