#!/usr/bin/env python3
"""Checks a Chromium screenshot of a ThermoLearn report without third-party packages: decodes the PNG
(zlib + the five PNG row filters), then requires that the page is not blank, finds each figure by the
mat the report draws around it, and requires the series colour (ScottPlot's first Category10 colour,
#1f77b4) inside every one of them. Usage: check-screenshot.py SHOT.png EXPECTED_FIGURES"""
import struct, sys, zlib

def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG file")
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            if depth != 8 or colour not in (2, 6):
                sys.exit(f"{path}: expected 8-bit RGB or RGBA, got depth {depth} colour type {colour}")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line)); prev = line
    return width, height, channels, rows

MAT = (0xf4, 0xf1, 0xe8)   # the report's figure background (figure{background:#f4f1e8}), a frame around each figure

def main():
    path, expected = sys.argv[1], int(sys.argv[2])
    width, height, channels, rows = read_png(path)
    nonwhite, mat_rows, blue_rows = 0, [], []
    for y, row in enumerate(rows):
        mat = blue = 0
        for x in range(0, width * channels, channels):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if r < 235 or g < 235 or b < 235: nonwhite += 1
            if abs(r - MAT[0]) <= 3 and abs(g - MAT[1]) <= 3 and abs(b - MAT[2]) <= 3: mat += 1
            if abs(r - 0x1f) < 40 and abs(g - 0x77) < 40 and abs(b - 0xb4) < 40: blue += 1
        mat_rows.append(mat >= 12)
        blue_rows.append(blue)
    # Each figure is one contiguous run of rows whose left and right padding show the mat colour; a figure
    # counts as visible when its run is image-sized and the series colour covers pixels inside it.
    figures, y = [], 0
    while y < height:
        if mat_rows[y]:
            start = y
            while y < height and mat_rows[y]: y += 1
            if y - start >= 300: figures.append((start, y, sum(blue_rows[start:y])))
        y += 1
    fraction = nonwhite / (width * height)
    print(f"{path}: {width}x{height}, {fraction:.1%} non-white; figures (first row, last row, series pixels): {figures}")
    if fraction < 0.02: sys.exit("the page is (nearly) blank")
    visible = [f for f in figures if f[2] >= 200]
    if len(visible) < expected:
        sys.exit(f"expected {expected} figures with visible series in the screenshot, found {len(visible)}")
    if figures and figures[-1][1] >= height - 1:
        sys.exit("the last figure is cut off at the bottom of the screenshot; enlarge --window-size")

main()
