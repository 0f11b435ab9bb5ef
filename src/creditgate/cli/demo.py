"""The demo: a small AI app's day, written against the public engine API.

The app prices its features with the `media-studio` preset (image 5 credits, video 25
credits up to 5 s and 50 up to 10 s, audio 1 credit per 15 s, 60 welcome credits). Every
write carries an idempotency key, so running the demo again replays the same results
instead of spending twice: the second run prints the same ledger.
"""

from collections.abc import Callable
from datetime import timedelta

from creditgate.cli.output import balance_line, entry_line, hold_line
from creditgate.domain.accounts import OwnerKind
from creditgate.domain.errors import InsufficientCredits
from creditgate.engine import Engine

Echo = Callable[[str], None]


def run(engine: Engine, echo: Echo) -> None:
    """Seed a catalog; create wallets; charge, hold, settle, release, refund, transfer, verify."""
    changes = engine.seed("media-studio")
    echo(f"== catalog: media-studio preset ({len(changes)} changes; none when run again)")
    video_quote = engine.quote("video.generate", quantity=8)
    echo(f"== quote: video.generate for 8 s costs {video_quote.amount} ({video_quote.breakdown})")

    engine.create_account("alice")
    engine.create_account("acme", owner_kind=OwnerKind.ORGANIZATION)
    engine.add_member("acme", "bob", spend_cap=40)
    echo("== accounts: alice (60 welcome credits), acme (organization, member bob capped at 40)")
    pack = engine.grant("alice", 110, source="purchase", idempotency_key="demo-creator-pack")
    engine.grant("acme", 1000, source="purchase", idempotency_key="demo-acme-pack")
    echo("== grants: alice buys 110; acme buys 1000")
    echo(balance_line(pack.balance))

    image = engine.charge("alice", feature="image.text_to_image", idempotency_key="demo-image-1")
    echo(
        f"== charge: image.text_to_image used {image.credits_used}, {image.credits_remaining} left"
    )

    video = engine.hold(
        "alice",
        feature="video.generate",
        quantity=10,
        ttl=timedelta(minutes=10),
        idempotency_key="demo-video-hold",
    )
    assert video.hold is not None
    echo(f"== hold before a video of up to 10 s: {hold_line(video.hold)}")
    echo(balance_line(video.balance))
    done = engine.settle(video.hold.id, quantity=5, idempotency_key="demo-video-settle")
    echo(f"== settle: the video came out 5 s, captured {done.credits_used}, rest released")

    voice = engine.hold(
        "alice",
        feature="audio.generate",
        quantity=40,
        ttl=timedelta(minutes=5),
        idempotency_key="demo-voice-hold",
    )
    assert voice.hold is not None
    engine.release(voice.hold.id, failure="voice model timed out", idempotency_key="demo-voice")
    echo(f"== release: the voice clip failed, its {voice.hold.amount} credits are available again")

    try:
        engine.charge("alice", 500, feature="video.generate")
    except InsufficientCredits as refused:
        echo(f"== refused: {refused.detail} (nothing was written; a refused usage event was)")

    refund = engine.refund(
        image.entry.id, "2.5", reason="upscale failed", idempotency_key="demo-refund"
    )
    echo(f"== refund of half the image: +{refund.entry.amount}")

    chat = engine.charge(
        "acme",
        feature="image.upscale",
        member_id="bob",
        idempotency_key="demo-bob-upscale",
    )
    echo(f"== bob spends acme's wallet: {chat.credits_used} for image.upscale, attributed to bob")
    engine.transfer("alice", "acme", 10, idempotency_key="demo-gift")
    echo("== transfer: alice gives acme 10 credits")

    echo("== usage by feature and outcome (a refused attempt counts each run)")
    for total in engine.usage_totals():
        echo(f"{total.feature}: {total.outcome} x{total.events}, {total.credits} credits")
    echo("== alice's ledger, newest first")
    for entry in engine.history("alice").items:
        echo(entry_line(entry))
    echo(balance_line(engine.balance("alice")))
    echo(balance_line(engine.balance("acme")))
    report = engine.verify()
    verdict = "clean" if report.is_clean else f"{len(report.problems)} problems"
    echo(f"== verify: {report.accounts} accounts, {report.entries} entries, {verdict}")
