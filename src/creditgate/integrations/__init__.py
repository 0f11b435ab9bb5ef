"""Integrations: the payment and sign-up providers, reached through their official packages.

What it owns: verifying a provider's webhook signature on the raw body (the `stripe` and
`svix` packages), reading the provider's event into plain facts, and calling the engine's
provider verbs with them; opening Stripe Checkout sessions.

Invariants it keeps: nothing unsigned, malformed or outside the time window reaches the
engine (each is a 400, never a 500); a missing secret refuses every delivery; the credits a
payment grants come from the catalog, never from the event.

It also sends the outbox (`webhook_delivery.deliver_due`): the app's own webhook
endpoints get each event signed in the Standard Webhooks scheme (the `svix` package), at
least once and in order per account, by any number of workers.

Boundaries: imports the engine and the domain; the service's webhook routes call its
verification and event readers, and its checkout route uses the Stripe gateway.
"""
