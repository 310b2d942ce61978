#!/usr/bin/env python3
"""Zeroes the device code of every GPU architecture but one in a CUDA shared library's .nv_fatbin.

    prune_fatbin.py IN.so OUT.so ARCH        (ARCH 90: the H100/H200's sm_90 cubins are kept)

ONNX Runtime's CUDA provider (libonnxruntime_providers_cuda.so, 284 MB in 1.31.0) holds cubins for
sm_75, 80, 86, 89, 90 and 120 and no PTX. A GPU machine that only takes 64 MiB per transfer
(bench/gpu/README.md) needs it smaller: the payloads of the other architectures' entries are
overwritten with zeros, in place, so every offset, size and header stays as it was and the CUDA
runtime still finds the entry for its own architecture; zeros compress to nothing (284 MB -> 52 MB
with xz). The result runs only on ARCH; nothing else about the library changes.

Fatbin layout (one per translation unit, back to back in the section): a 16-byte header
(magic 0xBA55ED50, version u16, header size u16, size of the entries u64), then entries, each a
header (kind u16, u16, header size u32, payload size u64, u32, u32, minor u16, major u16, arch u32, …)
followed by its payload.
"""
import struct
import sys


def main():
    path, out, keep = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = bytearray(open(path, "rb").read())
    if data[:4] != b"\x7fELF":
        sys.exit(f"{path}: not an ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def section(i):
        return struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)

    names = section(shstrndx)[4]
    fatbin = None
    for i in range(shnum):
        s = section(i)
        name = data[names + s[0]: data.index(0, names + s[0])].decode()
        if name == ".nv_fatbin":
            fatbin = (s[4], s[5])
    if fatbin is None:
        sys.exit(f"{path}: no .nv_fatbin section")
    pos, end = fatbin[0], fatbin[0] + fatbin[1]
    kept = zeroed = 0
    while pos < end:
        magic, _, header, size = struct.unpack_from("<IHHQ", data, pos)
        if magic != 0xBA55ED50:
            pos += 8  # fatbins are 8-byte aligned; padding between them
            continue
        entry, stop = pos + header, pos + header + size
        while entry < stop:
            _, _, entry_header, payload, _, _, _, _, arch = struct.unpack_from("<HHIQIIHHI", data, entry)
            start = entry + entry_header
            if arch == keep:
                kept += payload
            else:
                data[start:start + payload] = bytes(payload)
                zeroed += payload
            entry = start + payload
        pos = stop
    if kept == 0:
        sys.exit(f"{path}: no sm_{keep} device code; nothing would run")
    open(out, "wb").write(data)
    print(f"{out}: kept {kept / 1e6:.1f} MB of sm_{keep} code, zeroed {zeroed / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
