"""The real WordPress plugin in shadow mode: it changes no status, reports the site's own verdicts back, and one
command (`moderation sites mode SLUG enforce`) switches it over to applying our decisions.

Runs Debian's WordPress on a private MariaDB server against our live app, like tests/test_wordpress_php.py (whose
fixtures it uses).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from moderation.services import Services
from moderation.store.models import CallbackDelivery, SiteVerdict
from moderation.store.shadow import shadow_report
from moderation.store.sites import set_mode
from tests import test_wordpress_php as plugin_tests
from tests.support import Site
from tests.wordpress_site import PHP, WordPress

NEW_COMMENT, _service_comment = plugin_tests.NEW_COMMENT, plugin_tests._service_comment
# The WordPress, MariaDB and live-app fixtures of the plugin's own tests (a fixture is found by its name here).
live_url, mariadb, wordpress = plugin_tests.live_url, plugin_tests.mariadb, plugin_tests.wordpress

pytestmark = pytest.mark.skipif(PHP is None, reason="php-cli is not installed (CI installs it in .ci/run)")

POST = "add_filter('wp_is_comment_flood', '__return_false', 99);\n" + NEW_COMMENT
"""A visitor's comment, without WordPress's 15-second flood check (the test's visitors share an IP)."""

FILTER_SAYS_SPAM = "add_filter('pre_comment_approved', function () { return 'spam'; }, 10);\n"
"""What Akismet (or any filter before ours) does to a comment it catches: WordPress stores it as spam."""


def _verdict(services: Services, comment_id: str) -> tuple[str, str | None] | None:
    """The site's reported verdict on one of our comments."""
    with services.db.session() as session:
        row = session.get(SiteVerdict, comment_id)
        return (row.verdict, row.source) if row else None


def test_shadow_mode_leaves_statuses_alone_and_reports_verdicts(wordpress: tuple[WordPress, Site],
                                                                services: Services,
                                                                run_worker: Callable[[], bool]) -> None:
    """Comments keep WordPress's own status through our callbacks; its filter's and moderator's verdicts reach us."""
    wp, site = wordpress
    with services.db.session() as session:
        set_mode(session, site.slug, "shadow")
    wp.run("update_option('modcom_mode', 'shadow'); echo json_encode(true);")  # Settings > Moderation > Mode

    ham = wp.run(POST, {"author": "Pembaca", "content": "Semoga pembangunan jalan cepat selesai, terima kasih"})
    promo = wp.run(POST, {"author": "Promo", "content": "BELI OBAT KUAT MURAH klik http://obat.example.net"})
    caught: dict[str, Any] = wp.run(FILTER_SAYS_SPAM + POST, {"author": "Bot", "content": "situs gacor maxwin"})
    assert "id" in caught, caught
    assert wp.comment(ham["id"])["status"] == "approved"  # not held for us: WordPress's own choice stands
    assert wp.comment(caught["id"])["status"] == "spam"
    ours = {name: _service_comment(services, site, made["id"]).id
            for name, made in (("ham", ham), ("promo", promo), ("caught", caught))}
    assert _verdict(services, ours["ham"]) == ("approved", "filter")
    assert _verdict(services, ours["caught"]) == ("spam", "filter")

    run_worker()  # decides all three and delivers comment.decided ("mode": "shadow") to WordPress
    with services.db.session() as session:
        deliveries = list(session.scalars(select(CallbackDelivery).where(CallbackDelivery.site_id == site.id)))
    assert len(deliveries) == 3 and {d.status for d in deliveries} == {"delivered"}
    assert all(json.loads(d.payload)["comment"]["mode"] == "shadow" for d in deliveries)
    # We would not have published the promotion (so applying our decision would have moved it), yet it stands.
    assert _service_comment(services, site, promo["id"]).status in ("held", "spam")
    assert [wp.comment(m["id"])["status"] for m in (ham, promo, caught)] == ["approved", "approved", "spam"]

    # A moderator in wp-admin marks the promotion spam: that transition is the site's verdict.
    moved = wp.run("wp_set_current_user(1); wp_set_comment_status((int) $in, 'spam');"
                   "echo json_encode(wp_get_comment_status((int) $in));", promo["id"])
    assert moved == "spam"
    assert _verdict(services, ours["promo"]) == ("spam", "moderator")
    with services.db.session() as session:
        report = shadow_report(session, site.id, site.slug)
    assert report.compared == 3 and report.without_verdict == 0

    # One command switches the site over: the next answer tells the plugin, which then holds and applies again.
    with services.db.session() as session:
        set_mode(session, site.slug, "enforce")
    from moderation.api.auth import forget_site

    forget_site(site.slug)  # the live app's 5-second cache of the site, so the test need not wait it out
    wp.run(POST, {"author": "Pembaca", "content": "Terima kasih, beritanya bermanfaat sekali"})
    assert wp.run("echo json_encode(get_option('modcom_mode'));") == "enforce"
    held = wp.run(POST, {"author": "Pembaca", "content": "Semoga banjir cepat surut di desa kami"})
    assert wp.comment(held["id"])["status"] == "unapproved"
    run_worker()
    decided = _service_comment(services, site, held["id"])
    assert wp.comment(held["id"])["status"] == {"approved": "approved", "held": "unapproved", "spam": "spam",
                                                "rejected": "trash"}[decided.status]
    assert [wp.comment(m["id"])["status"] for m in (ham, promo, caught)] == ["approved", "spam", "spam"]
