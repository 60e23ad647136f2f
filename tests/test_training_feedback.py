"""Tests for learning from moderators: decisions as training labels (they win, with their authors) and uncertainty
sampling (scored with the comments' author fields)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from moderation.model.scoring import ModelScorer, load_scorer
from moderation.reading.features import CommentDoc
from moderation.services import Services
from moderation.store.comments import insert_comments
from moderation.store.labels import add_label
from moderation.store.models import Comment
from moderation.store.sites import create_site
from tests.support import Site
from training.feedback import decision_sources, suggest
from training.train import train_model

# A seed-set-style ham text that a moderator says is spam on this site.
TEXT = "Info lowongan kerja admin online, gaji harian, minat chat saya ya kak"
NEWS = "Semoga pembangunan jembatan di Kabupaten Sigi cepat selesai, warga sudah lama menunggu."
# A link spammer's author fields: the text may read like any reader's, the website is a gambling brand.
BRAND = {"author_name": "Andi", "author_url": "https://garuda138.vip", "author_email": "cs@garuda138.vip"}
BRAND_FIELDS = (BRAND["author_name"], BRAND["author_url"], BRAND["author_email"])
# Reader-like texts that moderators marked spam because of who posted them.
LINK_SPAM = [
    "Setuju sekali dengan pendapat bapak, semoga cepat ditindaklanjuti",
    "Beritanya bagus, terima kasih sudah menulis dengan lengkap",
    "Semoga warga di sana diberi kesabaran menghadapi banjir ini",
    "Pemerintah daerah harus lebih tegas soal parkir liar di pasar",
    "Mantap, akhirnya jalan provinsi itu diperbaiki juga",
    "Harga cabai di pasar kami juga naik terus minggu ini",
    "Semoga tim kita menang di pertandingan berikutnya",
    "Tolong diliput juga kemacetan di simpang lima tiap sore",
    "Kasihan para petani kalau harga gabah turun lagi",
    "Info yang sangat berguna untuk warga pendatang seperti saya",
    "Semoga pelakunya cepat ditangkap polisi dan dihukum setimpal",
    "Kapan jadwal pemadaman listrik di kecamatan kami diumumkan",
]


def test_decisions_become_sources_and_override_dataset_labels(services: Services) -> None:
    """train --include-decisions: the moderator's label for a text wins over the datasets' copies."""
    with services.db.session() as session:
        site = create_site(session, "fb")
        (row,) = insert_comments(session, site.id, [{"external_id": "1", "content": NEWS}])
        add_label(session, text=NEWS, head="spam", label="ham", source="moderator", comment_id=row["id"])
        add_label(session, text=NEWS, head="spam", label="spam", source="moderator", comment_id=row["id"])
        add_label(session, text="dasar otak udang kau", head="abusive", label="abusive", source="akismet")
    with services.db.session() as session:
        sources = {s.name: s for s in decision_sources(session)}
    assert sources["decisions:spam"].texts == [NEWS] and sources["decisions:spam"].labels == [1]
    assert sources["decisions:abusive"].kind == "abuse" and sources["decisions:abusive"].labels == [1]
    # The seed set carries NEWS as ham; the moderator's later "spam" label must be what the model learns.
    _, card = train_model([], extra=list(sources.values()))
    names = {s["name"]: s for s in card["sources"]}
    assert names["decisions:spam"]["positives"] == 1
    assert card["rows"]["spam"]["positive"] == train_model([])[1]["rows"]["spam"]["positive"] + 1


def test_moderator_label_trains_with_the_comments_author(services: Services) -> None:
    """A moderator's spam label on a comment with a brand author URL becomes a row with that author."""
    with services.db.session() as session:
        site = create_site(session, "fa")
        (row,) = insert_comments(session, site.id, [{"external_id": "1", "content": LINK_SPAM[0], **BRAND}])
        add_label(session, text=LINK_SPAM[0], head="spam", label="spam", source="moderator", comment_id=row["id"])
        add_label(session, text=NEWS, head="spam", label="ham", source="import")
    with services.db.session() as session:
        (src,) = decision_sources(session)
    assert src.labels == [1, 0] and src.authors == [BRAND_FIELDS, ("", "", "")]
    assert src.docs()[0] == CommentDoc(LINK_SPAM[0], *BRAND_FIELDS)


def test_akismet_report_of_an_unknown_comment_trains_with_its_author(client: Any, site: Site,
                                                                     services: Services) -> None:
    """submit-spam about a comment we never checked trains with the report's comment_author_url and e-mail."""
    resp = client.post("/1.1/submit-spam", data={
        "api_key": site.api_key, "user_ip": "203.0.113.7", "comment_content": LINK_SPAM[1],
        "comment_author": BRAND["author_name"], "comment_author_url": BRAND["author_url"],
        "comment_author_email": BRAND["author_email"]})
    assert resp.status_code == 200
    with services.db.session() as session:
        (src,) = decision_sources(session)
    assert (src.texts, src.labels, src.authors) == ([LINK_SPAM[1]], [1], [BRAND_FIELDS])


def test_suggest_scores_identical_texts_by_their_authors(services: Services) -> None:
    """Trained on moderators' author-aware labels, suggest tells apart one text from a brand URL and from a reader."""
    with services.db.session() as session:
        site = create_site(session, "fs")
        rows = insert_comments(session, site.id, [{"external_id": str(i), "content": t, **BRAND}
                                                  for i, t in enumerate(LINK_SPAM)])
        for row in rows:
            add_label(session, text=row["content"], head="spam", label="spam", source="moderator", comment_id=row["id"])
    with services.db.session() as session:
        scorer = ModelScorer(*train_model([], extra=decision_sources(session)))
        probes = insert_comments(session, site.id, [{"external_id": "branded", "content": NEWS, **BRAND},
                                                    {"external_id": "reader", "content": NEWS, "author_name": "Andi"}])
        session.execute(update(Comment).where(Comment.id.in_([p["id"] for p in probes]))
                        .values(status="held", decided_by="model"))
    with services.db.session() as session:
        spam = {r["comment_id"]: r["spam"] for r in suggest(session, scorer, limit=10)}
    assert spam[probes[0]["id"]] > spam[probes[1]["id"]]


def test_suggest_ranks_unlabelled_uncertain_comments_first(services: Services, settings: Any) -> None:
    """suggest lists held/recent model-decided comments without labels, nearest the boundary first."""
    scorer = load_scorer(settings["model_dir"])
    texts = [
        "𝐆𝐀𝐑𝐔𝐃𝐀𝟏𝟑𝟖 gacor parah, depo 50rb langsung maxwin WD 3 juta",
        NEWS,
        TEXT,
        "cek link di bio ya kak, info kerja",
        "Semoga Sulsel tetap aman dan damai",
    ]
    with services.db.session() as session:
        site = create_site(session, "sg")
        rows = insert_comments(session, site.id, [{"external_id": str(i), "content": t} for i, t in enumerate(texts)])
        ids = [r["id"] for r in rows]
        session.execute(update(Comment).where(Comment.id.in_(ids[:4])).values(status="held", decided_by="model"))
        session.execute(update(Comment).where(Comment.id == ids[4]).values(status="approved", decided_by="moderator:x"))
        add_label(session, text=texts[3], head="spam", label="spam", source="moderator", comment_id=ids[3])
    with services.db.session() as session:
        found = suggest(session, scorer, limit=10)
    listed = [r["comment_id"] for r in found]
    assert set(listed) == set(ids[:3])  # labelled and moderator-decided comments are left out
    uncertainty = [r["uncertainty"] for r in found]
    assert uncertainty == sorted(uncertainty, reverse=True)
    assert all(0 < u <= 1 for u in uncertainty) and len(set(uncertainty)) == 3
    assert [r["text"] for r in suggest_top(services, scorer)] == [found[0]["text"]]


def suggest_top(services: Services, scorer: Any) -> list[dict[str, Any]]:
    """The single most uncertain suggestion (limit is honoured)."""
    with services.db.session() as session:
        return suggest(session, scorer, limit=1)
