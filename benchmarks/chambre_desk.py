"""How fast the review desk answers: the next pair card, a ruling, a report page.

Builds the demo world (real connectors on loopback, real matching) in a temporary folder, serves
the app with uvicorn and times requests as a reviewer makes them: open a card, rule on it
(the answer redirects to the next card, followed), undo. Then the reports: the page, a list
behind one of its figures, the same narrowed to one commune, each asked again and again as
chambers do, and the first page after a ruling (which changes the figures, so the reports are
read anew). Prints a final JSON line.

    .venv/bin/python benchmarks/chambre_desk.py [--shops 200] [--seed 2] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.chambre_demo import build_demo  # noqa: E402
from tests.webserver import serve_app  # noqa: E402


def timed(call) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    response = call()
    assert response.status_code == 200, response.status_code
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shops", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        demo = build_demo(Path(folder), shops=args.shops, seed=args.seed)
        store = demo.runtime.store
        _, key = store.create_reviewer_key("bench", "reviewer")
        queued = len(store.review_queue())
        card, rule, undo, reports = [], [], [], []
        with serve_app(demo.runtime) as base, httpx.Client(base_url=base, timeout=300) as client:
            client.post("/chambre/connexion", data={"cle": key})
            for _ in range(args.repeat):
                card.append(timed(lambda: client.get("/chambre/paire?pos=0")))
                item = store.review_queue(limit=1)[0]
                form = {"a": item.a, "b": item.b, "verdict": "unsure", "pos": "0"}
                rule.append(
                    timed(
                        lambda form=form: client.post(
                            "/chambre/decision", data=form, follow_redirects=True
                        )
                    )
                )
                undo.append(timed(lambda: client.post("/chambre/annuler", follow_redirects=True)))
            for _ in range(max(3, args.repeat // 5)):
                reports.append(timed(lambda: client.get("/chambre/rapports")))
            town = store.iter_entities().__next__().golden.value("city", "") or "Toulouse"
            lists, narrowed, after_ruling = [], [], []
            for _ in range(max(3, args.repeat // 5)):
                lists.append(timed(lambda: client.get("/chambre/rapports/liste?figure=exclusives")))
                narrowed.append(
                    timed(lambda: client.get("/chambre/rapports", params={"commune": town}))
                )
            for _ in range(3):  # a ruling changes the figures: the next page reads anew
                item = store.review_queue(limit=1)[0]
                store.decide(item.a, item.b, "unsure", reviewer="bench")
                after_ruling.append(timed(lambda: client.get("/chambre/rapports")))
                store.undo_last("bench")
        demo.runtime.close()
    figures = {
        "shops": args.shops,
        "records": len(demo.truth),
        "queued_pairs": queued,
        "card_ms_median": round(statistics.median(card), 1),
        "rule_and_next_card_ms_median": round(statistics.median(rule), 1),
        "undo_and_card_ms_median": round(statistics.median(undo), 1),
        "reports_page_ms_median": round(statistics.median(reports), 1),
        "reports_list_ms_median": round(statistics.median(lists), 1),
        "reports_commune_ms_median": round(statistics.median(narrowed), 1),
        "reports_page_after_ruling_ms_median": round(statistics.median(after_ruling), 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
