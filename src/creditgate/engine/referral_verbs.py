"""The referrals' half of the `Engine`: record who referred an account, list an account's referrals.

A mixin, like the plans' and the promo codes', so `Engine` stays one object with one
vocabulary.
"""

from creditgate.domain.accounts import check_account_id
from creditgate.domain.inputs import check_key
from creditgate.domain.referrals import Referral, check_referrer
from creditgate.engine import history, referrals
from creditgate.engine.books import transaction
from creditgate.engine.catalog import referral_terms
from creditgate.engine.clock import Clock
from creditgate.engine.idempotency import once
from creditgate.storage import referrals as rows
from creditgate.storage.database import Database


class ReferralVerbs:
    """Referrals (mixed into `Engine`)."""

    db: Database
    clock: Clock

    def refer(
        self, referee_id: str, referrer_id: str, *, idempotency_key: str | None = None
    ) -> Referral:
        """Record that `referrer_id` referred `referee_id`, on the catalog's `[referrals]` terms.

        On the `signup` condition both bonuses are granted now, each as a lot of source
        `referral`; on `first_purchase` the referral waits for a paid purchase of the
        referee. An account is referred once: recording it again changes nothing.

        Raises:
            InvalidInput: a bad id, or an account referring itself.
            AccountNotFound: either account does not exist.
            ReferralsOff: the catalog offers no referral bonus.
            ReferralExists: the referee was referred already.
            IdempotencyConflict: the key was used for a different request.
        """
        referee = check_account_id(referee_id, field="referee_id")
        referrer = check_account_id(referrer_id, field="referrer")
        check_referrer(referee, referrer)
        key = check_key(idempotency_key)
        with transaction(self.db, self.clock) as books:
            referee_row, referrer_row = referrals.lock_pair(books, referee, referrer)
            return once(
                books,
                referee_row,
                operation="refer",
                key=key,
                request={"referrer": referrer},
                result_type=Referral,
                effect=lambda: referrals.refer(
                    books, referee_row, referrer_row, referral_terms(books.conn)
                ),
            )

    def referrals(self, account_id: str) -> tuple[Referral, ...]:
        """The referrals an account made (as the referrer), oldest first, with their state.

        Raises:
            AccountNotFound: no account has this id.
        """
        checked = check_account_id(account_id)
        with self.db.read() as conn:
            row = history.open_account(conn, checked)
            return tuple(rows.list_referrals(conn, row.pk))
