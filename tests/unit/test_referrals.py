"""Referral terms, pure: the `[referrals]` table of a catalog file, and what applying it does."""

import pytest

from creditgate import (
    Catalog,
    ChangeKind,
    Credits,
    InvalidInput,
    ReferralCondition,
    ReferralTerms,
)
from creditgate.domain.catalog import catalog_data, parse_catalog, plan_changes
from creditgate.domain.referrals import check_referrer, parse_terms, terms_data

TERMS = ReferralTerms(
    referrer_credits=Credits.parse(50),
    referee_credits=Credits.parse("20.5"),
    condition=ReferralCondition.FIRST_PURCHASE,
)


def test_parse_terms_reads_a_referrals_table() -> None:
    table = {"referrer_credits": "50", "referee_credits": "20.5", "condition": "first_purchase"}

    assert parse_terms(table) == TERMS


def test_parse_terms_defaults_to_signup_and_an_absent_side_to_nothing() -> None:
    terms = parse_terms({"referee_credits": 5})

    assert terms == ReferralTerms(
        referrer_credits=Credits(0),
        referee_credits=Credits.parse(5),
        condition=ReferralCondition.SIGNUP,
    )


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({}, "referrals.referrer_credits"),
        ({"referrer_credits": 0, "referee_credits": "0"}, "referrals.referrer_credits"),
        ({"referrer_credits": "-1", "referee_credits": 5}, "referrals.referrer_credits"),
        ({"referrer_credits": 5, "referee_credits": 1.5}, "referrals.referee_credits"),
        ({"referrer_credits": 5, "condition": "purchase"}, "referrals.condition"),
        ({"referrer_credits": 5, "bonus": 1}, "referrals.bonus"),
    ],
    ids=["empty", "nothing offered", "negative", "float", "unknown condition", "unknown field"],
)
def test_parse_terms_names_the_first_bad_field(table: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_terms(table)

    assert raised.value.field == field


def test_terms_data_reads_back_to_equal_terms() -> None:
    assert parse_terms(terms_data(TERMS)) == TERMS


def test_catalog_file_round_trips_its_referrals_table() -> None:
    catalog = Catalog(welcome=Credits.parse(10), referrals=TERMS)

    data = catalog_data(catalog)

    assert data["referrals"] == {
        "referrer_credits": "50",
        "referee_credits": "20.5",
        "condition": "first_purchase",
    }
    assert parse_catalog(data) == catalog


def test_parse_catalog_names_a_bad_referrals_table() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_catalog({"referrals": ["not", "a", "table"]})

    assert raised.value.field == "referrals"


@pytest.mark.parametrize(
    ("current", "desired", "detail"),
    [
        (None, TERMS,
         "~ referrals: 50 credits to the referrer, 20.5 to the referee, on first_purchase"),
        (TERMS, None, "~ referrals: off"),
    ],
    ids=["set", "turned off"],
)  # fmt: skip
def test_plan_changes_sets_the_referral_terms_when_they_differ(
    current: ReferralTerms | None, desired: ReferralTerms | None, detail: str
) -> None:
    changes = plan_changes(Catalog(referrals=current), Catalog(referrals=desired))

    assert [(c.kind, c.referrals, c.detail) for c in changes] == [
        (ChangeKind.SET_REFERRALS, desired, detail)
    ]


def test_plan_changes_changes_nothing_when_the_terms_are_equal() -> None:
    assert plan_changes(Catalog(referrals=TERMS), Catalog(referrals=TERMS)) == ()


def test_check_referrer_refuses_an_account_referring_itself() -> None:
    check_referrer("bob", "alice")
    with pytest.raises(InvalidInput) as raised:
        check_referrer("alice", "alice")

    assert raised.value.field == "referrer"
