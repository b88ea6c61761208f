"""``python -m infra.fonts``: makes the quote PDFs' fonts (functions/revenue/fonts/, docs/decisions/0033)
from Debian's Noto packages, subset with fontTools to the scripts the CRM's users write.

Not run by ``make test`` or the build: the subset fonts are committed. Run it again to change what they
cover (then commit the fonts it writes and say so in functions/revenue/fonts/README.md):

    .venv/bin/python -m infra.fonts            # apt-get download of the pinned packages (temporary folder)
    .venv/bin/python -m infra.fonts --debs D   # the two .deb files already in folder D

- ``NotoSans-Regular.ttf``, ``NotoSans-Bold.ttf`` (fonts-noto-core): Latin with Latin Extended-A/B and
  Additional (Polish, Czech, Turkish, Vietnamese ...), Greek, Cyrillic, punctuation and currency signs.
- ``NotoSansSC-Regular.ttf``, ``NotoSansSC-Bold.ttf`` (fonts-noto-cjk, the collection's Simplified Chinese
  face): every character of GB2312 (its 6,763 Hanzi, kana, full-width forms) and the CJK punctuation; the
  regular face also the Hanzi of Big5's frequent set (Traditional Chinese's common characters; in bold they
  are drawn in the regular face). Their CFF outlines are converted to TrueType ones (fontTools' cu2qu,
  within 1/1000 em): fpdf2 embeds a CID-keyed CFF font with an encoding CMap of its own, which pypdf (and
  so the tests) reads back one byte at a time, while a TrueType font is embedded as Identity-H, which every
  reader handles.
- ``NotoSansArabic-{Regular,Bold}.ttf``, ``NotoSansHebrew-{Regular,Bold}.ttf`` (fonts-noto-core): the
  Arabic and Hebrew blocks and their presentation forms, with the glyphs their layout features reach
  (contextual forms, ligatures, marks: fpdf2 shapes these scripts with uharfbuzz).
- ``NotoSansKR-Regular.ttf`` (fonts-noto-cjk, the collection's Korean face): every Hangul syllable, the
  conjoining and compatibility jamo, the enclosed Hangul; TrueType outlines as the SC faces. No bold face:
  bold Korean is drawn in this one.

Hinting is dropped (PDF viewers draw the outlines). The Latin, Arabic and Hebrew faces keep the layout
features fontTools keeps by default; the CJK faces keep none (their localised and vertical alternates would
double their glyphs, and fpdf2 draws the glyphs the cmap names) and no vertical metrics.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

REPO_ROOT = Path(__file__).resolve().parent.parent
FONTS_DIR = REPO_ROOT / "functions" / "revenue" / "fonts"

# The Debian packages (bookworm) the fonts come from, at the versions the committed files were made from.
PACKAGES = {
    "fonts-noto-core": "20201225-1",
    "fonts-noto-cjk": "1:20220127+repack1-1",
}
NOTO_DIR = "usr/share/fonts/truetype/noto"
CJK_DIR = "usr/share/fonts/opentype/noto"
CJK_SC_FONT_NUMBER = 2  # NotoSansCJK-*.ttc holds JP, KR, SC, TC, HK, then the Mono faces
CJK_KR_FONT_NUMBER = 1

LATIN_GREEK_CYRILLIC = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1 Supplement, Latin Extended-A and -B
    (0x0259, 0x0259),  # schwa (Azerbaijani)
    (0x02B0, 0x02FF),  # spacing modifier letters (caron, breve, ogonek ...)
    (0x0300, 0x036F),  # combining diacritical marks
    (0x0370, 0x03FF),  # Greek and Coptic
    (0x0400, 0x052F),  # Cyrillic and its supplement
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese)
    (0x1F00, 0x1FFF),  # Greek Extended (polytonic)
    (0x2000, 0x206F),  # general punctuation (dashes, quotation marks, ellipsis, per mille)
    (0x20A0, 0x20CF),  # currency symbols (€ ₽ ₺ ₴ ₹)
    (0x2100, 0x214F),  # letter-like symbols (№ ™ ℃)
    (0x2190, 0x2193),  # arrows
    (0x2212, 0x2212),  # minus sign
    (0xFB00, 0xFB06),  # Latin ligatures
)
CJK_RANGES = (
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。「」)
    (0x3040, 0x30FF),  # hiragana and katakana
    (0xFF00, 0xFFEF),  # half-width and full-width forms (the full-width comma, colon, brackets)
)

ARABIC_RANGES = (
    (0x0600, 0x06FF),  # Arabic (Persian and Urdu letters, Arabic-Indic digits, the Arabic comma and marks)
    (0x0750, 0x077F),  # Arabic Supplement
    (0x08A0, 0x08FF),  # Arabic Extended-A
    (0xFB50, 0xFDFF),  # Arabic Presentation Forms-A (text pasted in contextual forms, ligatures)
    (0xFE70, 0xFEFF),  # Arabic Presentation Forms-B
)
HEBREW_RANGES = (
    (0x0590, 0x05FF),  # Hebrew (letters, points, cantillation marks, maqaf, geresh)
    (0xFB1D, 0xFB4F),  # Hebrew presentation forms (letters with dagesh, wide letters)
)
HANGUL_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo (conjoining)
    (0x3131, 0x318E),  # Hangul Compatibility Jamo
    (0x3200, 0x321E),  # parenthesized Hangul (㈜, as in company names)
    (0x3260, 0x327F),  # circled Hangul
    (0xAC00, 0xD7A3),  # Hangul Syllables, all 11,172
)
# The right-to-left faces of fonts-noto-core (file stem) and the blocks each is cut to, in both weights.
RTL_FACES = (("NotoSansArabic", ARABIC_RANGES), ("NotoSansHebrew", HEBREW_RANGES))


def _ranges(ranges: Iterable[tuple[int, int]]) -> set[int]:
    return {code for first, last in ranges for code in range(first, last + 1)}


def _double_byte(encoding: str, leads: range, trails: Iterable[int]) -> set[int]:
    """Every character a double-byte encoding has in the given lead and trail byte ranges."""
    found: set[int] = set()
    trails = list(trails)
    for lead in leads:
        for trail in trails:
            try:
                text = bytes((lead, trail)).decode(encoding)
            except UnicodeDecodeError:
                continue
            found.update(ord(c) for c in text)
    return found


def cjk_characters(traditional: bool) -> set[int]:
    """GB2312 whole (symbols rows 0xA1-0xA9, Hanzi rows 0xB0-0xF7) and the CJK punctuation, kana and
    full-width blocks; with ``traditional``, Big5's frequent Hanzi (0xA440-0xC67E) too."""
    found = _double_byte("gb2312", range(0xA1, 0xF8), range(0xA1, 0xFF)) | _ranges(CJK_RANGES)
    if traditional:
        big5 = _double_byte("big5", range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)])
        found |= {code for code in big5 if 0x4E00 <= code <= 0x9FFF}
    return found


def to_truetype(font: TTFont, max_error: float = 1.0) -> None:
    """Replace a font's CFF outlines by TrueType (quadratic) ones, within ``max_error`` font units (after
    fontTools' Snippets/otf2ttf.py)."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        glyph_set[name].draw(Cu2QuPen(pen, max_error, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    del font["CFF "]
    hmtx = font["hmtx"]
    for name, glyph in glyphs.items():
        glyph.recalcBounds(glyf)
        hmtx[name] = (hmtx[name][0], getattr(glyph, "xMin", 0))  # the left side bearing is xMin in glyf
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["post"].formatType = 3.0  # no glyph names (a CID font's are cid00001 ...)
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"


def subset_font(
    source: Path, target: Path, unicodes: set[int], font_number: int = 0, *, cjk: bool = False
) -> None:
    options = subset.Options()
    options.hinting = False
    options.font_number = font_number
    options.name_IDs = ["*"]  # keep the copyright, licence and trademark notices
    options.notdef_outline = True
    if cjk:
        # The CJK faces: no layout features (their locl/vert alternates would double the glyphs; fpdf2
        # draws the cmap's glyphs) and no vertical metrics.
        options.layout_features = []
        options.drop_tables += ["vhea", "vmtx", "VORG", "BASE"]
    font = TTFont(source, fontNumber=font_number, lazy=False, recalcTimestamp=False)  # reproducible
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(unicodes))
    subsetter.subset(font)
    if cjk:
        to_truetype(font)
    font.save(target)
    print(f"{target.name}: {len(font.getBestCmap())} characters, {target.stat().st_size:,} bytes")


def download(folder: Path) -> None:
    wanted = [f"{name}={version}" for name, version in PACKAGES.items()]
    subprocess.run(["apt-get", "download", *wanted], cwd=folder, check=True)


def extract(debs: Path, into: Path) -> None:
    for name in PACKAGES:
        (deb,) = debs.glob(f"{name}_*.deb")
        subprocess.run(["dpkg-deb", "-x", str(deb), str(into)], check=True)


def build(root: Path, out: Path = FONTS_DIR) -> None:
    out.mkdir(parents=True, exist_ok=True)
    latin = _ranges(LATIN_GREEK_CYRILLIC)
    for style in ("Regular", "Bold"):
        subset_font(root / NOTO_DIR / f"NotoSans-{style}.ttf", out / f"NotoSans-{style}.ttf", latin)
        for stem, ranges in RTL_FACES:
            # Their layout features stay: Arabic needs its contextual forms and ligatures (fpdf2 shapes
            # with uharfbuzz), both their marks' positioning.
            subset_font(root / NOTO_DIR / f"{stem}-{style}.ttf", out / f"{stem}-{style}.ttf", _ranges(ranges))
        subset_font(
            root / CJK_DIR / f"NotoSansCJK-{style}.ttc",
            out / f"NotoSansSC-{style}.ttf",
            cjk_characters(traditional=style == "Regular"),
            CJK_SC_FONT_NUMBER,
            cjk=True,
        )
    # Hangul: the regular KR face only (a bold Korean text is drawn in it), as the SC faces are made.
    subset_font(
        root / CJK_DIR / "NotoSansCJK-Regular.ttc",
        out / "NotoSansKR-Regular.ttf",
        _ranges(HANGUL_RANGES),
        CJK_KR_FONT_NUMBER,
        cjk=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.fonts", description=__doc__)
    parser.add_argument("--debs", type=Path, help="a folder with the two .deb files (else apt-get download)")
    parser.add_argument("--out", type=Path, default=FONTS_DIR)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        debs = args.debs
        if debs is None:
            debs = folder / "debs"
            debs.mkdir()
            download(debs)
        extract(debs, folder / "root")
        build(folder / "root", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
