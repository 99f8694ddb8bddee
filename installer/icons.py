"""Draws the Forge mark (a flame over an anvil) and writes it as PNG, ICO and ICNS.

Pure Python, no imaging library: shapes are polygons in a unit square, filled
with scanline coverage (4 sub-rows per pixel, exact horizontal coverage), then
composited as RGBA. ICO and ICNS files embed the PNGs, which both formats allow.

    python installer/icons.py --resources            # the committed PNGs
    python installer/icons.py --ico X.ico --icns X.icns  # build-time icons
"""
from __future__ import annotations

import argparse
import math
import struct
import zlib
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "forge_desktop" / "resources"
Polygon = list[tuple[float, float]]
Color = tuple[int, int, int]


def _rounded_square(margin: float, radius: float, steps: int = 8) -> Polygon:
    lo, hi = margin, 1 - margin
    corners = [(hi - radius, lo + radius, -90), (hi - radius, hi - radius, 0),
               (lo + radius, hi - radius, 90), (lo + radius, lo + radius, 180)]
    points = []
    for cx, cy, start in corners:
        for i in range(steps + 1):
            a = math.radians(start + 90 * i / steps)
            points.append((cx + radius * math.cos(a), cy + radius * math.sin(a)))
    return points


ANVIL: Polygon = [(0.10, 0.49), (0.30, 0.46), (0.84, 0.46), (0.84, 0.56), (0.71, 0.58), (0.63, 0.66),
                  (0.65, 0.72), (0.78, 0.76), (0.78, 0.84), (0.28, 0.84), (0.28, 0.76), (0.41, 0.72),
                  (0.43, 0.66), (0.37, 0.58), (0.30, 0.56), (0.19, 0.53)]
FLAME: Polygon = [(0.57, 0.10), (0.63, 0.20), (0.69, 0.29), (0.71, 0.36), (0.68, 0.41), (0.62, 0.44),
                  (0.52, 0.44), (0.46, 0.41), (0.43, 0.36), (0.45, 0.29), (0.49, 0.24), (0.52, 0.30),
                  (0.55, 0.21)]
FLAME_CORE: Polygon = [(0.58, 0.24), (0.63, 0.32), (0.64, 0.38), (0.61, 0.42), (0.54, 0.42), (0.51, 0.38),
                       (0.53, 0.32)]
LAYERS: list[tuple[Polygon, Color]] = [
    (_rounded_square(0.03, 0.2), (31, 41, 55)),
    (ANVIL, (203, 213, 225)),
    (FLAME, (249, 115, 22)),
    (FLAME_CORE, (250, 204, 21)),
]


def _coverage(poly: Polygon, size: int, sub_rows: int = 4) -> list[float]:
    cover = [0.0] * (size * size)
    edges = list(zip(poly, poly[1:] + poly[:1]))
    for sub in range(size * sub_rows):
        y = (sub + 0.5) / sub_rows
        xs = sorted(x0 + (y / size - y0) * (x1 - x0) / (y1 - y0)
                    for (x0, y0), (x1, y1) in ((a, b) for a, b in edges)
                    if (y0 <= y / size < y1) or (y1 <= y / size < y0))
        row = int(sub // sub_rows) * size
        for a, b in zip(xs[::2], xs[1::2]):
            a, b = max(a * size, 0.0), min(b * size, float(size))
            for px in range(int(a), min(math.ceil(b), size)):
                cover[row + px] += (min(b, px + 1) - max(a, px)) / sub_rows
    return cover


def render_rgba(size: int) -> bytes:
    pixels = [[0.0, 0.0, 0.0, 0.0] for _ in range(size * size)]
    for poly, color in LAYERS:
        for i, alpha in enumerate(_coverage(poly, size)):
            if alpha <= 0:
                continue
            alpha = min(alpha, 1.0)
            p = pixels[i]
            out_a = alpha + p[3] * (1 - alpha)
            for c in range(3):
                p[c] = (color[c] * alpha + p[c] * p[3] * (1 - alpha)) / out_a
            p[3] = out_a
    return bytes(round(v if c < 3 else v * 255) for p in pixels for c, v in enumerate(p))


def png(size: int) -> bytes:
    rgba = render_rgba(size)
    stride = size * 4
    raw = b"".join(b"\x00" + rgba[y * stride:(y + 1) * stride] for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def ico(pngs: dict[int, bytes]) -> bytes:
    sizes = sorted(pngs)
    offset = 6 + 16 * len(sizes)
    head, body = struct.pack("<HHH", 0, 1, len(sizes)), b""
    for s in sizes:
        data = pngs[s]
        head += struct.pack("<BBBBHHII", s % 256, s % 256, 0, 0, 1, 32, len(data), offset + len(body))
        body += data
    return head + body


ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}


def icns(pngs: dict[int, bytes]) -> bytes:
    body = b"".join(ICNS_TYPES[s] + struct.pack(">I", 8 + len(d)) + d for s, d in sorted(pngs.items()))
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", action="store_true", help="rewrite forge_desktop/resources PNGs")
    parser.add_argument("--ico", type=Path)
    parser.add_argument("--icns", type=Path)
    opts = parser.parse_args()
    if opts.resources:
        RESOURCES.mkdir(parents=True, exist_ok=True)
        (RESOURCES / "forge.png").write_bytes(png(256))
        (RESOURCES / "forge-32.png").write_bytes(png(32))
    if opts.ico or opts.icns:
        pngs = {s: png(s) for s in (16, 32, 64, 128, 256)}
        if opts.ico:
            opts.ico.parent.mkdir(parents=True, exist_ok=True)
            opts.ico.write_bytes(ico(pngs))
        if opts.icns:
            opts.icns.parent.mkdir(parents=True, exist_ok=True)
            opts.icns.write_bytes(icns(pngs))


if __name__ == "__main__":
    main()
