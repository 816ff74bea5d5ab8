"""A throwaway deployment of one labelled set: CSV feeds, registrations, the CLI run on them.

The layout is a user's: ``feeds/<platform>.csv``, ``config/connectors/<platform>.yaml`` (the
documented registration), the project's ``config/taxonomy.yaml`` and ``synonyms.yaml``, and
``var/`` as ``AGGREGATOR_DATA_DIR``. Every command is ``python -m aggregator.cli ...`` in a
subprocess, as a user types it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from matching_real_sets import FIELDS, LabelledSet

from aggregator.models import RecordType, ShopRecord
from aggregator.store import Store
from dedupe import MatchConfig, MatchModel, ShopTable, load_taxonomy, match_table
from dedupe.state.result import MatchResult

ROOT = Path(__file__).resolve().parents[1]

REGISTRATION = """\
platform: {platform}
kind: csv
url: {url}
country: {country}
mapping:
{mapping}
"""


class Deployment:
    """One set's feeds and configuration under ``workdir``, and the commands run on them."""

    def __init__(self, labelled: LabelledSet, workdir: Path) -> None:
        self.labelled = labelled
        self.workdir = workdir
        self.data_dir = workdir / "var"
        self.config_dir = workdir / "config"
        connectors = self.config_dir / "connectors"
        connectors.mkdir(parents=True)
        for name in ("taxonomy.yaml", "synonyms.yaml"):
            shutil.copy(ROOT / "config" / name, self.config_dir / name)
        feeds = workdir / "feeds"
        feeds.mkdir()
        for platform in labelled.platforms:
            path = feeds / f"{platform.name}.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=FIELDS)
                writer.writeheader()
                writer.writerows(platform.rows.values())
            # Only the columns that hold something in this source are mapped.
            used = [f for f in FIELDS if any(r[f] for r in platform.rows.values())]
            mapping = "\n".join(f"  {f}: {f}" for f in used)
            (connectors / f"{platform.name}.yaml").write_text(
                REGISTRATION.format(
                    platform=platform.name, url=path, country=platform.country, mapping=mapping
                ),
                encoding="utf-8",
            )
        self.env = dict(
            os.environ,
            AGGREGATOR_DATA_DIR=str(self.data_dir),
            AGGREGATOR_CONFIG_DIR=str(self.config_dir),
        )
        self.env.pop("AGGREGATOR_DATABASE_URL", None)
        self._entities: dict[str, str] = {}

    def cli(self, *args: str) -> str:
        """Run ``aggregator ARGS``; its standard output, or RuntimeError with its errors."""
        done = subprocess.run(
            [sys.executable, "-m", "aggregator.cli", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.workdir,
            timeout=1800,
        )
        if done.returncode != 0:
            raise RuntimeError(f"aggregator {' '.join(args)} failed:\n{done.stderr[-2000:]}")
        return done.stdout

    def run(self) -> None:
        out = self.cli("run")
        if "rejected=0" not in out or "status" in out and "failed" in out:
            print(out.strip(), file=sys.stderr)

    def entities(self) -> dict[str, str]:
        """Record key -> entity id, from ``aggregator export entities --format csv``."""
        rows = csv.DictReader(io.StringIO(self.cli("export", "entities", "--format", "csv")))
        # Cells starting like a formula come back quoted ('-12): the key is the raw id.
        self._entities = {
            f"{r['platform']}:{r['source_id'].removeprefix(chr(39))}": r["entity_id"] for r in rows
        }
        return self._entities

    def import_labels(self, labels: list[tuple[str, str, bool]]) -> None:
        """Write the labels as a file and import it as a user does."""
        if not labels:
            return
        path = self.workdir / "labels.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["a", "b", "verdict", "reviewer"])
            for a, b, same in labels:
                writer.writerow([a, b, "same" if same else "different", "harness"])
        self.cli("match", "import-labels", str(path))

    def replica(self) -> MatchResult:
        """The last run's matching again, in this process, on the records and decisions it
        stored and with the weights it saved, keeping the candidate pairs blocking proposed."""
        store = Store.open(f"sqlite:///{self.data_dir / 'aggregator.sqlite3'}")
        try:
            shops = [ShopRecord.model_validate(r.record) for r in store.iter_raw(RecordType.shop)]
            decisions = store.list_decisions()
        finally:
            store.dispose()
        saved = self.data_dir / "matching-model.json"
        model = MatchModel.from_dict(json.loads(saved.read_text())) if saved.is_file() else None
        config = MatchConfig(
            model=model, taxonomy=load_taxonomy(self.config_dir / "taxonomy.yaml"), keep_pairs=True
        )
        shops.sort(key=lambda r: (r.platform, r.source_id))
        return match_table(ShopTable.from_records(shops), decisions, None, config)

    def replica_agrees(self, result: MatchResult) -> bool:
        """Whether the replica's clusters are the exported ones (same partition of records)."""

        def partition(entity_of: dict[str, str]) -> set[frozenset[str]]:
            groups: dict[str, set[str]] = {}
            for key, entity in entity_of.items():
                groups.setdefault(entity, set()).add(key)
            return {frozenset(g) for g in groups.values()}

        mine = {str(k): v for k, v in result.assignments().items()}
        return partition(mine) == partition(self._entities)
