"""Every route the app serves has a test that calls it, named in one table.

A new route fails `test_every_served_route_has_a_covering_test` until a test of its family
calls it and the table below names that test.
"""

import importlib
import inspect
import re

from fastapi.routing import iter_route_contexts

from creditgate.app import create_app
from tests.http.fixtures import (  # noqa: F401
    ROUTES,
    SIGNED_ROUTES,
    TOKEN_ROUTES,
    Service,
    service_fixture,
)

COVERAGE = {
    "POST /v1/accounts": "test_accounts::test_create_account_answers_the_new_account",
    "GET /v1/accounts/{account_id}": "test_accounts::test_get_account_answers_the_engines_account",
    "PATCH /v1/accounts/{account_id}": "test_accounts::test_update_account_freezes_it",
    "GET /v1/accounts/{account_id}/balance":
        "test_accounts::test_get_balance_answers_decimal_strings_of_the_engines_balance",
    "GET /v1/accounts/{account_id}/balance_at":
        "test_accounts::test_balance_at_answers_the_balance_of_a_past_instant",
    "GET /v1/accounts/{account_id}/lifetime":
        "test_accounts::test_lifetime_answers_the_engines_figures",
    "GET /v1/accounts/{account_id}/entries":
        "test_accounts::test_history_answers_the_entries_newest_first",
    "GET /v1/accounts/{account_id}/lots":
        "test_account_reads::test_lots_answers_the_engines_lots_in_burn_order",
    "GET /v1/accounts/{account_id}/holds":
        "test_account_reads::test_holds_answers_the_engines_holds_newest_first",
    "POST /v1/accounts/{account_id}/check":
        "test_accounts::test_check_answers_whether_the_account_can_pay",
    "GET /v1/accounts/{account_id}/members":
        "test_accounts::test_members_answers_the_wallets_members",
    "PUT /v1/accounts/{account_id}/members/{member_id}":
        "test_accounts::test_add_member_lets_a_person_spend_up_to_a_cap",
    "DELETE /v1/accounts/{account_id}/members/{member_id}":
        "test_accounts::test_remove_member_answers_204_and_stops_the_person_spending",
    "POST /v1/accounts/{account_id}/grants":
        "test_ledger::test_grant_adds_a_lot_and_answers_the_receipt",
    "POST /v1/accounts/{account_id}/adjustments":
        "test_ledger::test_adjust_records_a_signed_correction_with_reason_and_actor",
    "POST /v1/accounts/{account_id}/charge":
        "test_ledger::test_charge_answers_credits_used_and_remaining",
    "POST /v1/accounts/{account_id}/holds":
        "test_holds::test_hold_sets_credits_aside_and_answers_the_hold",
    "GET /v1/holds/{hold_id}": "test_holds::test_get_hold_answers_the_engines_hold",
    "POST /v1/holds/{hold_id}/extend": "test_holds::test_extend_grows_the_hold",
    "POST /v1/holds/{hold_id}/settle":
        "test_holds::test_settle_takes_the_actual_cost_and_frees_the_rest",
    "POST /v1/holds/{hold_id}/release":
        "test_holds::test_release_frees_the_hold_and_takes_nothing",
    "GET /v1/entries/{entry_id}": "test_ledger::test_get_entry_answers_the_engines_entry",
    "POST /v1/entries/{entry_id}/refund":
        "test_ledger::test_refund_gives_back_part_of_a_charge",
    "POST /v1/transfers": "test_ledger::test_transfer_moves_credits_and_answers_both_sides",
    "GET /v1/features": "test_catalog::test_features_answers_every_feature",
    "POST /v1/features": "test_catalog::test_create_feature_adds_it_to_the_catalog",
    "GET /v1/features/{feature}": "test_catalog::test_get_feature_answers_the_engines_feature",
    "PATCH /v1/features/{feature}":
        "test_catalog::test_update_feature_deactivates_it_so_it_is_not_charged",
    "DELETE /v1/features/{feature}": "test_catalog::test_delete_feature_deletes_one_never_used",
    "GET /v1/features/{feature}/prices":
        "test_catalog::test_prices_answers_the_prices_in_force",
    "GET /v1/features/{feature}/prices/history":
        "test_catalog::test_price_history_answers_every_version_oldest_first",
    "POST /v1/features/{feature}/prices":
        "test_catalog::test_set_price_makes_a_new_version_that_charges_from_now",
    "POST /v1/features/{feature}/prices/retire":
        "test_catalog::test_retire_price_stops_pricing_the_model",
    "POST /v1/quote": "test_catalog::test_quote_answers_the_cost_version_and_breakdown",
    "GET /v1/catalog": "test_catalog::test_export_catalog_answers_the_catalog_file",
    "PUT /v1/catalog": "test_catalog::test_apply_catalog_makes_the_catalog_match_the_file",
    "GET /v1/plans": "test_plans::test_plans_answers_the_plans_on_sale",
    "POST /v1/plans": "test_plans::test_create_plan_adds_it_with_prices_in_minor_units",
    "GET /v1/plans/{plan}": "test_plans::test_get_plan_answers_the_engines_plan",
    "PATCH /v1/plans/{plan}": "test_plans::test_update_plan_changes_its_credits_per_cycle",
    "POST /v1/plans/{plan}/deactivate": "test_plans::test_deactivate_plan_stops_selling_it",
    "GET /v1/accounts/{account_id}/plans":
        "test_plans::test_plan_overview_answers_plans_subscription_and_balance",
    "GET /v1/accounts/{account_id}/subscription":
        "test_plans::test_subscription_answers_the_live_subscription_or_null",
    "POST /v1/accounts/{account_id}/subscription":
        "test_plans::test_subscribe_grants_the_first_cycle_and_answers_the_receipt",
    "POST /v1/accounts/{account_id}/subscription/cancel":
        "test_plans::test_cancel_subscription_ends_it_at_the_period_end",
    "POST /v1/accounts/{account_id}/subscription/resume":
        "test_plans::test_resume_subscription_undoes_the_cancellation",
    "GET /v1/packs": "test_packs::test_packs_answers_the_packs_on_sale_in_page_order",
    "POST /v1/packs": "test_packs::test_create_pack_adds_it_with_its_price_in_minor_units",
    "GET /v1/packs/{pack}": "test_packs::test_get_pack_answers_the_engines_pack",
    "PATCH /v1/packs/{pack}": "test_packs::test_update_pack_changes_its_price",
    "POST /v1/packs/{pack}/deactivate": "test_packs::test_deactivate_pack_stops_selling_it",
    "POST /v1/accounts/{account_id}/packs/{pack}/claim":
        "test_packs::test_claim_pack_grants_a_free_pack_once",
    "GET /v1/accounts/{account_id}/purchases":
        "test_packs::test_purchases_answers_the_accounts_purchases_newest_first",
    "GET /v1/accounts/{account_id}/purchases/{purchase_id}":
        "test_packs::test_get_purchase_answers_one_purchase_of_the_account",
    "POST /v1/checkout": "test_checkout::test_checkout_through_the_stripe_fake_grants_once_paid",
    "GET /v1/accounts/{account_id}/auto-top-up":
        "test_packs::test_auto_top_up_is_set_read_and_disabled",
    "PUT /v1/accounts/{account_id}/auto-top-up":
        "test_packs::test_auto_top_up_is_set_read_and_disabled",
    "DELETE /v1/accounts/{account_id}/auto-top-up":
        "test_packs::test_auto_top_up_is_set_read_and_disabled",
    "GET /v1/accounts/{account_id}/balance-alert":
        "test_alerts::test_balance_alert_is_set_read_and_cleared",
    "PUT /v1/accounts/{account_id}/balance-alert":
        "test_alerts::test_balance_alert_is_set_read_and_cleared",
    "GET /v1/webhook-endpoints":
        "test_webhook_endpoints::test_create_webhook_endpoint_answers_the_endpoint_and_its_secret_once",
    "POST /v1/webhook-endpoints":
        "test_webhook_endpoints::test_create_webhook_endpoint_answers_the_endpoint_and_its_secret_once",
    "GET /v1/webhook-endpoints/{endpoint_id}":
        "test_webhook_endpoints::test_get_webhook_endpoint_answers_the_engines_endpoint",
    "PATCH /v1/webhook-endpoints/{endpoint_id}":
        "test_webhook_endpoints::test_update_webhook_endpoint_disables_and_enables_it_again",
    "DELETE /v1/webhook-endpoints/{endpoint_id}":
        "test_webhook_endpoints::test_delete_webhook_endpoint_answers_204_and_forgets_it",
    "POST /v1/webhook-endpoints/{endpoint_id}/rotate-secret":
        "test_webhook_endpoints::test_rotate_webhook_secret_answers_a_new_secret",
    "GET /v1/webhook-endpoints/{endpoint_id}/deliveries":
        "test_webhook_endpoints::test_webhook_deliveries_answers_the_delivery_log_newest_first_in_pages",
    "POST /v1/webhook-deliveries/{delivery_id}/redeliver":
        "test_webhook_endpoints::test_redeliver_webhook_makes_a_delivery_due_now",
    "POST /v1/webhooks/stripe": "test_webhooks::test_stripe_event_signed_by_stripe_grants_the_pack",
    "POST /v1/webhooks/clerk":
        "test_webhooks::test_clerk_user_created_creates_the_account_with_its_welcome",
    "GET /v1/promos": "test_promos::test_promos_answers_the_active_codes",
    "POST /v1/promos": "test_promos::test_create_promo_stores_the_code_in_upper_case",
    "GET /v1/promos/{code}": "test_promos::test_get_promo_answers_the_engines_code",
    "PATCH /v1/promos/{code}": "test_promos::test_update_promo_raises_its_maximum",
    "POST /v1/accounts/{account_id}/redeem":
        "test_promos::test_redeem_grants_a_promo_lot_and_answers_the_receipt",
    "POST /v1/accounts/{account_id}/referral":
        "test_referrals::test_refer_on_signup_grants_both_bonuses_and_answers_the_referral",
    "GET /v1/accounts/{account_id}/referrals":
        "test_referrals::test_referrals_answers_the_accounts_referrals_oldest_first",
    "POST /v1/guests/consume":
        "test_guests::test_consume_answers_what_is_left_then_429_with_retry_after_and_reset",
    "GET /v1/guests/status":
        "test_guests::test_status_answers_the_remaining_uses_and_counts_nothing",
    "GET /v1/guests/quotas": "test_guests::test_quotas_answers_the_catalogs_guest_quotas",
    "POST /v1/guests/link": "test_guests::test_link_records_the_account_a_guest_became",
    "GET /v1/usage": "test_usage::test_usage_answers_one_accounts_events_newest_first",
    "GET /v1/usage/totals":
        "test_usage::test_usage_totals_answers_events_and_credits_by_feature_model_and_outcome",
    "GET /v1/analytics/spend_by_feature":
        "test_analytics::test_spend_by_feature_answers_the_engines_figure",
    "GET /v1/analytics/spend_by_model":
        "test_analytics::test_spend_by_model_answers_the_engines_figure",
    "GET /v1/analytics/generations_by_model":
        "test_analytics::test_generations_by_model_answers_the_engines_figure",
    "GET /v1/analytics/latency_by_model":
        "test_analytics::test_latency_by_model_answers_the_engines_figure",
    "GET /v1/analytics/grants_by_source":
        "test_analytics::test_grants_by_source_answers_the_engines_figure",
    "GET /v1/analytics/revenue_by_pack":
        "test_analytics::test_revenue_by_pack_answers_the_engines_figure",
    "GET /v1/analytics/top_spenders":
        "test_analytics::test_top_spenders_answers_the_engines_figure_up_to_the_limit",
    "GET /v1/analytics/guest_conversion":
        "test_analytics::test_guest_conversion_answers_the_engines_figure",
    "GET /v1/analytics/welcome_usage":
        "test_analytics::test_welcome_usage_answers_the_engines_figure",
    "POST /v1/expire": "test_operations::test_expire_writes_the_entries_of_holds_past_their_ttl",
    "GET /v1/verify": "test_operations::test_verify_answers_a_clean_report_of_every_account",
    "POST /v1/widget-tokens":
        "test_widgets::test_a_minted_token_reads_its_account_and_expires",
    "POST /v1/widget-keys/rotate":
        "test_widgets::test_rotating_the_keys_refuses_every_token_so_far",
    "GET /v1/widget/balance": "test_widgets::test_balance_answers_the_figures_and_the_low_level",
    "GET /v1/widget/costs": "test_widgets::test_costs_answer_each_models_state_for_the_account",
    "GET /v1/widget/packs": "test_widgets::test_packs_answers_what_is_for_sale_without_free_packs",
    "POST /v1/widget/checkout":
        "test_widgets::test_checkout_opens_a_session_that_returns_to_the_tokens_urls",
    "GET /widgets.js": "test_widgets::test_the_script_is_served_as_javascript",
    "GET /healthz": "test_observability::test_healthz_answers_ok_without_a_key",
    "GET /readyz": "test_observability::test_readyz_answers_ready_when_the_schema_is_at_head",
    "GET /metrics": "test_observability::test_metrics_are_served_as_prometheus_text",
}  # fmt: skip
"""Each route the app serves, and the test of its family that calls it and checks the answer."""


def served(service: Service) -> set[str]:
    """`METHOD /path` of every route of ours the app serves (not the framework's docs)."""
    app = create_app(engine=service.engine)
    return {
        f"{method} {found.path}"
        for found in iter_route_contexts(app.routes)
        if found.endpoint is not None
        and found.endpoint.__module__.startswith("creditgate.")
        # The admin console's pages are driven in a browser by tests/web, not this table.
        and not found.endpoint.__module__.startswith("creditgate.web.")
        for method in found.methods or ()
        if method != "HEAD"
    }


def calls(route_id: str) -> re.Pattern[str]:
    """A pattern that finds a call of the route in a test's source, with any ids."""
    method, path = route_id.split(" ", 1)
    segments = re.sub(r"\\\{[^}]*\\\}", r"[^/\"?]+", re.escape(path))
    return re.compile(rf"http\.{method.lower()}\(\s*f?\"{segments}[\"?]")


def test_every_served_route_has_a_covering_test(service: Service) -> None:
    routes = served(service)

    assert sorted(routes - set(COVERAGE)) == []
    assert sorted(set(COVERAGE) - routes) == []


def test_every_route_under_v1_is_in_the_route_table(service: Service) -> None:
    routes = {r for r in served(service) if r.split(" ", 1)[1].startswith("/v1/")}

    assert routes == {r.id for r in ROUTES} | set(SIGNED_ROUTES) | set(TOKEN_ROUTES)


def test_every_covering_test_exists_and_calls_its_route() -> None:
    missing = []

    for route_id, name in COVERAGE.items():
        module_name, test_name = name.split("::")
        module = importlib.import_module(f"tests.http.{module_name}")
        test = getattr(module, test_name, None)
        if test is None or not calls(route_id).search(inspect.getsource(test)):
            missing.append(route_id)

    assert missing == []
