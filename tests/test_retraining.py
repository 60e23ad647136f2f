"""Per-site retraining: a site's own model from its moderators, judged on its recent labels, isolated from other
sites, refused when poisoned, audited, rolled back; the held-share cap; the job on the retrain queue."""

from __future__ import annotations

import csv
import json
import logging
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from redis import Redis
from rq import Queue
from sqlalchemy import update

from moderation.decide.decider import Candidate, Decider
from moderation.decide.held_cap import HeldCap
from moderation.decide.rules import CommentInput
from moderation.decide.states import Decision, Status
from moderation.model.registry import active_version
from moderation.model.site_models import SiteScorers, site_model_dir
from moderation.services import Services
from moderation.settings import Settings, load_settings
from moderation.store.comments import insert_comments
from moderation.store.labels import add_label, site_labels, unreported_approvals
from moderation.store.models import Comment
from moderation.store.sites import create_site
from training.cli import model
from training.promotion import audit_log
from training.site_retrain import SITE_C, retrain_site, site_rows
from workers.worker import ServiceWorker

# A campaign the seed model has never seen, written like a friendly reader: the seed model holds it (about 0.55).
CAMPAIGN = "Salam sehat dari komunitas herbal sehat alami {n}, cerita kesembuhan ada di profil kami"
READER = "Semoga {topic} di kampung {n} cepat beres, warga sudah lama menunggu kabar baiknya"
TOPICS = ["jalan rusak", "banjir", "pasar baru", "sekolah", "jembatan", "puskesmas", "lampu jalan", "air bersih"]
JUDOL = "AERO88 gacor parah hari ini, maxwin {n} juta langsung cair, daftar sekarang"


@pytest.fixture
def own_config(config: dict[str, Any], tmp_path: Path, seed_model_dir: Path) -> dict[str, Any]:
    """The test's settings with a private copy of the seed registry (site models must not leak to other tests)."""
    models = tmp_path / "models"
    shutil.copytree(seed_model_dir, models)
    return {**config, "model_dir": str(models), "training_data": "", "retrain.min_new_labels": "10",
            "retrain.implicit_after": "0"}  # fmt: skip


@pytest.fixture
def own(own_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, Services]]:
    """Settings and services on the private registry (the CLI reads the same through the environment)."""
    for key, value in own_config.items():
        monkeypatch.setenv("MODERATION_" + key.upper().replace(".", "_"), str(value))
    settings = load_settings(overrides=own_config)
    services = Services(settings)
    yield settings, services
    services.db.dispose()


def _label(services: Services, site_id: int, texts: list[tuple[str, str]], source: str = "moderator") -> list[str]:
    """Store comments of a site and one label each, in order; returns their ids."""
    with services.db.session() as session:
        rows = insert_comments(session, site_id, [{"external_id": f"x{i}-{t[:8]}", "content": t}
                                                  for i, (t, _) in enumerate(texts)])  # fmt: skip
        for row, (text, label) in zip(rows, texts, strict=True):
            add_label(session, text=text, head="spam", label=label, source=source, site_id=site_id,
                      comment_id=row["id"], actor="mod")  # fmt: skip
    return [r["id"] for r in rows]


def _campaign_labels(n: int, start: int = 0) -> list[tuple[str, str]]:
    """Alternating campaign spam and reader ham, as a site's moderators label them."""
    out = []
    for i in range(start, start + n):
        out.append((CAMPAIGN.format(n=i), "spam"))
        out.append((READER.format(topic=TOPICS[i % len(TOPICS)], n=i), "ham"))
    return out


def _sites(services: Services) -> tuple[int, int]:
    """Two sites: a regional portal that labels, and a blog that does not."""
    with services.db.session() as session:
        return create_site(session, "portal").id, create_site(session, "blog").id


def test_site_labels_latest_word_wins_and_only_the_sites_own(own: tuple[Settings, Services]) -> None:
    """The latest label on a comment wins; another site's labels, and labels with no site, are not the site's."""
    _, services = own
    portal, blog = _sites(services)
    (cid,) = _label(services, portal, [("teks satu", "spam")])
    _label(services, blog, [("teks dua", "spam")])
    with services.db.session() as session:
        add_label(session, text="teks satu", head="spam", label="ham", source="moderator", site_id=portal,
                  comment_id=cid)  # fmt: skip
        add_label(session, text="teks tiga", head="spam", label="spam", source="import")
    with services.db.session() as session:
        found = site_labels(session, portal)
    assert [(x.comment_id, x.spam, x.source) for x in found] == [(cid, 0, "moderator")]


def test_unreported_approvals_are_weak_ham_from_before_the_cutoff(own: tuple[Settings, Services]) -> None:
    """A comment the model published long ago that nobody labelled or reported counts as ham; a newer one not."""
    _, services = own
    portal, _ = _sites(services)
    old = datetime.now(UTC) - timedelta(days=5)
    with services.db.session() as session:
        rows = insert_comments(session, portal, [{"external_id": "a", "content": "lama"},
                                                 {"external_id": "b", "content": "baru"}])  # fmt: skip
        session.execute(update(Comment).values(status="approved", decided_by="model"))
        session.execute(update(Comment).where(Comment.id == rows[0]["id"]).values(received_at=old))
    with services.db.session() as session:
        found = unreported_approvals(session, portal, datetime.now(UTC) - timedelta(days=3), 100)
    assert [(x.text, x.spam, x.source) for x in found] == [("lama", 0, "implicit")]


def test_split_by_time_holds_out_the_newest_labels(own: tuple[Settings, Services]) -> None:
    """The newest retrain.holdout_share of labels judge; the rest train."""
    settings, services = own
    portal, _ = _sites(services)
    ids = _label(services, portal, _campaign_labels(20))
    with services.db.session() as session:
        rows = site_rows(session, portal, settings)
    assert [r.comment_id for r in rows.train] == ids[:32] and [r.comment_id for r in rows.recent] == ids[32:]


def test_a_site_learns_its_campaign_and_the_other_site_keeps_the_shared_model(
    own: tuple[Settings, Services], redis_client: Redis
) -> None:
    """Retraining promotes the portal's own model; its comments are scored by it, the blog's by the shared one."""
    settings, services = own
    portal, blog = _sites(services)
    _label(services, portal, _campaign_labels(40))
    with services.db.session() as session:
        result = retrain_site(session, settings, portal)
    assert result["action"] == "promoted", result["retrain"]["why"]
    site = result["retrain"]["site"]
    assert (site["candidate"]["recall"], -site["candidate"]["reversals"], -site["candidate"]["held"]) > (
        site["current"]["recall"], -site["current"]["reversals"], -site["current"]["held"])
    assert active_version(site_model_dir(settings.model_dir, portal)) == result["version"]
    assert audit_log(site_model_dir(settings.model_dir, portal))[-1]["retrain"]["rows"]["recent"] == 16
    card = json.loads((site_model_dir(settings.model_dir, portal) / result["version"] / "card.json").read_text())
    assert card["params"]["C"] == SITE_C  # a site's recipe, not the shared model's
    shared = active_version(settings.model_dir)
    decider = Decider(settings, redis_client, lambda _ids: [])
    text = CAMPAIGN.format(n=999)
    decisions = decider.decide([Candidate("c1", portal, CommentInput(content=text), {}),
                                Candidate("c2", blog, CommentInput(content=text), {})])  # fmt: skip
    assert [d.model_version for d in decisions] == [result["version"], shared]
    assert decisions[0].spam is not None and decisions[1].spam is not None
    assert decisions[0].spam > decisions[1].spam  # the portal's model learnt the campaign; the blog's did not move


ENGLISH_SPAM = "Check out my channel {n} for free gift cards, it's the best deal you will see"
ENGLISH_HAM = "Thanks for the review of the {n} laptop, the battery is what I was looking for"


def test_languages_of_comments() -> None:
    """A comment's language is the one most of its function words belong to; a site's are those of a share."""
    from training.languages import language_of, site_languages

    assert language_of("Semoga jalan di kampung ini cepat diperbaiki, warga sudah lama menunggu") == "id"
    assert language_of("mantap bro, the best, yang penting gak ada iklan judi") == "id"  # code-mixed
    assert language_of(ENGLISH_HAM.format(n=1)) == "en"
    assert language_of("AERO88 maxwin 5000000") is None
    texts = [ENGLISH_HAM.format(n=i) for i in range(19)] + ["Semoga jalan di kampung ini cepat diperbaiki"]
    assert site_languages(texts) == {"en"}  # one Indonesian comment in twenty is under MIN_SHARE
    assert site_languages(texts + texts[-1:] * 2) == {"en", "id"}  # three in twenty-two
    assert site_languages(["12345", "!!!"]) == set()


def test_a_site_is_judged_on_the_evaluation_sets_in_its_languages(own_config: dict[str, Any], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """An English blog's candidate is not gated by an Indonesian evaluation-only set (measured and written down
    instead); an Indonesian portal's is."""
    data = tmp_path / "data" / "judol_gamblingdetection_eval"
    data.mkdir(parents=True)
    rows = [(JUDOL.format(n=i), "spam") for i in range(12)] + [(READER.format(topic=t, n=i), "ham")
                                                              for i, t in enumerate(TOPICS * 3)]  # fmt: skip
    with (data / "data.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([("text", "label"), *rows])
    config = {**own_config, "training_data": str(data.parent)}
    settings, services = load_settings(overrides=config), Services(load_settings(overrides=config))
    try:
        portal, blog = _sites(services)
        _label(services, portal, _campaign_labels(30))
        _label(services, blog, [(t.format(n=i), k) for i in range(30)
                                for t, k in ((ENGLISH_SPAM, "spam"), (ENGLISH_HAM, "ham"))])  # fmt: skip
        with services.db.session() as session:
            portal_run = retrain_site(session, settings, portal)["retrain"]["base"]
            blog_run = retrain_site(session, settings, blog)["retrain"]["base"]
    finally:
        services.db.dispose()
    assert portal_run["languages"] == ["id"] and portal_run["sets"] == ["judol_gamblingdetection_eval"]
    assert portal_run["candidate"] is not None and "not_gating" not in portal_run
    assert blog_run["languages"] == ["en"] and blog_run["sets"] == [] and blog_run["candidate"] is None
    assert blog_run["not_gating"]["sets"] == ["judol_gamblingdetection_eval"]
    assert blog_run["not_gating"]["candidate"] is not None and blog_run["not_gating"]["current"] is not None


def test_too_few_new_labels_is_skipped_and_trains_nothing(own: tuple[Settings, Services]) -> None:
    """Below retrain.min_new_labels nothing is trained or audited (unless forced)."""
    settings, services = own
    portal, _ = _sites(services)
    _label(services, portal, _campaign_labels(4))
    with services.db.session() as session:
        result = retrain_site(session, settings, portal)
    assert result["action"] == "skipped" and "8 new labels" in result["why"]
    assert audit_log(site_model_dir(settings.model_dir, portal)) == []


def test_poisoned_labels_are_refused_with_the_count(own: tuple[Settings, Services]) -> None:
    """A candidate taught that gambling spam is ham, reversing the recent moderators' spam decisions, is refused."""
    settings, services = own
    portal, _ = _sites(services)
    poison = [(JUDOL.format(n=i), "ham") for i in range(40)] + [(READER.format(topic="pasar", n=i), "ham")
                                                                for i in range(8)]  # fmt: skip
    honest = [(JUDOL.format(n=100 + i), "spam") for i in range(8)] + [(READER.format(topic="banjir", n=i), "ham")
                                                                      for i in range(4)]  # fmt: skip
    _label(services, portal, poison + honest)
    with services.db.session() as session:
        result = retrain_site(session, settings, portal)
    assert result["action"] == "refused", result["retrain"]["why"]
    retrain = result["retrain"]
    assert retrain["why"].startswith("poisoning guard") or retrain["why"].startswith("not better")
    assert retrain["site"]["candidate"]["reversals"] > retrain["site"]["current"]["reversals"]
    assert active_version(site_model_dir(settings.model_dir, portal)) is None  # the shared model keeps scoring it
    assert audit_log(site_model_dir(settings.model_dir, portal))[-1]["action"] == "refused"


def test_cli_retrain_list_and_rollback_to_the_shared_model(own: tuple[Settings, Services]) -> None:
    """`model retrain --site`, `model list` showing the site's run, `model rollback --site` back to the shared."""
    settings, services = own
    portal, _ = _sites(services)
    _label(services, portal, _campaign_labels(40))
    runner = CliRunner()
    out = runner.invoke(model, ["retrain", "--site", "portal", "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.output.splitlines()[-1])
    assert result["action"] == "promoted"
    listed = runner.invoke(model, ["list"])
    assert f"site id {portal}: own model {result['version']}" in listed.output and "promoted" in listed.output
    back = runner.invoke(model, ["rollback", "--site", "portal"])
    assert back.exit_code == 0, back.output
    assert active_version(site_model_dir(settings.model_dir, portal)) is None
    assert SiteScorers(settings.model_dir, check_interval=0).get(portal).version == active_version(settings.model_dir)
    missing = runner.invoke(model, ["retrain", "--site", "nope"])
    assert missing.exit_code != 0 and "no site 'nope'" in missing.output


def test_the_retrain_job_runs_on_its_own_queue(own: tuple[Settings, Services], redis_client: Redis,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """The cron's retrain job, worked by the retrainer's queue alone, promotes the site's model and logs which
    site, what it did and why."""
    from workers.context import WorkerContext, install

    settings, services = own
    caplog.set_level(logging.INFO, logger="workers.retraining")
    portal, _ = _sites(services)
    _label(services, portal, _campaign_labels(40))
    ctx = WorkerContext(settings)
    install(ctx)
    try:
        queue = Queue(ctx.names.retrain_queue, connection=redis_client)
        job = queue.enqueue("workers.retraining.retrain_sites", job_timeout=600)
        assert ctx.names.retrain_queue not in ctx.names.queues  # scoring workers never pick it up
        ServiceWorker([queue], connection=redis_client).work(burst=True)
        job.refresh()
        assert [r["action"] for r in job.return_value()] == ["promoted"]
        (said,) = [r for r in caplog.records if r.name == "workers.retraining"]
        assert (said.site_id, said.action, said.why) == (portal, "promoted", "better on the site's recent labels")
    finally:
        install(None)
        ctx.db.dispose()


def _uncertain(i: int, site: int) -> Decision:
    """A model hold for an uncertain spam score."""
    return Decision(f"u{i}", site, Status.HELD, "model", [{"code": "policy.uncertain", "detail": ""}],
                    spam=0.6 if i % 3 else 0.4)  # fmt: skip


def test_held_cap_settles_uncertain_holds_past_the_share(redis_client: Redis) -> None:
    """Past the cap an uncertain hold is decided by the 0.5 line; abuse holds and other sites are untouched."""
    cap = HeldCap(redis_client, "heldcap-test", 0.2)
    approved = [Decision(f"a{i}", 1, Status.APPROVED, "model", [], spam=0.1) for i in range(20)]
    cap.settle(approved, now=0)
    first = cap.settle([_uncertain(1, 1), _uncertain(2, 1)], now=0)
    assert [d.status for d in first] == [Status.HELD, Status.HELD]  # 0/20, then 1/21: under the cap
    more = cap.settle([_uncertain(i, 1) for i in range(3, 15)], now=0)
    statuses = [d.status for d in more]
    assert Status.SPAM in statuses and Status.APPROVED in statuses
    assert all(d.reasons[0]["code"] == "policy.held_cap" for d in more if d.status != Status.HELD)
    abuse = Decision("ab", 1, Status.HELD, "model", [{"code": "policy.abusive_above", "detail": ""}], spam=0.1)
    assert cap.settle([abuse], now=0)[0].status == Status.HELD
    assert cap.settle([_uncertain(1, 2)], now=0)[0].status == Status.HELD  # another site has its own share
    assert HeldCap(redis_client, "heldcap-test", 0.0).settle([_uncertain(9, 1)], now=0)[0].status == Status.HELD


def test_cron_schedules_retraining_on_the_retrain_queue_only_when_enabled(settings: Settings) -> None:
    """retrain.enabled registers the job every retrain.interval seconds on the retrain queue; off, it does not."""
    from workers.context import WorkerContext
    from workers.worker import make_cron

    for enabled in (True, False):
        ctx = WorkerContext(settings.with_overrides({"retrain.enabled": enabled, "retrain.interval": 120}))
        jobs = {j.name: j for j in make_cron(ctx)._cron_jobs}
        assert ("retrain_sites" in jobs) is enabled
        if enabled:
            assert jobs["retrain_sites"].queue_name == ctx.names.retrain_queue
            assert jobs["retrain_sites"].interval == 120


def test_site_thresholds_come_from_the_sites_own_held_out_rows() -> None:
    """A site's rows in the held-out split set its spam lines; too few of them leave the cross-source lines."""
    import numpy as np

    from training.train import HeadData, site_thresholds

    n = 200
    sources = ["decisions:site-1"] * 60 + ["implicit:site-1"] * 60 + ["public"] * 80
    y = np.asarray([1 if i % 3 == 0 else 0 for i in range(60)] + [0] * 60 + [i % 2 for i in range(80)], np.int8)
    rng = np.random.default_rng(0)
    p = np.clip(np.where(y == 1, 0.8, 0.15) + rng.normal(0, 0.1, n), 0.001, 0.999)
    data = HeadData([""] * n, [""] * n, y, sources, [])
    rows = np.arange(n)
    lines = site_thresholds(data, rows, y, p)
    assert lines is not None and 0.5 <= lines["spam_above"] <= 0.98 and lines["approve_below"] <= lines["spam_above"]
    mine = np.arange(120)
    ham = p[mine][y[mine] == 0]
    assert (ham > lines["spam_above"]).mean() <= 0.001  # the site's ham stays out of spam
    held = (ham >= lines["approve_below"]) & (ham <= lines["spam_above"])
    assert held.mean() <= 0.03 and (ham >= lines["approve_below"] - 0.02).mean() > 0.03  # the budget, used up
    assert site_thresholds(data, np.arange(120, n), y[120:], p[120:]) is None  # public rows alone: no site lines


def test_site_scorers_keep_few_site_models_loaded(own: tuple[Settings, Services], seed_model_dir: Path) -> None:
    """Only the most recently used site models stay loaded; a site without one gets the shared model."""
    settings, _ = own
    shared = active_version(settings.model_dir)
    for site_id in (1, 2, 3):
        target = site_model_dir(settings.model_dir, site_id)
        shutil.copytree(settings.model_dir / str(shared), target / str(shared))
        (target / "ACTIVE").write_text(str(shared))
    scorers = SiteScorers(settings.model_dir, check_interval=0, loaded=2)
    assert {scorers.get(i).version for i in (1, 2, 3, 4)} == {shared}
    assert list(scorers._sites) == [2, 3]  # site 1 was dropped; site 4 has no model and holds no slot
    assert scorers.get(4) is scorers.shared.get()


def test_console_stats_show_each_sites_own_model_and_runs(own: tuple[Settings, Services],
                                                          own_config: dict[str, Any]) -> None:  # fmt: skip
    """The stats page lists the portal's own model and its promoted run, in English and Indonesian."""
    from moderation.app import create_app
    from tests.browser.support import add_user, login

    settings, services = own
    portal, _ = _sites(services)
    _label(services, portal, _campaign_labels(40))
    with services.db.session() as session:
        result = retrain_site(session, settings, portal)
    app = create_app({**own_config, "console.secure_cookies": False})
    add_user(services, "admin-stats", "admin")
    client = app.test_client()
    login(client, "admin-stats")
    page = client.get("/stats", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Learning from your moderators" in page and result["version"] in page and "promoted" in page
    page = client.get("/stats", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "Belajar dari moderator Anda" in page and "dipakai" in page


def test_akismet_reports_teach_only_the_reporting_site_and_never_is_test(client: Any, make_site: Any,
                                                                         services: Services) -> None:  # fmt: skip
    """submit-spam from a site's own key is that site's label (source akismet); is_test and other sites' are not."""
    mine, other = make_site("mine"), make_site("other")
    for site, extra in ((mine, {}), (mine, {"is_test": "1"}), (other, {})):
        client.post("/1.1/submit-spam", data={"api_key": site.api_key, "user_ip": "203.0.113.7",
                                              "comment_content": f"promo {site.slug} {extra}", **extra})  # fmt: skip
    with services.db.session() as session:
        found = site_labels(session, mine.id)
    assert [(x.text, x.spam, x.source) for x in found] == [("promo mine {}", 1, "akismet")]


def test_the_held_out_period_grows_back_until_it_holds_enough_spam() -> None:
    """Newest labels of one kind (a teach page's uncertain middle is mostly ham) push the held-out period back
    until it holds MIN_HELD_OUT spam, never past MAX_HOLDOUT_SHARE of the labels."""
    from moderation.store.labels import SiteLabel
    from training.site_retrain import MAX_HOLDOUT_SHARE, MIN_HELD_OUT, split_by_time

    start = datetime(2026, 1, 1, tzinfo=UTC)
    kinds = [1, 0] * 20 + [0] * 10  # 50 labels: spam and ham alternate, then ten ham
    labels = [SiteLabel(f"c{i}", "t", k, start + timedelta(minutes=i), "moderator") for i, k in enumerate(kinds)]
    rows = split_by_time(labels, 0.2)  # the newest 10 are all ham: it grows to the newest 16 (3 spam)
    assert len(rows.recent) == 16 and sum(r.spam for r in rows.recent) == MIN_HELD_OUT
    assert len(rows.train) == 34 and {r.comment_id for r in rows.train}.isdisjoint(r.comment_id for r in rows.recent)
    only_ham = split_by_time([lb._replace(spam=0) for lb in labels], 0.2)
    assert len(only_ham.recent) == int(len(labels) * MAX_HOLDOUT_SHARE)  # nothing to find: it stops at the cap


def test_split_by_time_mixes_weak_ham_into_both_sides() -> None:
    """The newest share of all labels judges; older explicit and weak labels train apart."""
    from moderation.store.labels import SiteLabel
    from training.site_retrain import split_by_time

    start = datetime(2026, 1, 1, tzinfo=UTC)
    labels = [SiteLabel(f"c{i}", "t", i % 2, start + timedelta(minutes=i), "implicit" if i % 3 == 0 else "moderator")
              for i in range(10)]  # fmt: skip
    rows = split_by_time(list(reversed(labels)), 0.2)  # 20 % is 2 labels; it grows to hold spam: to the cap, 5
    assert [r.comment_id for r in rows.recent] == ["c5", "c6", "c7", "c8", "c9"]
    assert [r.comment_id for r in rows.implicit] == ["c0", "c3"]
    assert [r.comment_id for r in rows.train] == ["c1", "c2", "c4"]
