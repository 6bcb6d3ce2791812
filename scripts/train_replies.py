"""Train the reply model and write the weights the package ships.

    .venv/bin/python scripts/train_replies.py                      # labelled.tsv + train.tsv
    .venv/bin/python scripts/train_replies.py corrections.jsonl    # plus agents' corrections
    .venv/bin/python scripts/train_replies.py --check              # shipped == re-trained?

Extra files are TSV (`text<TAB>kind<TAB>intent`) or JSONL ({"text", "kind", "intent"}, as
`outreach replies export-labels` would write); a later row for the same (text, kind) wins, so a
correction overrides the file it corrects. Reproducible: a fixed seed, plain Python floats.
The frozen held-out set and the independent evaluation set are refused: they judge the model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.domain.replies import model as reply_model  # noqa: E402
from bot.domain.replies.classifier import classify_rules  # noqa: E402
from bot.domain.replies.evaluation import LabelledReply  # noqa: E402
from bot.domain.replies.hybrid import featurize, is_keyword  # noqa: E402
from bot.domain.replies.training import Config, deduplicate, load_rows, train  # noqa: E402

DATA = ROOT / "tests" / "data" / "replies"
DEFAULT_SOURCES = (DATA / "labelled.tsv", DATA / "train.tsv")
SHIPPED = ROOT / "bot" / "domain" / "replies" / reply_model.MODEL_FILE
#: Evaluation sets: never trained on.
REFUSED = frozenset({"heldout.tsv", "independent.tsv"})


def model_rows(rows: list[LabelledReply]) -> list[LabelledReply]:
    """The rows the model decides: whole-message keywords (TD, STOP, END …) are the rules'
    at once, and would teach the model that 'end' or 'cancel' inside a sentence is an opt-out."""
    return [row for row in rows if not is_keyword(classify_rules(row.text, row.kind))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extra", nargs="*", type=Path, help="more TSV / JSONL training files")
    parser.add_argument("--out", type=Path, default=SHIPPED, help=f"default {SHIPPED}")
    parser.add_argument("--check", action="store_true",
                        help="re-train and compare with the shipped weights; write nothing")
    parser.add_argument("--no-defaults", action="store_true",
                        help="train on the extra files only")
    args = parser.parse_args(argv)
    sources = [*(() if args.no_defaults else DEFAULT_SOURCES), *args.extra]
    for path in sources:
        if path.name in REFUSED or "locked" in path.parts:
            parser.error(f"{path} is an evaluation set: it is never trained on")
    rows = model_rows(deduplicate(load_rows(sources)))
    started = time.perf_counter()
    names = [str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else p.name for p in sources]
    model = train(rows, featurize, Config(), names)
    text = model.to_json() + "\n"
    print(f"{len(rows)} rows, {len(model.weights)} features, temperature {model.temperature}, "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    if args.check:
        same = SHIPPED.read_text(encoding="utf-8") == text
        print("shipped weights match" if same else "shipped weights DIFFER", file=sys.stderr)
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
