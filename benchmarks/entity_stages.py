"""CPU seconds of each stage a full matching spends per entity, on N generated records.

    .venv/bin/python benchmarks/entity_stages.py --records 100000
    .venv/bin/python benchmarks/entity_stages.py --records 100000 --root /tmp/before

Matches N generated records (``dedupe_data.py``) once, then times, with the cyclic collector
paused as in the service: building every entity (golden record, members, listings; a batch
of 5,000 at a time where the tree does, as its full matching does), hashing
what each is built from (``aggregator.entity_sources``), its store row
(``aggregator.store.entity_rows.entity_row``), its search documents (``search.documents``) and
their tantivy form (``search.embedded_schema.to_tantivy``); twice, the second figure printed.
``--root`` measures the code of another checkout (an export of an earlier commit) instead.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--root", default=str(HERE.parent), help="the checkout to measure")
    args = parser.parse_args()
    root = str(Path(args.root).resolve())
    sys.path[:] = [root, *(p for p in sys.path if Path(p or ".").resolve() != HERE), str(HERE)]
    from dedupe_data import generate

    import aggregator
    from aggregator.entity_sources import Sources
    from aggregator.store.entity_rows import entity_row
    from dedupe import MatchConfig, ShopTable, match_table
    from search.documents import entity_documents
    from search.embedded_schema import to_tantivy

    assert aggregator.__file__.startswith(root), aggregator.__file__
    try:  # trees from before entities were built a batch at a time build them one by one
        from aggregator.entity_build import EntityBatches as batches
    except ImportError:
        batches = None
    data = generate(args.records, 2020)
    result = match_table(ShopTable(dict(data.columns)), config=MatchConfig())
    clusters = list(result.iter_clusters())
    hashes = {key: f"h{key}" for key in result.state.table.keys}
    sources = Sources(result, hashes, {}, {}, bytes(16))
    cpu = time.process_time
    figures: dict[str, float] = {}
    gc.disable()
    for _ in range(2):
        started = cpu()
        if batches is None:
            build = result.builder()
            entities = [build(entity_id, rows) for entity_id, rows in clusters]
        else:  # a batch at a time, as a full matching builds them
            build_batch = batches(result)
            entities = [e for start in range(0, len(clusters), 5000)
                        for e in build_batch(clusters[start : start + 5000])]  # fmt: skip
        figures["entities"] = cpu() - started
        started = cpu()
        digests = [sources.of(entity_id, rows) for entity_id, rows in clusters]
        figures["source_hashes"] = cpu() - started
        started = cpu()
        rows = [entity_row(e, source=s) for e, s in zip(entities, digests, strict=True)]
        figures["entity_rows"] = cpu() - started
        started = cpu()
        documents = [d for e in entities for d in entity_documents(e)]
        figures["documents"] = cpu() - started
        started = cpu()
        indexed = [to_tantivy(d) for d in documents]
        figures["tantivy_documents"] = cpu() - started
        del entities, digests, rows, documents, indexed
        gc.collect()
    out = {name: round(seconds, 2) for name, seconds in figures.items()}
    out["total"] = round(sum(figures.values()), 2)
    print(json.dumps({"records": args.records, "entities": len(clusters), "cpu_s": out,
                      "load": round(os.getloadavg()[0], 2)}))  # fmt: skip


if __name__ == "__main__":
    main()
