"""Benchmark of the reply check (DOMAIN §5.4) on the labelled corpus of tests/cover/reply_corpus.py.

In this process, on every draft of the corpus:

1. baseline: the word-list check that ``cover/reply_rules.py`` had before the French pipeline,
   loaded from git (``git show 7dfbece:cover/reply_rules.py``, see --baseline-rev);
2. pipeline: ``cover.reply_check.engine.check_text`` (spaCy ``fr_core_news_md``), after loading;
3. per §5.4 category: recall (labelled breaches blocked in that category), then false positives
   (compliant drafts blocked), mean / p95 milliseconds per draft (wall clock, and process CPU
   time, which does not depend on how busy the machine is), model load time, and memory:
   peak RSS of this process (resource) and the peak of Python allocations of one traced pass.

Nothing leaves the machine. Run: .venv/bin/python bench/bench_reply_check.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cover.reply_check.engine import check_text  # noqa: E402
from cover.reply_check.model import nlp_get, nlp_load_seconds  # noqa: E402
from tests.cover.reply_corpus import CATEGORIES, CATEGORY_CODES, CORPUS, Draft  # noqa: E402

Check = Callable[..., list[Any]]


def wordlist_check(rev: str) -> Check:
    """The word-list ``reply_check`` as it was at ``rev`` (before the pipeline)."""
    source = subprocess.run(
        ["git", "show", f"{rev}:cover/reply_rules.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("reply_rules_wordlist")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, "reply_rules_wordlist.py", "exec"), module.__dict__)  # noqa: S102
    return module.reply_check


def blocked_codes(check: Check, draft: Draft) -> set[str]:
    issues = check(text=draft.text, reviewer_identifiers=list(draft.identifiers))
    return {str(i.code.value) for i in issues if str(i.severity.value) == "BLOCK"}


def score(check: Check, repeat: int) -> dict[str, Any]:
    check(text="Bonjour.")  # warm-up (and, for the pipeline, loading)
    timings: list[float] = []
    cpu: list[float] = []
    results: list[tuple[Draft, set[str]]] = []
    for _ in range(repeat):
        results = []
        for draft in CORPUS:
            started, started_cpu = time.perf_counter(), time.process_time()
            codes = blocked_codes(check, draft)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            results.append((draft, codes))
    recall: dict[str, tuple[int, int]] = {}
    for category in CATEGORIES:
        wanted = {str(c.value) for c in CATEGORY_CODES[category]}
        cases = [(d, codes) for d, codes in results if category in d.categories]
        hits = sum(1 for _d, codes in cases if codes & wanted)
        recall[category] = (hits, len(cases))
    breaches = [(d, codes) for d, codes in results if not d.compliant]
    compliant = [(d, codes) for d, codes in results if d.compliant]
    return {
        "recall": recall,
        "blocked": sum(1 for _d, codes in breaches if codes),
        "breaches": len(breaches),
        "false_positives": [d.text[:70] for d, codes in compliant if codes],
        "compliant": len(compliant),
        "missed_issue14": [d.text for d, codes in breaches if d.note == "issue14" and not codes],
        "mean_ms": statistics.mean(timings),
        "p95_ms": statistics.quantiles(timings, n=20)[-1],
        "cpu_mean_ms": statistics.mean(cpu),
        "cpu_p95_ms": statistics.quantiles(cpu, n=20)[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--baseline-rev",
        default="7dfbece",
        help="git revision whose cover/reply_rules.py is the word-list baseline",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    nlp_get()
    load_s = nlp_load_seconds() or (time.perf_counter() - started)
    baseline = score(wordlist_check(args.baseline_rev), args.repeat)
    pipeline = score(check_text, args.repeat)

    tracemalloc.start()
    for draft in CORPUS:
        check_text(text=draft.text, reviewer_identifiers=draft.identifiers)
    _current, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    n_block = sum(1 for d in CORPUS if not d.compliant)
    print(
        f"reply check: {len(CORPUS)} drafts ({n_block} breaches, {len(CORPUS) - n_block} "
        f"compliant), {args.repeat} passes"
    )
    print(f"model fr_core_news_md load: {load_s:.2f} s")
    print()
    print(f"{'category':<18}{'word lists':>14}{'pipeline':>14}")
    for category in CATEGORIES:
        b_hits, total = baseline["recall"][category]
        p_hits, _total = pipeline["recall"][category]
        print(
            f"{category:<18}{f'{b_hits}/{total} {b_hits / total:.0%}':>14}"
            f"{f'{p_hits}/{total} {p_hits / total:.0%}':>14}"
        )
    for label, key in (("breaches blocked", "blocked"),):
        b, p = baseline[key], pipeline[key]
        print(
            f"{label:<18}{f'{b}/{n_block} {b / n_block:.0%}':>14}"
            f"{f'{p}/{n_block} {p / n_block:.0%}':>14}"
        )
    print(
        f"{'false positives':<18}{len(baseline['false_positives']):>14}"
        f"{len(pipeline['false_positives']):>14}   (of {pipeline['compliant']} compliant)"
    )
    print(
        f"{'issue 14 misses':<18}{len(baseline['missed_issue14']):>14}"
        f"{len(pipeline['missed_issue14']):>14}   (of 7)"
    )
    print(f"{'mean ms/draft':<18}{baseline['mean_ms']:>14.2f}{pipeline['mean_ms']:>14.2f}")
    print(f"{'p95 ms/draft':<18}{baseline['p95_ms']:>14.2f}{pipeline['p95_ms']:>14.2f}")
    print(
        f"{'CPU mean ms':<18}{baseline['cpu_mean_ms']:>14.2f}{pipeline['cpu_mean_ms']:>14.2f}"
        "   (process CPU time: what the draft costs, whatever the machine's load)"
    )
    print(f"{'CPU p95 ms':<18}{baseline['cpu_p95_ms']:>14.2f}{pipeline['cpu_p95_ms']:>14.2f}")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print()
    print(
        f"memory: peak RSS {rss_mb:.0f} MB; traced Python allocations of one pass "
        f"{traced_peak / 1024 / 1024:.1f} MB"
    )
    for text in pipeline["false_positives"]:
        print(f"  pipeline false positive: {text}")


if __name__ == "__main__":
    main()
