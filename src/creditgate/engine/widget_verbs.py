"""The widgets' half of the `Engine`: tokens for a browser, and what the widgets show.

A mixin, like the plans', so `Engine` stays one object with one vocabulary. Minting a token
reads the signing key (cached; the first mint makes it) and writes nothing else; checking
one costs an HMAC. The reads a widget makes are the engine's own (balance, alert line,
quote), answered for the token's account only, so a widget can never be pointed at
another account.
"""

from datetime import UTC, datetime

from creditgate.domain.accounts import check_account_id
from creditgate.domain.alerts import level_of
from creditgate.domain.amounts import Credits
from creditgate.domain.pricing import check_feature_key, check_model, check_quantity
from creditgate.domain.widgets import (
    TOKEN_TTL_S_DEFAULT,
    CostOption,
    Costs,
    WidgetBalance,
    WidgetClaims,
    WidgetToken,
    check_return_url,
    check_ttl_s,
    cost_state,
    key_id_of,
    sign,
    verify,
)
from creditgate.engine import alerts, catalog, history
from creditgate.engine.clock import Clock
from creditgate.engine.widgets import KeyRing
from creditgate.storage import widget_keys as rows
from creditgate.storage.database import Database


class WidgetVerbs:
    """Widget tokens and widget reads (mixed into `Engine`)."""

    db: Database
    clock: Clock
    widget_keys: KeyRing

    def mint_widget_token(
        self,
        account_id: str | None = None,
        *,
        ttl_s: int = TOKEN_TTL_S_DEFAULT,
        success_url: str | None = None,
        cancel_url: str | None = None,
    ) -> WidgetToken:
        """A token for one account's widgets (or a guest's, without an account).

        The app's back end calls this for each page it renders and puts the token in the
        page: the widgets read that account with it and nothing else, and start a checkout
        that returns to `success_url` or `cancel_url` (a token without them cannot).

        Raises:
            AccountNotFound: no account has this id.
            InvalidInput: a bad id, lifetime or URL.
        """
        checked = None if account_id is None else check_account_id(account_id)
        ttl = check_ttl_s(ttl_s)
        success = check_return_url(success_url, field="success_url")
        cancel = check_return_url(cancel_url, field="cancel_url")
        if checked is not None:
            with self.db.read() as conn:
                history.open_account(conn, checked)
        now = self.clock.now()
        expires_at = datetime.fromtimestamp(int(now.timestamp()) + ttl, UTC)
        claims = WidgetClaims(
            account_id=checked, expires_at=expires_at, success_url=success, cancel_url=cancel
        )
        key_id, secret = self.widget_keys.signing_key(self.db, self.clock)
        return WidgetToken(
            token=sign(claims, key_id=key_id, secret=secret),
            account_id=checked,
            expires_at=expires_at,
        )

    def widget_claims(self, token: str) -> WidgetClaims:
        """What a widget token allows, once its signature and expiry are checked.

        Raises:
            Unauthenticated: the token is malformed, forged, signed by a retired key, or
                expired.
        """
        keys = self.widget_keys.keys(self.db, wanted=key_id_of(token))
        return verify(token, secrets=keys, now=self.clock.now())

    def rotate_widget_keys(self) -> int:
        """Retire every widget signing key: each token minted so far stops working.

        The next mint makes a new key. Other workers see the retirement within seconds.
        Answers how many keys were retired.
        """
        with self.db.write() as conn:
            retired = rows.retire_keys(conn, now=self.clock.now())
        self.widget_keys.clear()
        return retired

    def widget_balance(self, account_id: str) -> WidgetBalance:
        """The account's figures and its level against its low-balance line, read now.

        Raises:
            AccountNotFound: no account has this id.
        """
        checked = check_account_id(account_id)
        now = self.clock.now()
        with self.db.read() as conn:
            row = history.open_account(conn, checked)
            balance = history.balance(conn, row, now)
            alert = alerts.read(conn, row)
        line = alert.low if alert.low is not None else alert.default_low
        return WidgetBalance(
            account_id=checked,
            balance=balance.balance,
            held=balance.held,
            available=balance.available,
            low_line=line,
            level=level_of(
                available_units=balance.available.units,
                low_units=None if line is None else line.units,
            ),
        )

    def widget_costs(
        self,
        account_id: str | None,
        feature: str,
        *,
        models: tuple[str, ...] = (),
        quantity: object = None,
    ) -> Costs:
        """A feature's cost per model and whether the account (or a guest) can pay it.

        Without `models`, every model the feature prices by name, and its default price
        when it has one; model families are left out, since they name no model to pick.

        Raises:
            AccountNotFound: no account has this id.
            FeatureNotFound: the feature is unknown or inactive.
            InvalidInput: a bad model or quantity, or no price covers a named model.
        """
        key = check_feature_key(feature)
        named = tuple(check_model(m, field="models") for m in models)
        amount = check_quantity(quantity)
        checked = None if account_id is None else check_account_id(account_id)
        now = self.clock.now()
        with self.db.read() as conn:
            if not named:
                live = catalog.live_prices(conn, key, now)
                named = tuple(p.model for p in live if p.model is None or "*" not in p.model)
                # Nothing to list: price the default, which refuses as a quote would.
                named = named or (None,)
            quotes = [catalog.price_call(conn, key, m, amount, now) for m in named]
            spendable: Credits | None = None
            low_line: Credits | None = None
            unlimited = False
            if checked is not None:
                row = history.open_account(conn, checked)
                balance = history.balance(conn, row, now)
                alert = alerts.read(conn, row)
                low_line = alert.low if alert.low is not None else alert.default_low
                unlimited = row.account.is_unlimited
                spendable = Credits(0)
                if not row.account.is_frozen:
                    spendable = Credits(max(0, (balance.available - balance.floor).units))
        options = tuple(
            CostOption(
                model=q.model,
                amount=q.amount,
                state=cost_state(
                    q.amount, spendable=spendable, low_line=low_line, is_unlimited=unlimited
                ),
            )
            for q in quotes
        )
        return Costs(
            feature=key,
            account_id=checked,
            spendable=None if unlimited else spendable,
            options=options,
        )
