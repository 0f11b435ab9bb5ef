"""The catalog on the command line: presets, catalog files, quotes, checks, priced spends, usage."""

import tomllib
from pathlib import Path

import pytest

from tests.cli.test_cli import hold_id_in, run

PRESET_NAMES = "demo, image-models, media-studio, org-features, token-credits, video-models"
MEDIA_STUDIO_FEATURES = (
    "audio.generate",
    "image.image_to_image",
    "image.text_to_image",
    "image.upscale",
    "lipsync.generate",
    "video.generate",
)


def seeded(db_url: str, preset: str = "media-studio") -> None:
    code, _, err = run(db_url, "seed", "--preset", preset)
    assert code == 0, err


def studio_account(db_url: str, credits: str = "60") -> None:
    """The media-studio catalog and `user_1` holding exactly `credits`.

    The account exists before the catalog, so no welcome credits join the granted ones.
    """
    run(db_url, "accounts", "create", "user_1")
    run(db_url, "grant", "user_1", credits)
    seeded(db_url)


def exported(db_url: str) -> str:
    code, out, err = run(db_url, "catalog", "export")
    assert code == 0, err
    return out


def price_changed(text: str, old: str, new: str) -> str:
    """The catalog text with exactly one price's credits changed."""
    assert text.count(old) == 1
    return text.replace(old, new)


# -- seed -------------------------------------------------------------------------------------


def test_seed_prints_each_change_and_a_count(db_url: str) -> None:
    code, out, err = run(db_url, "seed", "--preset", "media-studio")

    assert code == 0
    assert err == ""
    lines = out.splitlines()
    for key in MEDIA_STUDIO_FEATURES:
        assert any(line.startswith(f"+ feature {key} (") for line in lines)
        assert any(line.startswith(f"+ price {key}: ") for line in lines)
    assert lines[-4:-1] == [
        "+ plan free (Free, 60 credits per cycle)",
        "+ plan basic (Basic, 500 credits per cycle)",
        "+ plan premium (Premium, 1200 credits per cycle)",
    ]
    assert "+ price video.generate: rule=tiered, tiers=[up to 5: 25; up to 10: 50], unit=s" in lines
    assert lines[-1] == f"{len(lines) - 1} changed"


def test_seed_twice_reports_the_catalog_up_to_date(db_url: str) -> None:
    seeded(db_url)

    code, out, _ = run(db_url, "seed", "--preset", "media-studio")

    assert code == 0
    assert out == "catalog is up to date: nothing to change\n"


def test_seed_exits_1_naming_the_presets_when_the_preset_is_unknown(db_url: str) -> None:
    code, out, err = run(db_url, "seed", "--preset", "nope")

    assert code == 1
    assert out == ""
    assert err.startswith("error: ")
    assert err.endswith(" [invalid_input]\n")
    assert PRESET_NAMES in err


def test_seed_dry_run_lists_the_changes_and_writes_nothing(db_url: str) -> None:
    code, out, _ = run(db_url, "seed", "--preset", "demo", "--dry-run")
    features = run(db_url, "features")

    assert code == 0
    assert "+ feature chat.complete (Chat completion)" in out
    assert out.splitlines()[-1].endswith("would change (dry run: nothing written)")
    assert features == (0, "", "")


# -- catalog export / apply ---------------------------------------------------------------------


def test_catalog_export_prints_toml_holding_the_features(db_url: str) -> None:
    seeded(db_url)

    code, out, _ = run(db_url, "catalog", "export")

    assert code == 0
    data = tomllib.loads(out)
    assert "welcome" not in data
    assert data["plans"][1] == {
        "key": "free",
        "name": "Free",
        "description": "Perfect for getting started.",
        "credits": "60",
        "prices": {"month": 0},
        "default": True,
    }
    assert [feature["key"] for feature in data["features"]] == list(MEDIA_STUDIO_FEATURES)
    video = data["features"][-1]
    assert video["prices"] == [
        {
            "rule": "tiered",
            "unit": "s",
            "tiers": [{"up_to": 5, "credits": "25"}, {"up_to": 10, "credits": "50"}],
        }
    ]


def test_catalog_export_to_a_file_applies_to_a_fresh_database_as_the_same_text(
    db_url: str, tmp_path: Path
) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    seeded(source)
    file = tmp_path / "catalog.toml"
    wrote = run(source, "catalog", "export", str(file))

    applied = run(db_url, "catalog", "apply", str(file))

    assert wrote == (0, f"wrote {file}\n", "")
    assert applied[0] == 0
    assert applied[1].splitlines()[-1] == "15 changed"
    assert exported(db_url) == file.read_text(encoding="utf-8") == exported(source)


def test_catalog_apply_dry_run_shows_one_changed_price_then_apply_versions_it(
    db_url: str, tmp_path: Path
) -> None:
    seeded(db_url)
    before = exported(db_url)
    file = tmp_path / "catalog.toml"
    file.write_text(
        price_changed(before, 'credits = "20", block = 10', 'credits = "30", block = 10'),
        encoding="utf-8",
    )

    dry = run(db_url, "catalog", "apply", str(file), "--dry-run")
    after_dry = exported(db_url)
    applied = run(db_url, "catalog", "apply", str(file))
    quoted = run(db_url, "quote", "lipsync.generate", "--quantity", "10")

    assert dry[0] == 0
    assert dry[1].splitlines() == [
        "~ price lipsync.generate: rule=per_block, credits=30, block=10, unit=s",
        "1 would change (dry run: nothing written)",
    ]
    assert after_dry == before
    assert applied[0] == 0
    assert applied[1].splitlines() == [
        "~ price lipsync.generate: rule=per_block, credits=30, block=10, unit=s",
        "1 changed",
    ]
    assert quoted[0] == 0
    first = quoted[1].splitlines()[0]
    assert first.startswith("30 credits  (price ")
    assert first.endswith(" v2)")
    assert exported(db_url) == file.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("problem", "text", "named"),
    [
        (
            "duplicate key",
            '[[features]]\nkey = "a.b"\nname = "A"\n\n[[features]]\nkey = "a.b"\nname = "B"\n',
            "features[1].key: a.b appears twice",
        ),
        (
            "negative price",
            '[[features]]\nkey = "a.b"\nname = "A"\nprices = [{ rule = "flat", credits = "-1" }]\n',
            "features[0].prices[0].credits",
        ),
        (
            "overlapping tiers",
            '[[features]]\nkey = "a.b"\nname = "A"\n'
            'prices = [{ rule = "tiered", unit = "s", tiers = ['
            '{ up_to = 10, credits = "5" }, { up_to = 5, credits = "6" }] }]\n',
            "features[0].prices[0].tiers[1].up_to",
        ),
    ],
)
def test_catalog_apply_exits_1_and_changes_nothing_when_the_catalog_is_bad(
    db_url: str, tmp_path: Path, problem: str, text: str, named: str
) -> None:
    seeded(db_url)
    before = exported(db_url)
    file = tmp_path / "bad.toml"
    file.write_text(text, encoding="utf-8")

    code, out, err = run(db_url, "catalog", "apply", str(file))

    assert code == 1, problem
    assert out == ""
    assert err.startswith(f"error: {named}")
    assert err.endswith(" [invalid_input]\n")
    assert exported(db_url) == before


@pytest.mark.parametrize(
    ("content", "starts"),
    [
        ("x = [\n", "error: file: {file} is not TOML: "),
        (None, "error: file: cannot read {file}: No such file"),
    ],
    ids=["not-toml", "missing"],
)
def test_catalog_apply_exits_1_with_one_error_line_when_the_file_is_unreadable(
    db_url: str, tmp_path: Path, content: str | None, starts: str
) -> None:
    seeded(db_url)
    before = exported(db_url)
    file = tmp_path / "catalog.toml"
    if content is not None:
        file.write_text(content, encoding="utf-8")

    code, out, err = run(db_url, "catalog", "apply", str(file))

    assert code == 1
    assert out == ""
    assert err.startswith(starts.format(file=file))
    assert err.endswith(" [invalid_input]\n")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert exported(db_url) == before


# -- features / quote / check -------------------------------------------------------------------


def test_features_lists_each_feature_with_its_price_in_force(db_url: str) -> None:
    seeded(db_url)

    code, out, _ = run(db_url, "features", "--category", "Audio")

    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "audio.generate  Audio generation  [Audio]"
    assert lines[1].startswith("    (default): per_block credits=1, block=15, unit=s  v1 since ")
    assert len(lines) == 2


def test_quote_prints_the_amount_and_the_breakdown(db_url: str) -> None:
    seeded(db_url)

    code, out, _ = run(db_url, "quote", "video.generate", "--quantity", "8")

    assert code == 0
    first, second = out.splitlines()
    assert first.startswith("50 credits  (price ")
    assert first.endswith(" v1)")
    assert second == "  8 s: tier up to 10 s = 50 credits"


def test_quote_exits_1_when_the_quantity_is_above_the_last_tier(db_url: str) -> None:
    seeded(db_url)

    code, out, err = run(db_url, "quote", "video.generate", "--quantity", "11")

    assert code == 1
    assert out == ""
    assert err == "error: quantity: 11 s is above the last tier (10) [invalid_input]\n"


def test_quote_prices_tokens_by_model_family(db_url: str) -> None:
    seeded(db_url, "demo")

    code, out, _ = run(
        db_url,
        "quote",
        "chat.complete",
        "--model",
        "gpt-4o",
        "--quantity",
        "input=1000,output=1000",
    )

    assert code == 0
    first, second = out.splitlines()
    assert first.startswith("1.25 credits  (price ")
    assert second == "  1000 input x 0.25/1000 + 1000 output x 1/1000 = 1.25 credits"


@pytest.mark.parametrize("quantity", ["abc", "1.5", "input=x", "input=1,,", "input"])
def test_quote_exits_2_on_a_bad_quantity(db_url: str, quantity: str) -> None:
    seeded(db_url)

    code, out, err = run(db_url, "quote", "video.generate", "--quantity", quantity)

    assert code == 2
    assert out == ""
    assert "--quantity" in err


@pytest.mark.parametrize(
    ("feature", "quantity", "expected_code", "expected_out"),
    [
        ("video.generate", "8", 0, "enough: 50 required, 60 available\n"),
        ("lipsync.generate", "40", 1, "not enough: 80 required, 60 available\n"),
    ],
)
def test_check_exits_by_whether_the_account_can_pay(
    db_url: str, feature: str, quantity: str, expected_code: int, expected_out: str
) -> None:
    studio_account(db_url)

    code, out, _ = run(db_url, "check", "user_1", feature, "--quantity", quantity)

    assert code == expected_code
    assert out == expected_out


def test_accounts_create_after_seed_grants_the_welcome_credits(db_url: str) -> None:
    seeded(db_url)

    code, out, _ = run(db_url, "accounts", "create", "user_1")

    assert code == 0
    assert "user_1: balance 60, held 0, available 60" in out


# -- priced spends ------------------------------------------------------------------------------


def test_charge_with_a_feature_prints_the_entry_the_pricing_and_the_balance(db_url: str) -> None:
    studio_account(db_url)

    code, out, _ = run(
        db_url, "charge", "user_1", "--feature", "audio.generate", "--quantity", "40"
    )

    assert code == 0
    entry, priced, balance = out.splitlines()
    assert entry.startswith("entry ")
    assert " charge " in entry
    assert " -3 " in entry
    assert "feature=audio.generate quantity=40 price=" in entry
    assert priced == "  priced: 40 s = 3 x 15 s x 1 credit = 3 credits"
    assert balance == "user_1: balance 57, held 0, available 57"


def test_charge_exits_1_when_given_neither_an_amount_nor_a_feature(db_url: str) -> None:
    studio_account(db_url)

    code, out, err = run(db_url, "charge", "user_1")

    assert code == 1
    assert out == ""
    assert err.startswith("error: ")
    assert err.endswith(" [invalid_input]\n")


def test_settle_by_quantity_uses_the_price_the_hold_was_made_at(
    db_url: str, tmp_path: Path
) -> None:
    studio_account(db_url)
    _, held, _ = run(db_url, "hold", "user_1", "--feature", "video.generate", "--quantity", "10")
    hold_id = hold_id_in(held)
    hold_entry = next(line for line in held.splitlines() if line.startswith("entry "))
    price_label = next(word for word in hold_entry.split() if word.startswith("price="))
    file = tmp_path / "catalog.toml"
    file.write_text(
        price_changed(exported(db_url), 'credits = "50"', 'credits = "45"'), encoding="utf-8"
    )
    run(db_url, "catalog", "apply", str(file))
    _, quoted_now, _ = run(db_url, "quote", "video.generate", "--quantity", "8")

    code, out, _ = run(db_url, "settle", hold_id, "--quantity", "8")

    assert "user_1: balance 60, held 50, available 10" in held
    assert quoted_now.startswith("45 credits ")
    assert code == 0
    entry, priced, hold_line, balance = out.splitlines()
    assert " settle " in entry
    assert " -50 " in entry
    assert f"quantity=8 {price_label} hold={hold_id}" in entry
    assert priced == "  priced: 8 s: tier up to 10 s = 50 credits"
    assert hold_line.startswith(f"hold {hold_id}: 50 credits, settled, captured 50 ")
    assert balance == "user_1: balance 10, held 0, available 10"


# -- usage --------------------------------------------------------------------------------------


def test_release_with_a_failure_is_listed_as_a_failed_use(db_url: str) -> None:
    studio_account(db_url)
    run(db_url, "charge", "user_1", "--feature", "audio.generate", "--quantity", "40")
    _, held, _ = run(db_url, "hold", "user_1", "--feature", "audio.generate", "--quantity", "30")
    hold_id = hold_id_in(held)
    released = run(db_url, "release", hold_id, "--failure", "timeout")

    code, out, _ = run(db_url, "usage", "user_1")

    assert released[0] == 0
    assert "user_1: balance 57, held 0, available 57" in released[1]
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith("  user_1  audio.generate x30  2 credits  failed")
    assert lines[1].endswith("  user_1  audio.generate x40  3 credits  succeeded")
    assert lines[2:] == [
        "totals:",
        "  audio.generate  failed: 1 events, 2 credits",
        "  audio.generate  succeeded: 1 events, 3 credits",
    ]


def test_usage_filtered_by_outcome_lists_a_refused_charge(db_url: str) -> None:
    studio_account(db_url)
    run(db_url, "charge", "user_1", "--feature", "image.upscale")
    refused = run(db_url, "charge", "user_1", "--feature", "lipsync.generate", "--quantity", "40")

    code, out, _ = run(db_url, "usage", "--outcome", "refused")

    assert refused[0] == 1
    assert refused[2].endswith("[insufficient_credits]\n")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("  user_1  lipsync.generate x40  80 credits  refused")
    assert lines[1:] == ["totals:", "  lipsync.generate  refused: 1 events, 80 credits"]
