"""The desk on the demo world: decisions survive a full re-run and change it, undo restores it,
report figures equal the generator's truth, the command line and the API keep to their contract."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from aggregator.cli import app
from aggregator.store.reports import Reports, siret_valid
from aggregator.store.review import QueueItem
from tests.chambre_demo import DemoDesk, build_demo
from tests.webserver import serve_app

runner = CliRunner()


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoDesk]:
    demo = build_demo(tmp_path_factory.mktemp("chambre"))
    yield demo
    demo.runtime.close()


def cli(demo: DemoDesk, *args: str) -> str:
    result = runner.invoke(app, list(args), env=demo.env)
    assert result.exit_code == 0, result.output
    return result.stdout


def memberships(demo: DemoDesk) -> dict[str, frozenset[str]]:
    """Each record and the set of records it shares a shop with (entity ids aside)."""
    groups: dict[str, set[str]] = defaultdict(set)
    by_record = {str(k): e for k, e in demo.runtime.store.entity_ids_by_record().items()}
    for key, entity in by_record.items():
        groups[entity].add(key)
    return {key: frozenset(groups[entity]) for key, entity in by_record.items()}


def test_cli_list_decide_undo_and_full_rerun(desk: DemoDesk) -> None:
    store = desk.runtime.store
    listed = json.loads(cli(desk, "review", "list", "--json", "--limit", "5"))
    assert 0 < len(listed) <= 5
    assert {"a", "b", "probability"} <= set(listed[0])
    assert [i["a"] for i in listed] == [i.a for i in store.review_queue(limit=5)]
    start = memberships(desk)

    # A merged pair ruled different, and a true match left apart ruled the same.
    merged = next(group for group in start.values() if len(group) >= 2)
    x, y = sorted(merged)[:2]
    apart = left_apart(desk)
    cli(desk, "review", "decide", x, y, "different", "--reviewer", "anne", "--note", "deux rues")
    decided = json.loads(
        cli(desk, "review", "decide", apart.a, apart.b, "same", "--reviewer", "anne")
    )
    assert decided["after"] == "must_link" and decided["probability"] == pytest.approx(
        apart.probability
    )
    assert decided["model"]  # the saved weights of the last matching
    assert (apart.a, apart.b) not in {(i.a, i.b) for i in store.review_queue()}

    labels = list(csv.reader(io.StringIO(cli(desk, "review", "labels"))))
    assert labels[0] == ["a", "b", "verdict", "reviewer", "note"]
    assert sorted(row[2] for row in labels[1:]) == ["different", "same"]
    assert [row[4] for row in labels[1:] if row[2] == "different"] == ["deux rues"]
    outcome, _ = desk.runtime.match_and_index()  # the service's incremental run obeys too
    assert outcome.mode == "incremental"
    incremental = memberships(desk)
    desk.runtime.match_and_index(full=True)
    after = memberships(desk)
    assert y not in after[x] and apart.b in after[apart.a]
    assert incremental == after
    log_rows = len(store.decision_log())

    # Undo both: the log grows, and the next full run is exactly the first one again.
    cli(desk, "review", "undo", "--reviewer", "anne")
    cli(desk, "review", "undo", "--reviewer", "anne")
    assert len(store.decision_log()) == log_rows + 2 and store.list_decisions() == []
    nothing = runner.invoke(app, ["review", "undo", "--reviewer", "anne"], env=desk.env)
    assert nothing.exit_code == 1
    desk.runtime.match_and_index(full=True)
    assert memberships(desk) == start

    bad = runner.invoke(
        app, ["review", "decide", x, "nowhere:1", "same", "--reviewer", "a"], env=desk.env
    )
    assert bad.exit_code == 1 and "no shop record" in bad.output


def truth_figures(demo: DemoDesk) -> dict[str, dict[str, int]]:
    """Per platform, from the generator alone: records, shops, duplicates inside, shared, only."""
    by_platform: dict[str, list[str]] = defaultdict(list)
    for key, true_id in demo.truth.items():
        by_platform[key.partition(":")[0]].append(true_id)
    out = {}
    for platform, ids in by_platform.items():
        elsewhere = {t for p, others in by_platform.items() if p != platform for t in others}
        out[platform] = {
            "records": len(ids),
            "shops": len(set(ids)),
            "internal_duplicates": len(ids) - len(set(ids)),
            "shared": len(set(ids) & elsewhere),
            "exclusive": len(set(ids) - elsewhere),
        }
    return out


def test_reports_equal_the_truth_once_the_queue_is_reviewed(desk: DemoDesk) -> None:
    store = desk.runtime.store
    for item in store.review_queue():  # a reviewer who knows the truth
        same = desk.truth[item.a] == desk.truth[item.b]
        store.decide(item.a, item.b, "same" if same else "different", reviewer="verite")
    desk.runtime.match_and_index(full=True)
    assert store.review_queue() == []
    reports = Reports(store)
    truth = truth_figures(desk)
    for row in reports.platform_table():
        expected = truth[row["platform"]]
        assert {k: row[k] for k in expected} == expected, row["platform"]
        assert row["awaiting"] == 0
        for figure in ("records", "shops", "shared", "exclusive", "phone", "stale"):
            assert len(reports.rows(figure, row["platform"])) == row[figure]
    platforms = sorted(truth)
    ids = {p: {t for k, t in desk.truth.items() if k.startswith(p + ":")} for p in platforms}
    matrix = reports.overlap()
    for p in platforms:
        for q in platforms:
            assert matrix[p][q] == len(ids[p] & ids[q]), (p, q)
            assert len(reports.rows("overlap", p, q)) == matrix[p][q] or p == q
    exclusives = reports.rows("exclusives")
    assert len(exclusives) == sum(t["exclusive"] for t in truth.values())
    assert len({r["entity_id"] for r in reports.rows("phoning")}) == len(reports.rows("phoning"))
    # The command line prints the same figures.
    printed = json.loads(cli(desk, "report", "platforms", "--json"))
    assert printed == json.loads(json.dumps(reports.platform_table()))
    while store.undo_last("verite") is not None:
        pass
    assert store.list_decisions() == []
    desk.runtime.match_and_index(full=True)
    assert store.review_queue()


def test_api_and_pages_keep_keys_apart(desk: DemoDesk) -> None:
    store = desk.runtime.store
    _, reviewer_key = store.create_reviewer_key("anne", "reviewer")
    _, operator_key = store.create_api_key("toutoulouse")
    with serve_app(desk.runtime) as base:
        as_reviewer = {"Authorization": f"Bearer {reviewer_key}"}
        as_operator = {"Authorization": f"Bearer {operator_key}"}
        queue = httpx.get(f"{base}/api/review/queue", headers=as_reviewer)
        assert queue.status_code == 200 and "progress" in queue.json()
        assert httpx.get(f"{base}/api/review/queue", headers=as_operator).status_code == 401
        assert httpx.get(f"{base}/api/operator/connectors", headers=as_reviewer).status_code == 401
        assert httpx.get(f"{base}/api/operator/connectors", headers=as_operator).status_code == 200
        # The desk's login refuses an operator key; a reviewer key opens a /chambre cookie.
        refused = httpx.post(f"{base}/chambre/connexion", data={"cle": operator_key})
        assert refused.status_code == 401 and "set-cookie" not in refused.headers
        opened = httpx.post(f"{base}/chambre/connexion", data={"cle": reviewer_key})
        cookie = opened.headers["set-cookie"]
        assert "Path=/chambre" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "set-cookie" not in httpx.get(f"{base}/").headers
        item = queue.json()["items"][0]
        ruled = httpx.post(
            f"{base}/api/review/decide",
            headers=as_reviewer,
            json={"a": item["a"], "b": item["b"], "verdict": "unsure", "note": "à voir"},
        ).json()
        assert (ruled["after"], ruled["role"], ruled["reviewer"]) == ("unsure", "reviewer", "anne")
        bad = httpx.post(f"{base}/api/review/decide", headers=as_reviewer, json={"a": "x"})
        assert bad.status_code == 422
        assert httpx.post(f"{base}/api/review/undo", headers=as_reviewer).json()["after"] == "none"
        assert httpx.post(f"{base}/api/review/undo", headers=as_reviewer).status_code == 409
        # Pages need the session: without it, the login form.
        assert 'name="cle"' in httpx.get(f"{base}/chambre/rapports").text


def test_formula_in_a_shop_name_stays_text_in_every_export(desk: DemoDesk, tmp_path: Path) -> None:
    from aggregator.models import RecordType, RunCounts
    from aggregator.store import IngestBatch

    store = desk.runtime.store
    name = '=HYPERLINK("http://evil.example";"clic")'
    record = {
        "platform": "toutoulouse",
        "source_id": "formule",
        "name": name,
        "phone": "+33 5 61 00 00 00",
    }
    batch = IngestBatch(connector_id="formules")
    batch.items.append((RecordType.shop, "toutoulouse", "formule", record, record))
    store.apply(batch, RunCounts(), set())
    desk.runtime.match_and_index(full=True)
    try:
        for which in ("platforms", "overlap", "exclusives", "phoning"):
            text = cli(desk, "report", which, "--csv")
            assert text.startswith("\ufeff") and ";" in text.splitlines()[0]
            for row in csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"):
                for cell in row:
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (which, cell)
            if which in ("exclusives", "phoning"):
                assert "'=HYPERLINK" in text
        _, key = store.create_reviewer_key("export", "reviewer")
        with serve_app(desk.runtime) as base, httpx.Client(base_url=base) as client:
            client.post("/chambre/connexion", data={"cle": key})
            for url in (
                "/chambre/rapports/export?rapport=exclusives&format=csv",
                "/chambre/rapports/liste?figure=records&plateforme=toutoulouse&format=csv",
            ):
                body = client.get(url).content.decode("utf-8")
                assert body.startswith("\ufeff") and "'=HYPERLINK" in body
                assert ";=HYPERLINK" not in body and "\n=HYPERLINK" not in body
            page = client.get("/chambre/rapports/liste?figure=exclusives")
            assert "=HYPERLINK(&#34;http" in page.text or "=HYPERLINK(&quot;http" in page.text
    finally:
        store.mark_gone("formules", set())
        desk.runtime.match_and_index(full=True)


def test_entity_view_splits_and_merges_and_undo_takes_each_back(desk: DemoDesk) -> None:
    store = desk.runtime.store
    start = memberships(desk)
    by_record = {str(k): e for k, e in store.entity_ids_by_record().items()}
    big = next(e for e in sorted(set(by_record.values())) if len(start[_member(by_record, e)]) >= 3)
    member = sorted(start[_member(by_record, big)])[0]
    singles = sorted(e for e in set(by_record.values()) if len(start[_member(by_record, e)]) == 1)
    _, key = store.create_reviewer_key("Paul", "admin")
    with serve_app(desk.runtime) as base, httpx.Client(base_url=base) as client:
        client.post("/chambre/connexion", data={"cle": key})
        page = client.get(f"/chambre/commerce/{big}")
        assert page.status_code == 200 and member in page.text
        assert client.get(f"/chambre/fiche?cle={member}").status_code == 200
        client.post(f"/chambre/commerce/{big}/separer", data={"cle": member})
        desk.runtime.match_and_index(full=True)
        assert memberships(desk)[member] == {member}  # out of its shop, ruled apart from each
        client.post("/chambre/annuler")  # one undo takes the whole split back
        assert store.list_decisions() == []
        refused = client.post(f"/chambre/commerce/{big}/fusionner", data={"autre": "nope"})
        assert refused.status_code == 422 and store.list_decisions() == []
        client.post(f"/chambre/commerce/{singles[0]}/fusionner", data={"autre": singles[1]})
        desk.runtime.match_and_index(full=True)
        merged = memberships(desk)
        one, two = (_member(by_record, e) for e in singles[:2])
        assert merged[one] == merged[two] == {one, two}
        client.post("/chambre/annuler")
    desk.runtime.match_and_index(full=True)
    assert memberships(desk) == start


def left_apart(desk: DemoDesk) -> QueueItem:
    """A queued pair to rule the same: a true match the matcher left apart when there is one
    (the matcher may have merged them all), else the first pair of the queue."""
    queue = desk.runtime.store.review_queue()
    return next((i for i in queue if desk.truth[i.a] == desk.truth[i.b]), queue[0])


def _member(by_record: dict[str, str], entity_id: str) -> str:
    return min(k for k, e in by_record.items() if e == entity_id)


def test_changes_since_the_saved_state_name_their_cause(desk: DemoDesk) -> None:
    from aggregator.models import RecordType, RunCounts
    from aggregator.store import IngestBatch

    store = desk.runtime.store
    missing = runner.invoke(app, ["report", "changes", "--json"], env=desk.env)
    assert missing.exit_code == 1 and "--save" in missing.output
    cli(desk, "report", "changes", "--save", "--by", "anne")
    assert json.loads(cli(desk, "report", "changes", "--json")) == []
    start = memberships(desk)
    x, y = sorted(next(group for group in start.values() if len(group) >= 2))[:2]
    apart = left_apart(desk)
    store.decide(x, y, "different", reviewer="anne")
    store.decide(apart.a, apart.b, "same", reviewer="anne")
    record = {"platform": "toutoulouse", "source_id": "nouveau", "name": "Fromagerie Nouvelle"}
    batch = IngestBatch(connector_id="nouveautes")
    batch.items.append((RecordType.shop, "toutoulouse", "nouveau", record, record))
    store.apply(batch, RunCounts(), set())
    desk.runtime.match_and_index(full=True)
    rows = json.loads(cli(desk, "report", "changes", "--json"))
    seen = {(r["change"], r["cause"]) for r in rows}
    assert ("séparation", "décision du bureau") in seen
    assert ("fusion", "décision du bureau") in seen
    assert ("nouveau commerce", "nouvelles données") in seen
    assert any(r["records"] == "toutoulouse:nouveau" for r in rows)
    csv_out = cli(desk, "report", "changes", "--csv")
    assert csv_out.startswith("\ufeff") and "séparation" in csv_out
    store.mark_gone("nouveautes", set())
    store.undo_last("anne")
    store.undo_last("anne")
    desk.runtime.match_and_index(full=True)
    assert memberships(desk) == start


def test_upset_chart_is_drawn_by_the_app(desk: DemoDesk) -> None:
    pytest.importorskip("upsetplot")
    _, key = desk.runtime.store.create_reviewer_key("chart", "reviewer")
    reports = Reports(desk.runtime.store)
    with serve_app(desk.runtime) as base, httpx.Client(base_url=base) as client:
        assert client.get("/chambre/rapports/recouvrement.svg").status_code == 401
        client.post("/chambre/connexion", data={"cle": key})
        chart = client.get("/chambre/rapports/recouvrement.svg")
        assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
        assert chart.text.lstrip().startswith("<?xml") and "<svg" in chart.text
        for platform in reports.platforms:
            assert platform in chart.text
        biggest = max(reports.combinations().values())
        assert f">{biggest}<" in chart.text
        assert "recouvrement.svg" in client.get("/chambre/rapports").text


def test_a_siret_sirene_calls_closed_is_counted_per_platform(desk: DemoDesk) -> None:
    from aggregator.models import RecordType, RunCounts
    from aggregator.store import IngestBatch

    store = desk.runtime.store
    listed = Reports(store)
    before = {row["platform"]: row["siret_closed"] for row in listed.platform_table()}
    assert set(before.values()) == {0}  # no SIRENE connector in the demo: nothing closed
    shop = next(r for r in listed.records.values() if siret_valid(r.get("siret")))
    siret = shop["siret"]
    record = {
        "platform": "sirene",
        "source_id": siret,
        "name": shop["name"],
        "siret": f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}",
        "closed": True,
    }
    batch = IngestBatch(connector_id="sirene-test")
    batch.items.append((RecordType.shop, "sirene", siret, record, record))
    store.apply(batch, RunCounts(), set())
    try:
        table = {row["platform"]: row for row in Reports(store).platform_table()}
        owner = shop["key"].partition(":")[0]
        assert table[owner]["siret_closed"] == 1
        assert sum(row["siret_closed"] for row in table.values()) >= 1
        assert Reports(store).rows("siret_closed", owner)[0]["key"] == shop["key"]
    finally:
        store.mark_gone("sirene-test", set())


def test_every_figure_of_the_reports_page_links_to_a_list_of_that_many_rows(
    desk: DemoDesk,
) -> None:
    import re
    from html.parser import HTMLParser

    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.links: list[tuple[str, str]] = []
            self._href: str | None = None
            self._text = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self._href, self._text = dict(attrs).get("href"), ""

        def handle_data(self, data: str) -> None:
            if self._href is not None:
                self._text += data

        def handle_endtag(self, tag: str) -> None:
            if tag == "a" and self._href is not None:
                self.links.append((self._href, self._text.strip()))
                self._href = None

    _, key = desk.runtime.store.create_reviewer_key("figures", "reviewer")
    with serve_app(desk.runtime) as base, httpx.Client(base_url=base) as client:
        client.post("/chambre/connexion", data={"cle": key})
        figures = []
        everywhere = Reports(desk.runtime.store)
        town = everywhere.communes[0]
        for scope in ("", f"?commune={town}"):
            parser = Links()
            parser.feed(client.get("/chambre/rapports" + scope).text)
            figures += [(h, t) for h, t in parser.links if h.startswith("/chambre/rapports/liste")]
        assert len(figures) > 80
        assert sum(f"commune={town}" in h for h, _ in figures) > 20
        narrowed = Reports(desk.runtime.store, commune=town)
        assert 0 < len(narrowed.shops) < len(everywhere.shops)
        assert all(s.golden.get("city") == town for s in narrowed.shops.values())
        printed = json.loads(cli(desk, "report", "overlap", "--json", "--commune", town))
        assert printed == [{"platform": p, **c} for p, c in narrowed.overlap().items()]
        for href, text in figures:
            count = int(re.match(r"\d+", text).group())  # type: ignore[union-attr]
            page = client.get(href).text
            rows = page.count("<tr>") - 1 if "<tbody>" in page else 0  # less the heading row
            assert rows == count, (href, text, rows)
            csv_rows = client.get(href + "&format=csv").text.removeprefix("\ufeff")
            table = list(csv.reader(io.StringIO(csv_rows), delimiter=";"))
            assert len(table) == count + 1, href  # and the heading row


def test_blind_sample_gives_the_error_rate_the_truth_gives(desk: DemoDesk) -> None:
    store = desk.runtime.store
    _, admin = store.create_reviewer_key("Chef", "admin")
    _, reviewer = store.create_reviewer_key("Lise", "reviewer")
    with serve_app(desk.runtime) as base:
        with httpx.Client(base_url=base) as client:
            client.post("/chambre/connexion", data={"cle": reviewer})
            assert (
                client.post("/chambre/echantillon/tirer", data={"taille": "5"}).status_code == 403
            )
        with httpx.Client(base_url=base) as client:
            client.post("/chambre/connexion", data={"cle": admin})
            bad = client.post("/chambre/echantillon/tirer", data={"taille": "0", "graine": "7"})
            assert bad.status_code == 422
            client.post("/chambre/echantillon/tirer", data={"taille": "20", "graine": "7"})
            drawn = store.sample_pairs()
            client.post("/chambre/echantillon/tirer", data={"taille": "20", "graine": "7"})
            assert [(p.a, p.b) for p in store.sample_pairs()] == [(p.a, p.b) for p in drawn]
            assert len(drawn) == 20 and all(p.ruling == "none" for p in drawn)
            for _ in drawn:
                page = client.get("/chambre/echantillon/paire").text
                assert "probabilit" not in page.lower() and "Pourquoi" not in page
                a = re.search(r'name="a" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
                b = re.search(r'name="b" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
                verdict = "same" if desk.truth[a] == desk.truth[b] else "different"
                form = {"a": a, "b": b, "verdict": verdict, "echantillon": "1"}
                assert client.post("/chambre/decision", data=form).status_code in (200, 303)
            assert "Échantillon terminé" in client.get("/chambre/echantillon/paire").text
    rates = store.sample_error_rates()
    assert sum(r["decided"] for r in rates) == 20  # type: ignore[misc]
    truly_wrong = sum(desk.truth[p.a] != desk.truth[p.b] for p in drawn)
    assert sum(r["wrong"] for r in rates) == truly_wrong  # type: ignore[misc]
    while store.undo_last("Chef") is not None:
        pass
    assert store.list_decisions() == []


def test_customers_error_reports_arrive_in_their_own_queue(desk: DemoDesk) -> None:
    store = desk.runtime.store
    entity = next(e for e in store.iter_entities() if len(e.members) > 1)
    report_id = store.add_error_report(
        entity.entity_id, "<b>Fermé</b> le lundi, pas le mardi", "opening_hours"
    )
    _, key = store.create_reviewer_key("Marc", "reviewer")
    with serve_app(desk.runtime) as base, httpx.Client(base_url=base) as client:
        assert 'name="cle"' in client.get("/chambre/signalements").text
        client.post("/chambre/connexion", data={"cle": key})
        queue = client.get("/chambre/signalements").text
        assert "&lt;b&gt;Fermé&lt;/b&gt;" in queue and "<b>Fermé" not in queue
        assert f"/chambre/commerce/{entity.entity_id}" in queue
        assert "&lt;b&gt;Fermé" in client.get(f"/chambre/commerce/{entity.entity_id}").text
        bad = client.post(f"/chambre/signalements/{report_id}", data={"etat": "supprime"})
        assert bad.status_code == 422
        client.post(f"/chambre/signalements/{report_id}", data={"etat": "resolved"})
        assert "Fermé" not in client.get("/chambre/signalements").text
        assert "Fermé" in client.get("/chambre/signalements?etat=resolved").text
    assert [r.status for r in store.list_error_reports(None) if r.id == report_id] == ["resolved"]


def test_report_figures_are_read_once_per_state_of_the_store(desk: DemoDesk) -> None:
    from aggregator.models import RecordType, RunCounts
    from aggregator.store import IngestBatch
    from aggregator.store.reports import report_cache, reports_for

    store = desk.runtime.store
    cache = report_cache(store)
    first = reports_for(store)
    reads = cache.reads
    assert reports_for(store) is first and cache.reads == reads  # nothing read again
    town = first.communes[0]
    narrowed = reports_for(store, commune=town)
    assert cache.reads == reads and 0 < len(narrowed.shops) < len(first.shops)
    assert narrowed.platform_table() == Reports(store, commune=town).platform_table()
    # A ruling changes the figures: the next reports read the store anew.
    awaiting = sum(row["awaiting"] for row in first.platform_table())
    item = store.review_queue()[0]
    store.decide(item.a, item.b, "unsure", reviewer="cache")
    ruled = reports_for(store)
    assert ruled is not first and cache.reads == reads + 1
    assert sum(row["awaiting"] for row in ruled.platform_table()) < awaiting
    store.undo_last("cache")
    assert sum(row["awaiting"] for row in reports_for(store).platform_table()) == awaiting
    # So does a match run over new data.
    record = {"platform": "toutoulouse", "source_id": "cache", "name": "Quincaillerie Neuve"}
    batch = IngestBatch(connector_id="cache-test")
    batch.items.append((RecordType.shop, "toutoulouse", "cache", record, record))
    store.apply(batch, RunCounts(), set())
    desk.runtime.match_and_index()
    try:
        grown = reports_for(store)
        assert len(grown.shops) == len(first.shops) + 1
        assert grown.platform_table() == Reports(store).platform_table()
    finally:
        store.mark_gone("cache-test", set())
        desk.runtime.match_and_index(full=True)
    assert len(reports_for(store).shops) == len(first.shops)
