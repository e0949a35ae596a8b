"""Precision and recall of the qualitative theme tagger on the hand-labelled answers, per theme and overall.

    python scripts/qualitative_eval.py                # dev, test (held out) and all
    python scripts/qualitative_eval.py --split dev --errors

Exits 1 when the held-out split falls below the floor documented in docs/qualitative.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestration.qualitative.evaluate import FLOOR_PRECISION, FLOOR_RECALL, evaluate, report  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=["dev", "test", "all"], default=None)
    parser.add_argument("--errors", action="store_true", help="list every false positive/negative")
    args = parser.parse_args()
    for split in [args.split] if args.split else ["dev", "test", "all"]:
        print(report(evaluate(split), show_errors=args.errors))
    held_out = evaluate("test")
    ok = held_out.overall.precision >= FLOOR_PRECISION and held_out.overall.recall >= FLOOR_RECALL
    print(f"floor (held-out test split): precision ≥ {FLOOR_PRECISION}, recall ≥ {FLOOR_RECALL}: "
          f"{'met' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
