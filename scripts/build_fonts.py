"""Build the bundled Noto Sans SC subsets in assets/fonts/ from Debian's fonts-noto-cjk.

Keeps all GB2312 hanzi (6,763) + ASCII + CJK and full-width punctuation + the
GB2312 symbol rows, only the kern/liga/ccmp/palt/halt layout features and no
vertical tables: about 1.6 MB per weight. Names outside GB2312 fall back to the
system fonts at run time.

    apt-get install fonts-noto-cjk
    .venv/bin/python scripts/build_fonts.py [OUT_DIR]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {
    "Regular": Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    "Bold": Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
}
FAMILY = "Noto Sans CJK SC"
EXTRA_PUNCTUATION = "·—‘’“”…‧•℃№、。《》「」『』【】〔〕（）〈〉！，：；？　"


def gb2312_chars(row_lo: int, row_hi: int) -> list[str]:
    """The characters of GB2312 rows row_lo..row_hi (1-9 symbols, 16-87 hanzi)."""
    out = []
    for row in range(row_lo, row_hi + 1):
        for col in range(1, 95):
            try:
                out.append(bytes([0xA0 + row, 0xA0 + col]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return out


def charset() -> str:
    chars = {chr(c) for c in range(0x20, 0x7F)}
    chars |= set(gb2312_chars(1, 9))
    chars |= {chr(c) for c in range(0x3000, 0x3040)}
    chars |= {chr(c) for c in range(0xFF01, 0xFF5F)}
    chars |= set(EXTRA_PUNCTUATION)
    chars |= set(gb2312_chars(16, 87))
    return "".join(sorted(chars))


def sc_index(ttc: Path) -> int:
    for i, font in enumerate(TTCollection(str(ttc), lazy=True).fonts):
        if font["name"].getDebugName(1) == FAMILY:
            return i
    raise SystemExit(f"{ttc} has no {FAMILY} face")


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "assets" / "fonts"
    out.mkdir(parents=True, exist_ok=True)
    missing = [str(p) for p in SOURCES.values() if not p.exists()]
    if missing:
        print("missing:", ", ".join(missing), "- run: apt-get install fonts-noto-cjk")
        return 1
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as fh:
        fh.write(charset())
        text_file = fh.name
    for weight, ttc in SOURCES.items():
        target = out / f"NotoSansSC-{weight}.otf"
        cmd = [
            sys.executable,
            "-m",
            "fontTools.subset",
            str(ttc),
            f"--font-number={sc_index(ttc)}",
            f"--text-file={text_file}",
            "--no-hinting",
            "--notdef-outline",
            "--layout-features=kern,liga,ccmp,palt,halt",
            "--drop-tables+=vhea,vmtx,VORG",
            f"--output-file={target}",
        ]
        subprocess.run(cmd, check=True)
        print(f"{target}: {target.stat().st_size / 1e6:.2f} MB")
    Path(text_file).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
