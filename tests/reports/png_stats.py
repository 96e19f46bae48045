#!/usr/bin/env python3
"""Share of non-background pixels in a PNG (8-bit RGB/RGBA/grey), decoded
with the standard library only (zlib + the PNG filters of RFC 2083 / the
PNG spec, section 9), so the browser test needs no imaging package.
Only the top `max_rows` rows (default 800) are decoded: pure-Python
unfiltering is slow and the top of a page is enough to tell it is not blank.
Prints: width rows_decoded share_non_white distinct_colours."""
import struct
import sys
import zlib


def decode(path, max_rows):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace:
                raise SystemExit(f"{path}: depth {depth} / interlace {interlace} not handled")
            bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompressobj().decompress(idat, (w * bpp + 1) * max_rows)
    stride = w * bpp
    rows, prev, off = [], bytearray(stride), 0
    h = min(h, max_rows)
    for _ in range(h):
        f, line = raw[off], bytearray(raw[off + 1:off + 1 + stride])
        off += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def main():
    w, h, bpp, rows = decode(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 800)
    ch = min(bpp, 3)
    non_white, colours = 0, set()
    for r in rows[::2]:                  # every other row: fast enough, same answer
        for x in range(0, w * bpp, bpp * 2):
            px = r[x:x + ch]
            if len(colours) < 1000:
                colours.add(px)
            if any(v < 245 for v in px):
                non_white += 1
    total = ((h + 1) // 2) * ((w + 1) // 2)
    print(w, h, f"{non_white / total:.4f}", len(colours))


main()
