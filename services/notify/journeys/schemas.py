"""Journeys on the wire: the journey document, its results, a device's enrollments.

Steps are a union tagged by `type`. Fields named like Python keywords (`for`, `if`, `else`) keep their
JSON names through `msgspec.field(name=...)`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from services.notify.offers.schemas import CampaignSchedule, LocalizedMessage
from shared.events import Purpose, ZoneKind
from shared.wire import Answer, Body, Id, Locale, Name

JourneyEvent = Literal[
    "zone.entered",
    "zone.dwelled",
    "zone.exited",
    "trip.approaching",
    "trip.arrived",
    "order.reserved",
    "order.ready",
    "order.collected",
]
"""The device's events a journey reacts to: to enter, to wait for, to branch on, to leave, to convert."""

MessagePurpose = Literal["offers", "pickup_updates", "back_in_stock", "product_tips"]

Duration = Annotated[
    str,
    msgspec.Meta(
        max_length=40,
        pattern=r"^P(?!$)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$",
        description="ISO 8601 duration in weeks, days, hours, minutes, seconds: PT30S, PT10M, P1D (1 s to 90 days)",
    ),
]
StepId = Id
Messages = Annotated[dict[Locale, LocalizedMessage], msgspec.Meta(extra_json_schema={"minProperties": 1})]


class JourneyEntry(Body):
    event: JourneyEvent
    store_id: Id | None = None
    zone_kind: ZoneKind | None = None
    """zone events only"""
    zone_id: Id | None = None
    """zone events only"""
    sku: Id | None = None
    """order events only: the order has this product"""


class JourneyGoal(Body):
    event: JourneyEvent
    within: Duration
    """after the device entered"""
    sku: Id | None = None
    """order events only: the order has this product"""


class WaitStep(Body, tag="wait", tag_field="type"):
    id: StepId
    for_: Duration = msgspec.field(name="for")
    next: StepId | None = None


class WaitForStep(Body, tag="wait_for", tag_field="type"):
    id: StepId
    event: JourneyEvent
    timeout: Duration
    next: StepId | None = None
    """if the event came"""
    timeout_next: StepId | None = None
    """if it did not"""


class InZone(Body):
    zone_kind: ZoneKind | None = None
    zone_id: Id | None = None


class Condition(Body):
    """Exactly one of these."""

    in_zone: InZone | None = None
    """the device is in such a zone of the store it entered at, now"""
    in_stock: Id | None = None
    """this SKU is in stock there, now"""
    consent: Purpose | None = None
    """the device consents to this purpose, now"""
    had_event: JourneyEvent | None = None
    """the device had this event since it entered"""


class BranchStep(Body, tag="branch", tag_field="type"):
    id: StepId
    if_: Condition = msgspec.field(name="if")
    then: StepId | None = None
    else_: StepId | None = msgspec.field(default=None, name="else")


class MessageStep(Body, tag="message", tag_field="type"):
    id: StepId
    purpose: MessagePurpose
    message: Messages
    """per locale; `{product}` stands for the product's name"""
    sku: Id | None = None
    """what it is about: required for offers and back_in_stock"""
    next: StepId | None = None


class ExitStep(Body, tag="exit", tag_field="type"):
    id: StepId


Step = WaitStep | WaitForStep | BranchStep | MessageStep | ExitStep

Reentry = Annotated[
    str,
    msgspec.Meta(
        max_length=40,
        pattern=r"^(never|P(?!$)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?)$",
        description='"never", or how long after its last exit a device may enter again (ISO 8601)',
    ),
]


class JourneyPut(Body):
    name: Name
    entry: JourneyEntry
    steps: Annotated[list[Step], msgspec.Meta(min_length=1, max_length=50)]
    active: bool = True
    """false pauses it: nobody enters, and its messages are suppressed `paused`"""
    reentry: Reentry = "never"
    holdout_percent: Annotated[int, msgspec.Meta(ge=0, le=50)] = 0
    goal: JourneyGoal | None = None
    exit_on: Annotated[list[JourneyEvent], msgspec.Meta(max_length=8)] = []
    schedule: CampaignSchedule | None = None
    """entries only inside it, in the store's local time"""


class JourneyDocument(Body):
    """What a version is: the journey without its name and state (kept as saved)."""

    entry: JourneyEntry
    steps: list[Step]
    reentry: str = "never"
    holdout_percent: int = 0
    goal: JourneyGoal | None = None
    exit_on: list[JourneyEvent] = []
    schedule: CampaignSchedule | None = None


class Journey(Answer):
    journey_id: str
    version: int
    name: str
    active: bool
    entry: JourneyEntry
    steps: list[Step]
    reentry: str
    holdout_percent: int
    exit_on: list[str]
    goal: JourneyGoal | None = None
    schedule: CampaignSchedule | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    ended_at: datetime | None = None


Arm = Literal["treatment", "control"]


class StepResults(Answer):
    reached: int
    """devices of both arms that got to the step"""
    sent: int | None = None
    """message steps: messages sent"""
    pending: int | None = None
    """message steps: decided, not yet sent (due, being sent, or held through quiet hours)"""
    failed: int | None = None
    """message steps: the push service refused them"""
    suppressed: dict[str, int] | None = None
    """message steps: reason -> messages never sent (`holdout` for the control arm)"""


class ArmGoal(Answer):
    entered: int
    converted: int
    rate: float | None


class Uplift(Answer):
    absolute: float
    relative: float | None
    ci95: tuple[float, float]
    method: str = "newcombe"
    """Newcombe's hybrid score interval (method 10) for the difference of two proportions"""


class GoalResults(Answer):
    treatment: ArmGoal
    control: ArmGoal
    uplift: Uplift | None


class JourneyResults(Answer):
    journey_id: str
    entered: dict[str, int]
    steps: dict[str, StepResults]
    exits: dict[str, int]
    goal: GoalResults | None
    now: dict[str, int]
    """devices in the journey now, per step (whenever they entered)"""


class Enrollment(Answer):
    journey_id: str
    version: int
    arm: Arm
    step: str
    entered_at: datetime
    exited_at: datetime | None
    exit_reason: str | None


class Enrollments(Answer):
    device_id: str
    enrollments: list[Enrollment]


class ZoneSeen(msgspec.Struct):
    store_id: str
    zone_id: str
    kind: str


class DeviceZones(msgspec.Struct):
    """geo's GET /v1/devices/{device_id}/context, the part a branch on the device's zone reads (the
    rest of the answer, and whatever it grows, is ignored)."""

    zones: list[ZoneSeen] = msgspec.field(default_factory=list)
