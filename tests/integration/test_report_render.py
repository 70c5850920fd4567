"""
report.html: self-contained, every section present, charts well-formed, and
(when Debian's chromium is installed) rendered headless to a PNG that is not
blank.

The run rendered is the hand-computed tiny run of tests/unit/test_report.c
(r2, with r1 before it, so the "changes" section has content); that test
program writes it when PACER_REPORT_OUT names a folder.
"""

import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.environ.get(
    "PACER_SOURCE_DIR", os.path.join(HERE, "..", "..")))
BUILD_DIR = os.path.abspath(os.environ.get(
    "PACER_BUILD_DIR", os.path.join(SOURCE_DIR, "build")))
SAMPLE = os.path.join(BUILD_DIR, "tests", "test_report")
CHROMIUM = "/usr/bin/chromium"

SECTIONS = [
    "Optimization run",
    "Offers: spend against budget, sends against capacity",
    "Contacts per customer and saturation",
    "Saturation per channel",
    "Why customers got nothing",
    "Expected value by channel and campaign",
    "Fairness across segments",
    "Protected segments and their caps",
    "Changes against the previous run",
    "How the solve converged",
]


def png_pixels(path):
    """Decode an 8-bit RGB/RGBA, non-interlaced PNG: (width, height, rows)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(
                ">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("unsupported PNG format")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        base = y * (stride + 1)
        ftype = raw[base]
        line = bytearray(raw[base + 1:base + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


class TestReportRender(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(SAMPLE):
            raise AssertionError("test_report program missing: " + SAMPLE)
        cls.tmp = tempfile.mkdtemp(prefix="pacer-render-")
        runs = os.path.join(cls.tmp, "runs")
        env = dict(os.environ, PACER_REPORT_OUT=runs)
        subprocess.run([SAMPLE], env=env, check=True, timeout=60)
        cls.page = os.path.join(runs, "r2", "report.html")
        with open(cls.page, encoding="utf-8") as f:
            cls.html = f.read()

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("PACER_KEEP_TMP") != "1":
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_self_contained(self):
        h = self.html
        self.assertIsNone(re.search(r'(src|href)\s*=\s*["\']?\s*https?:', h, re.I))
        self.assertIsNone(re.search(r"<script[^>]*\bsrc\s*=", h, re.I))
        self.assertNotIn("<script", h.lower())
        self.assertNotIn("<link", h.lower())
        self.assertNotIn("@import", h)
        self.assertIsNone(re.search(r"url\(\s*['\"]?https?:", h, re.I))
        self.assertNotIn("http://", h)
        self.assertNotIn("https://", h)
        # Internal anchors only.
        for href in re.findall(r'href="([^"]*)"', h):
            self.assertTrue(href.startswith("#"), href)
        self.assertIn("@media print", h)

    def test_sections_and_charts(self):
        for s in SECTIONS:
            self.assertIn(s, self.html)
        self.assertIn("<code>r1</code>", self.html)   # previous run by id
        charts = re.findall(r"<svg.*?</svg>", self.html, re.S)
        self.assertGreaterEqual(len(charts), 9)
        for svg in charts:
            ET.fromstring(svg)   # every chart is well-formed XML
        # The verdict line comes before any section.
        self.assertLess(self.html.index('class="verdict'),
                        self.html.index("<section"))

    def test_escaped_names(self):
        self.assertIn("spring &quot;sale&quot; &lt;2026&gt; &amp; co", self.html)
        self.assertNotIn("<2026>", self.html)

    @unittest.skipUnless(os.path.exists(CHROMIUM), "chromium not installed")
    def test_render_headless(self):
        out = os.path.join(self.tmp, "report.png")
        prof = os.path.join(self.tmp, "profile")
        p = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--hide-scrollbars",
             "--user-data-dir=" + prof, "--window-size=1280,2400",
             "--screenshot=" + out, "file://" + self.page],
            capture_output=True, text=True, timeout=180)
        self.assertTrue(os.path.exists(out),
                        "no screenshot; chromium said: " + p.stderr[-2000:])
        self.assertGreater(os.path.getsize(out), 10000)
        width, height, bpp, rows = png_pixels(out)
        self.assertEqual((width, height), (1280, 2400))
        # Not blank: plenty of non-white pixels and many colours (charts).
        dark, colours = 0, set()
        for y in range(0, height, 4):
            row = rows[y]
            for x in range(0, width * bpp, 4 * bpp):
                px = row[x:x + 3]
                if px != b"\xff\xff\xff":
                    dark += 1
                colours.add(px)
        sampled = (height // 4) * (width // 4)
        self.assertGreater(dark / sampled, 0.02)
        self.assertGreater(len(colours), 20)
        # The chart colours appear: blue bars (#0072b2) and red binding bars.
        self.assertIn(bytes([0x00, 0x72, 0xb2]), colours)
        self.assertIn(bytes([0xc0, 0x39, 0x2b]), colours)


if __name__ == "__main__":
    unittest.main(verbosity=2)
