"""The main report as PDF, printed from the same HTML by headless Chromium (Debian's `chromium`).

No PDF library on PyPI renders this HTML and CSS faithfully without a browser engine (WeasyPrint needs
Pango from the system and lays out differently), and Chromium is already what the browser test uses.
Without Chromium the report is still written; the PDF is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

# Keep headless Chromium off the network: it otherwise phones home for components, sync and field trials.
QUIET_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-default-apps",
               "--disable-extensions", "--metrics-recording-only", "--no-default-browser-check",
               "--disable-domain-reliability", "--disable-client-side-phishing-detection", "--mute-audio"]
# Printing one local page needs no process isolation: one process instead of eleven, ≈ 530 instead of
# ≈ 620 MiB at its peak, the same PDF, as fast (measured on the demo report, 6 December 2026).
PRINT_FLAGS = ["--single-process", "--no-zygote", "--disable-software-rasterizer"]


def find_chromium() -> str | None:
    """`BOLIGSOSIAL_CHROMIUM`, else Debian's /usr/bin/chromium, else a chromium or chrome on the PATH."""
    configured = os.environ.get("BOLIGSOSIAL_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def print_pdf(html: Path, target: Path, timeout: int = 180) -> tuple[Path | None, str | None]:
    """(the PDF, None) or (None, why there is none)."""
    chromium = find_chromium()
    if chromium is None:
        return None, ("no Chromium found (apt-get install chromium, or set BOLIGSOSIAL_CHROMIUM): "
                      "the HTML report was written, the PDF was not")
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="boligsosial-chromium-") as profile:
        command = [chromium, *QUIET_FLAGS, *PRINT_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
                   f"--print-to-pdf={target}", html.resolve().as_uri()]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, f"Chromium did not finish printing within {timeout} s"
    if not target.exists() or target.stat().st_size == 0:
        return None, f"Chromium printed no PDF (exit {result.returncode}): {result.stderr.strip()[-300:]}"
    return target, None
