"""notify: consent per purpose, consented and stock-aware messages delivered by Web Push, and the
staff's pickup alerts (live stream, Web Push, the staff page)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from services.notify.audit import jobs as audit_jobs
from services.notify.audit import routes as audit
from services.notify.audit.consumers import AUDIT_EVENTS
from services.notify.back_in_stock import jobs as back_in_stock_jobs
from services.notify.back_in_stock import routes as back_in_stock
from services.notify.back_in_stock.consumers import BACK_IN_STOCK_DELIVERY, BACK_IN_STOCK_EVENTS
from services.notify.catalogue import routes as catalogue
from services.notify.consent import jobs as consent_jobs
from services.notify.consent import routes as consent
from services.notify.console import routes as console
from services.notify.context import NotifyContext
from services.notify.dry_run import routes as dry_run
from services.notify.journeys import jobs as journey_jobs
from services.notify.journeys import routes as journeys
from services.notify.journeys.consumers import JOURNEY_EVENTS
from services.notify.journeys.flows import Flows
from services.notify.journeys.repository import WAKE_CHANNEL
from services.notify.journeys.runner import TIP_DELIVERY, JourneyRunner
from services.notify.offers import jobs as offer_jobs
from services.notify.offers import routes as offers
from services.notify.offers.consumers import OFFER_DELIVERY, OFFER_EVENTS, ORDERS
from services.notify.operators import jobs as operator_jobs
from services.notify.operators import routes as operators
from services.notify.operators.sign_on import SignOn
from services.notify.outbox import routes as outbox
from services.notify.outbox.kinds import DeliveryKinds
from services.notify.outbox.repository import SEND_CHANNEL
from services.notify.outbox.sender import Sender
from services.notify.privacy import routes as privacy
from services.notify.privacy.consumers import CONFIRMATIONS
from services.notify.privacy.jobs import RETENTION, UNCONSENTED
from services.notify.push import vapid
from services.notify.push.channels import Channels
from services.notify.push.native import native_channels
from services.notify.push.push_urls import PushServices
from services.notify.push.webpush import WebPushChannel, push_session
from services.notify.replicas.consumers import REPLICA, STORES
from services.notify.settings import NotifySettings
from services.notify.shop import routes as shop
from services.notify.staff_alerts import routes as staff_alerts
from services.notify.staff_alerts.consumers import (
    PICKUP_DELIVERY,
    PICKUP_EVENTS,
    STAFF_ALERT_DELIVERY,
    STAFF_ALERT_EVENTS,
)
from services.notify.staff_alerts.repository import ALERT_CHANNEL
from services.notify.staff_alerts.streams import AlertHub, close_on_signals
from services.notify.webhooks import jobs as webhook_jobs
from services.notify.webhooks import routes as webhooks
from services.notify.webhooks.consumers import WEBHOOK_EVENTS
from services.notify.webhooks.repository import WEBHOOK_CHANNEL
from services.notify.webhooks.sender import WebhookSender
from services.notify.webhooks.urls import WebhookHosts
from shared.app import ServiceApp, ServiceSpec, build_app
from shared.context import Context
from shared.listener import Listener
from shared.migrations import MigrationSet
from shared.sealed import Sealer
from shared.settings import Settings


@asynccontextmanager
async def notify_context(base: Context, config: NotifySettings) -> AsyncIterator[NotifyContext]:
    """Keys, the allowed push services and the decision policy, checked before anything is decided;
    the secrets notify stores (the VAPID private key, the webhook secrets) sealed under the current
    token key version before anything uses them; the push channels (one aiohttp session for every Web
    Push; APNs and FCM when configured, each on one HTTP/2 connection per push service), this replica's
    push and webhook senders, and its one listening connection, which wakes the senders and feeds the
    open alert streams."""
    push_services = PushServices.from_hosts(base.settings.push_hosts)
    policy = config.policy()
    sealer = Sealer(base.settings.token_key, base.settings.token_key_version)
    keys = await vapid.load(base.db, config, sealer)
    await webhook_jobs.seal_secrets(base.db, sealer)
    web_push = WebPushChannel(
        push_services, keys, push_session(push_services, config.push_timeout_s), config.push_timeout_s
    )
    channels = Channels([web_push, *native_channels(config, push_services)])
    kinds = DeliveryKinds(DELIVERY_KINDS)
    sender = Sender(base.db, config, channels, base.settings.bus_poll_s, kinds)
    webhook_hosts = WebhookHosts.from_hosts(config.webhook_hosts)
    webhook_sender = WebhookSender(base.db, config, webhook_hosts, sealer)
    hub = AlertHub(per_subject=config.streams_per_staff, per_store=config.streams_per_store)
    base.revocations.on_revoke(hub.revoke)
    sign_on = SignOn(config)
    runner = JourneyRunner(min(base.settings.bus_poll_s, JOURNEY_POLL_S))
    listener = Listener(
        base.db.dsn,
        {
            SEND_CHANNEL: sender.wake,
            WEBHOOK_CHANNEL: webhook_sender.wake,
            ALERT_CHANNEL: hub.on_notify,
            WAKE_CHANNEL: runner.wake,
        },
        on_connect=[sender.wake, hub.catch_up, webhook_sender.wake, runner.wake],
        name="notify-listen",
    )
    ctx = NotifyContext(
        **base.parts(),
        config=config,
        policy=policy,
        started=(push_services, keys, channels, hub, webhook_hosts, sealer, Flows(), sign_on),
    )
    sender.start()
    webhook_sender.start()
    runner.start(ctx)
    try:
        listener.start()
        close_on_signals(hub)
        yield ctx
    finally:
        hub.close()
        await listener.stop()
        await runner.stop()
        await sender.stop()
        await webhook_sender.stop()
        await channels.close()
        await sign_on.aclose()


JOURNEY_POLL_S = 1.0
"""A journey's wait falls due at most this late (a step reached at once wakes the runners at once)."""

DELIVERY_KINDS = (OFFER_DELIVERY, PICKUP_DELIVERY, STAFF_ALERT_DELIVERY, BACK_IN_STOCK_DELIVERY, TIP_DELIVERY)
"""What each feature told the outbox about delivering its messages (outbox/kinds.py)."""

SPEC = ServiceSpec(
    name="notify",
    route_handlers=[
        *consent.ROUTES,
        *offers.ROUTES,
        *dry_run.ROUTES,
        *outbox.ROUTES,
        *staff_alerts.ROUTES,
        *privacy.ROUTES,
        *webhooks.ROUTES,
        *back_in_stock.ROUTES,
        *journeys.ROUTES,
        *console.ROUTES,
        *operators.ROUTES,
        *shop.ROUTES,
        *catalogue.ROUTES,
        *audit.ROUTES,
    ],
    migrations=MigrationSet(schema="notify", package="services.notify"),
    # The replicas first: in each round of the bus worker, stock changes published before a
    # shopper walked in are applied before that shopper's offers are decided.
    consumers=[
        REPLICA,
        STORES,
        ORDERS,
        OFFER_EVENTS,
        STAFF_ALERT_EVENTS,
        PICKUP_EVENTS,
        CONFIRMATIONS,
        WEBHOOK_EVENTS,
        BACK_IN_STOCK_EVENTS,
        JOURNEY_EVENTS,
        AUDIT_EVENTS,
    ],
    jobs=[
        *offer_jobs.JOBS,
        *consent_jobs.JOBS,
        RETENTION,
        UNCONSENTED,
        *back_in_stock_jobs.JOBS,
        *journey_jobs.JOBS,
        *webhook_jobs.JOBS,
        *audit_jobs.JOBS,
        *operator_jobs.JOBS,
    ],
    settings_type=NotifySettings,
    context=notify_context,
    description="Consent with proof, consented and stock-aware messages delivered by Web Push; staff pickup alerts.",
)


def create_app(settings: Settings, config: NotifySettings | None = None) -> ServiceApp:
    return build_app(SPEC, settings, config)
