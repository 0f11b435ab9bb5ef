"""The demo: a small AI app's day, written against the public engine API.

Every write carries an idempotency key, so running the demo again replays the same
results instead of spending twice: the second run prints the same ledger.
"""

from collections.abc import Callable
from datetime import timedelta

from creditgate.cli.output import balance_line, entry_line, hold_line
from creditgate.domain.accounts import OwnerKind
from creditgate.domain.errors import InsufficientCredits
from creditgate.engine import Engine

Echo = Callable[[str], None]


def run(engine: Engine, echo: Echo) -> None:
    """Create two wallets, grant, charge, hold, settle, release, refund, transfer, verify."""
    alice = engine.create_account("alice")
    engine.create_account("acme", owner_kind=OwnerKind.ORGANIZATION)
    engine.add_member("acme", "bob", spend_cap=40)
    echo("== accounts: alice (user), acme (organization, member bob capped at 40)")

    welcome_ends = alice.created_at + timedelta(days=30)
    engine.grant(
        "alice",
        50,
        source="welcome",
        expires_at=welcome_ends,
        priority=-1,
        idempotency_key="demo-welcome",
    )
    pack = engine.grant("alice", 110, source="purchase", idempotency_key="demo-creator-pack")
    engine.grant("acme", 1000, source="purchase", idempotency_key="demo-acme-pack")
    echo("== grants: alice 50 welcome (30 days, burns first) + 110 purchased; acme 1000")
    echo(balance_line(pack.balance))

    image = engine.charge("alice", 5, feature="image.generate", idempotency_key="demo-image-1")
    echo(f"== charge: image.generate used {image.credits_used}, {image.credits_remaining} left")

    video = engine.hold(
        "alice",
        50,
        ttl=timedelta(minutes=10),
        feature="video.generate",
        idempotency_key="demo-video-hold",
    )
    assert video.hold is not None
    echo(f"== hold before a 10 s video: {hold_line(video.hold)}")
    echo(balance_line(video.balance))
    done = engine.settle(video.hold.id, 25, idempotency_key="demo-video-settle")
    echo(f"== settle: the video came out 5 s, captured {done.credits_used}, rest released")

    voice = engine.hold(
        "alice",
        20,
        ttl=timedelta(minutes=5),
        feature="audio.generate",
        idempotency_key="demo-voice-hold",
    )
    assert voice.hold is not None
    engine.release(voice.hold.id, idempotency_key="demo-voice-release")
    echo("== release: the voice clip failed, its 20 credits are available again")

    try:
        engine.charge("alice", 500, feature="video.generate")
    except InsufficientCredits as refused:
        echo(f"== refused: {refused.detail} (nothing was written)")

    refund = engine.refund(
        image.entry.id, "2.5", reason="upscale failed", idempotency_key="demo-refund"
    )
    echo(f"== refund of half the image: +{refund.entry.amount}")

    chat = engine.charge(
        "acme", "0.5", member_id="bob", feature="llm.chat", idempotency_key="demo-bob-chat"
    )
    echo(f"== bob spends acme's wallet: {chat.credits_used} for llm.chat, attributed to bob")
    engine.transfer("alice", "acme", 10, idempotency_key="demo-gift")
    echo("== transfer: alice gives acme 10 credits")

    echo("== alice's ledger, newest first")
    for entry in engine.history("alice").items:
        echo(entry_line(entry))
    echo(balance_line(engine.balance("alice")))
    echo(balance_line(engine.balance("acme")))
    report = engine.verify()
    verdict = "clean" if report.is_clean else f"{len(report.problems)} problems"
    echo(f"== verify: {report.accounts} accounts, {report.entries} entries, {verdict}")
