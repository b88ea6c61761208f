"""``python -m bench.quotes``: the time to render a quote as PDF (fpdf2, crm_core.services.quote_documents),
per quote of 1, 20 and 100 lines, and of 20 lines in Chinese (the CJK faces embedded too), in Arabic and
Hebrew (their faces, and the text shaped by uharfbuzz) and in Korean (the KR face): the median of
``--runs`` renders after one warm-up, in this process (the revenue function renders in its own; the first
PDF of a container also imports fpdf2, timed apart)."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

LINE_COUNTS = (1, 20, 100)
SCRIPT_LINES = 20
# The words of a quote in another script than Latin: tenant, title, line description, notes.
SCRIPTS = {
    "Chinese": ("北京科技有限公司", "新工厂的发动机", "发动机服务计划 三年", "30天内付款。"),
    "Arabic/Hebrew": (
        "شركة النور للتجارة",
        "محركات للمصنع الجديد",
        "תוכנית שירות למנוע, 3 שנים",
        "الدفع خلال 30 يوما.",
    ),
    "Korean": ("서울기술 주식회사", "새 공장의 엔진", "엔진 서비스 계획 3년", "30일 이내 지불."),
}
FONTS = Path(__file__).resolve().parent.parent / "functions" / "revenue" / "fonts"


def example_quote(lines: int, script: str = "") -> dict[str, Any]:
    """A quote of ``lines`` lines, in English or in one of SCRIPTS."""
    _, title, description, notes = SCRIPTS.get(script) or ("", "", "", "")
    line = {
        "description": description or "Engine service plan, three years",
        "quantity": "3",
        "unit_price": "1250.00",
        "discount": "0.1",
        "tax_rate": "0.2",
        "total": "4050.00",
    }
    return {
        "number": "Q-2026-0001",
        "title": title or "Engines for the new plant",
        "created_at": "2026-11-27T10:00:00.000Z",
        "valid_until": "2026-12-31",
        "currency": "EUR",
        "line_items": [dict(line, description=f"{line['description']} ({n})") for n in range(lines)],
        "subtotal": "1.00",
        "discount_total": "0.00",
        "tax_total": "0.00",
        "total": "1.00",
        "notes": notes or "Payable within 30 days.",
    }


def import_seconds() -> float:
    """``import fpdf`` in a fresh interpreter (what a container's first PDF pays)."""
    code = "import time; t = time.perf_counter(); import fpdf; print(time.perf_counter() - t)"
    return float(
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    )


def measure(runs: int = 20) -> dict[str, Any]:
    from crm_core.services.quote_documents import render_pdf

    rows: dict[str, Any] = {}
    cases = [(str(count), example_quote(count), "Acme") for count in LINE_COUNTS]
    for script, (tenant, *_) in SCRIPTS.items():
        cases.append((f"{SCRIPT_LINES} {script}", example_quote(SCRIPT_LINES, script), tenant))
    for label, quote, tenant in cases:
        size = len(render_pdf(quote, tenant, FONTS))  # warm-up
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            render_pdf(quote, tenant, FONTS)
            times.append(time.perf_counter() - started)
        rows[label] = {
            "median_ms": round(statistics.median(times) * 1000, 1),
            "p90_ms": round(sorted(times)[int(0.9 * (runs - 1))] * 1000, 1),
            "bytes": size,
        }
    return {"runs": runs, "lines": rows, "import_fpdf_seconds": round(import_seconds(), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quotes", description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    figures = measure(parser.parse_args(argv).runs)
    for count, row in figures["lines"].items():
        print(
            f"PDF of a quote of {count:>3} lines: median {row['median_ms']} ms, p90 {row['p90_ms']} ms, "
            f"{row['bytes']:,} bytes"
        )
    print(f"import fpdf (a container's first PDF): {figures['import_fpdf_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
