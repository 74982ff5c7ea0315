#!/usr/bin/env python3
"""Score moderation predictions against a labelled set (python3 standard library only).

Usage:
    python3 moderation/eval/score.py --gold ../shared/data/moderation/dev.jsonl --pred /tmp/preds.jsonl [--errors]

Gold lines: {"id","text","labels","severity","pii":[{"kind","text"}]}
Pred lines: {"id","flagged","severity","labels","pii":[{"kind","text"}], ...}

Prints: critical messages flagged at all (any severity), recall at critical (predicted severity
== critical), high+ messages flagged at all, recall at high+ (gold >= high and predicted >= high), false-positive rate on gold-benign (severity none) messages, PII recall and
precision overall and by kind (a span matches when kind and normalised text agree; normalised text
ignores case, spaces and punctuation), and per-category recall and precision. With --errors, lists
the messages behind each miss. Always exits 0: CI prints the figures, it does not fail on them.
"""

import argparse
import json
import re
import sys
from collections import Counter, defaultdict

SEV = {"none": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def load(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                print(f"warning: {path}:{n}: not JSON ({e})", file=sys.stderr)
                continue
            out[d.get("id")] = d
    return out


def norm_span(s):
    return re.sub(r"[\W_]+", "", s.lower(), flags=re.UNICODE)


def ratio(a, b):
    return a / b if b else float("nan")


def fmt(x):
    return "  n/a" if x != x else f"{x:.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gold", required=True)
    ap.add_argument("--pred", required=True)
    ap.add_argument("--errors", action="store_true", help="list the messages behind each miss")
    args = ap.parse_args()

    try:
        gold = load(args.gold)
        pred = load(args.pred)
    except OSError as e:
        print(f"error: {e}")
        return 0

    missing = [i for i in gold if i not in pred]
    if missing:
        print(f"warning: {len(missing)} gold messages have no prediction (counted as not flagged)")

    crit_n = crit_hit = crit_flagged = 0
    high_n = high_hit = high_flagged = 0
    benign_n = benign_fp = 0
    flagged_agree = 0
    errors = defaultdict(list)
    cat_tp, cat_fp, cat_fn = Counter(), Counter(), Counter()
    pii_tp, pii_fp, pii_fn = Counter(), Counter(), Counter()

    for gid, g in gold.items():
        p = pred.get(gid, {"severity": "none", "labels": ["none"], "pii": [], "flagged": False})
        gs = SEV.get(g.get("severity", "none"), 0)
        ps = SEV.get(p.get("severity", "none"), 0)
        text = g.get("text", "")
        if gs == 4:
            crit_n += 1
            crit_flagged += ps > 0
            if ps == 4:
                crit_hit += 1
            else:
                errors["critical missed"].append(f"{gid} pred={p.get('severity')} {text}")
        if gs >= 3:
            high_n += 1
            high_flagged += ps > 0
            if ps >= 3:
                high_hit += 1
            else:
                errors["high+ missed"].append(f"{gid} gold={g.get('severity')} pred={p.get('severity')} {text}")
        if gs == 0:
            benign_n += 1
            if ps > 0:
                benign_fp += 1
                errors["benign flagged"].append(f"{gid} pred={p.get('severity')} {p.get('labels')} {text}")
        if (gs > 0) == (ps > 0):
            flagged_agree += 1
        elif gs > 0:
            errors["risk not flagged"].append(f"{gid} gold={g.get('severity')} {g.get('labels')} {text}")

        gl = set(l for l in g.get("labels", []) if l != "none")
        pl = set(l for l in p.get("labels", []) if l != "none") if ps > 0 else set()
        for c in gl | pl:
            if c in gl and c in pl:
                cat_tp[c] += 1
            elif c in pl:
                cat_fp[c] += 1
                errors[f"category fp {c}"].append(f"{gid} {text}")
            else:
                cat_fn[c] += 1
                errors[f"category fn {c}"].append(f"{gid} pred={sorted(pl)} {text}")

        gp = Counter((s.get("kind"), norm_span(s.get("text", ""))) for s in g.get("pii", []))
        pp = Counter((s.get("kind"), norm_span(s.get("text", ""))) for s in p.get("pii", []))
        for key in set(gp) | set(pp):
            tp = min(gp[key], pp[key])
            pii_tp[key[0]] += tp
            if pp[key] > tp:
                pii_fp[key[0]] += pp[key] - tp
                errors["pii fp"].append(f"{gid} {key[0]}:{key[1]!r} in {text}")
            if gp[key] > tp:
                pii_fn[key[0]] += gp[key] - tp
                errors["pii fn"].append(f"{gid} {key[0]}:{key[1]!r} in {text}")

    n = len(gold)
    print(f"messages: {n}")
    print(f"critical flagged at all:   {fmt(ratio(crit_flagged, crit_n))}  ({crit_flagged}/{crit_n})")
    print(f"recall at critical:        {fmt(ratio(crit_hit, crit_n))}  ({crit_hit}/{crit_n})")
    print(f"high+ flagged at all:      {fmt(ratio(high_flagged, high_n))}  ({high_flagged}/{high_n})")
    print(f"recall at high+:           {fmt(ratio(high_hit, high_n))}  ({high_hit}/{high_n})")
    print(f"false positives on benign: {fmt(ratio(benign_fp, benign_n))}  ({benign_fp}/{benign_n})")
    print(f"flagged agreement:         {fmt(ratio(flagged_agree, n))}  ({flagged_agree}/{n})")
    tp, fp, fn = sum(pii_tp.values()), sum(pii_fp.values()), sum(pii_fn.values())
    print(f"PII recall:                {fmt(ratio(tp, tp + fn))}  ({tp}/{tp + fn})")
    print(f"PII precision:             {fmt(ratio(tp, tp + fp))}  ({tp}/{tp + fp})")
    print()
    print("PII by kind                 recall  precision   tp  fp  fn")
    for k in sorted(set(pii_tp) | set(pii_fp) | set(pii_fn)):
        r = ratio(pii_tp[k], pii_tp[k] + pii_fn[k])
        pr = ratio(pii_tp[k], pii_tp[k] + pii_fp[k])
        print(f"  {k:<24} {fmt(r)}  {fmt(pr)}     {pii_tp[k]:>3} {pii_fp[k]:>3} {pii_fn[k]:>3}")
    print()
    print("category                        recall  precision   tp  fp  fn")
    for c in sorted(set(cat_tp) | set(cat_fp) | set(cat_fn)):
        r = ratio(cat_tp[c], cat_tp[c] + cat_fn[c])
        pr = ratio(cat_tp[c], cat_tp[c] + cat_fp[c])
        print(f"  {c:<29} {fmt(r)}  {fmt(pr)}     {cat_tp[c]:>3} {cat_fp[c]:>3} {cat_fn[c]:>3}")
    if args.errors:
        for k in sorted(errors):
            print()
            print(f"== {k} ({len(errors[k])})")
            for e in errors[k]:
                print("  " + e)
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # never fail CI on scoring
        print(f"error while scoring: {e}")
    sys.exit(0)
