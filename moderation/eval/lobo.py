#!/usr/bin/env python3
"""Leave-one-batch-out figures of both stages over the tuning corpus (python3 standard library only).

Usage (from the repository root, after `cargo build --release -p talkzone-moderation --example train`):
    python3 moderation/eval/lobo.py [--out DIR] [--train-args "--l2 1e-4 ..."] [--only c1,d1]

For each batch (`../shared/data/moderation/dev.jsonl` and `moderation/corpus/tune/*.jsonl`; never
`frozen/`), runs `examples/train --holdout NAME --pred DIR/NAME.jsonl` over all the batches: the
held-out batch is left out of training *and* of the choice of thresholds, then predicted with
rules + model. Prints, per batch and pooled, the figures of `score.py` (critical flagged at all,
rated critical, high+ flagged at all, rated high+, benign flagged, PII recall), then recall and
precision per category and per PII kind over all the held-out predictions. With `--pred-only`,
scores predictions already in DIR (e.g. from `examples/moderate` with the shipped model).
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys
from collections import Counter

SEV = {"none": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
TRAIN = "target/release/examples/train"


def load(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                out[d["id"]] = d
    return out


def norm_span(s):
    return re.sub(r"[\W_]+", "", s.lower(), flags=re.UNICODE)


class Tally:
    def __init__(self):
        self.c = Counter()
        self.cat = Counter()
        self.pii = Counter()

    def add(self, gold, pred):
        c = self.c
        for gid, g in gold.items():
            p = pred.get(gid, {"severity": "none", "labels": [], "pii": []})
            gs, ps = SEV[g["severity"]], SEV.get(p.get("severity", "none"), 0)
            if gs == 4:
                c["crit"] += 1
                c["crit_flag"] += ps > 0
                c["crit_rated"] += ps == 4
            if gs >= 3:
                c["high"] += 1
                c["high_flag"] += ps > 0
                c["high_rated"] += ps >= 3
            if gs == 0:
                c["benign"] += 1
                c["benign_fp"] += ps > 0
            gl = set(x for x in g.get("labels", []) if x != "none") if gs > 0 else set()
            pl = set(x for x in p.get("labels", []) if x != "none") if ps > 0 else set()
            for k in gl | pl:
                self.cat[(k, "tp" if k in gl and k in pl else "fp" if k in pl else "fn")] += 1
            gp = Counter((s["kind"], norm_span(s["text"])) for s in g.get("pii", []))
            pp = Counter((s["kind"], norm_span(s["text"])) for s in p.get("pii", []))
            for key in set(gp) | set(pp):
                tp = min(gp[key], pp[key])
                self.pii[(key[0], "tp")] += tp
                self.pii[(key[0], "fp")] += pp[key] - tp
                self.pii[(key[0], "fn")] += gp[key] - tp

    def row(self, name):
        c = self.c
        r = lambda a, b: f"{c[a] / c[b]:.3f}" if c[b] else "  n/a"
        tp = sum(v for (k, t), v in self.pii.items() if t == "tp")
        fn = sum(v for (k, t), v in self.pii.items() if t == "fn")
        pii = f"{tp / (tp + fn):.3f}" if tp + fn else "  n/a"
        return (
            f"| {name} | {r('crit_flag', 'crit')} ({c['crit_flag']}/{c['crit']}) | {r('crit_rated', 'crit')} "
            f"| {r('high_flag', 'high')} ({c['high_flag']}/{c['high']}) | {r('high_rated', 'high')} "
            f"| {r('benign_fp', 'benign')} ({c['benign_fp']}/{c['benign']}) | {pii} |"
        )


def table(counter, title):
    kinds = sorted(set(k for k, _ in counter))
    print(f"\n| {title} | recall | precision | tp | fp | fn |\n| --- | ---: | ---: | ---: | ---: | ---: |")
    for k in kinds:
        tp, fp, fn = counter[(k, "tp")], counter[(k, "fp")], counter[(k, "fn")]
        rec = f"{tp / (tp + fn):.3f}" if tp + fn else "n/a"
        pre = f"{tp / (tp + fp):.3f}" if tp + fp else "n/a"
        print(f"| {k} | {rec} | {pre} | {tp} | {fp} | {fn} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/lobo")
    ap.add_argument("--train-args", default="")
    ap.add_argument("--only", default="")
    ap.add_argument("--pred-only", action="store_true")
    args = ap.parse_args()
    files = ["../shared/data/moderation/dev.jsonl"] + sorted(glob.glob("moderation/corpus/tune/*.jsonl"))
    assert not any("frozen" in f for f in files)
    os.makedirs(args.out, exist_ok=True)
    names = [os.path.splitext(os.path.basename(f))[0] for f in files]
    only = [x for x in args.only.split(",") if x]
    total = Tally()
    rows = []
    for name, path in zip(names, files):
        if only and name not in only:
            continue
        pred_path = os.path.join(args.out, name + ".jsonl")
        if not args.pred_only:
            cmd = [TRAIN, "--holdout", name, "--pred", pred_path] + args.train_args.split() + files
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                sys.exit(f"{' '.join(cmd)}: {res.stderr}")
        gold, pred = load(path), load(pred_path)
        t = Tally()
        t.add(gold, pred)
        total.add(gold, pred)
        rows.append(t.row(name))
    print("| held out | critical flagged | rated critical | high+ flagged | rated high+ | benign flagged | PII recall |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(r)
    print(total.row("all"))
    table(total.cat, "category")
    table(total.pii, "PII kind")


if __name__ == "__main__":
    main()
