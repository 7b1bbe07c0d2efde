-- Journeys: small flows a device enters on one of its events and walks step by step, moved on by its
-- later events (the bus) and by time (the journey runner). Owned by services/notify/journeys/.

CREATE TABLE notify.journeys (
    journey_id  text PRIMARY KEY,
    name        text NOT NULL,
    active      boolean NOT NULL DEFAULT true,  -- false: paused (no entries, its messages suppressed `paused`)
    version     int NOT NULL,                   -- the version new entries take
    entry_event text NOT NULL,                  -- that version's entry event, to find the journeys an event enters
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz                     -- set once by DELETE: devices in it exit, results stay
);
CREATE INDEX journeys_entry ON notify.journeys (entry_event) WHERE ended_at IS NULL;

-- A device finishes the version it entered, so every version is kept as it was saved.
CREATE TABLE notify.journey_versions (
    journey_id text NOT NULL REFERENCES notify.journeys ON DELETE CASCADE,
    version    int NOT NULL,
    document   jsonb NOT NULL,  -- entry, reentry, holdout_percent, goal, exit_on, schedule, steps
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (journey_id, version)
);

-- One row per time a device enters a journey. `step` is where it is: with `ran` false the step is
-- still to run (at `wake_at`, at once when it was just reached); with `ran` true it is a `wait` or a
-- `wait_for` that ran and waits for `wake_at` (its end or its timeout) or for the event `awaiting`.
-- Erasure blanks `device_id` and what the device did (`seen`, `granted`): what is left counts in the
-- journey's results and says nothing about anyone. No coordinates are kept, only the store.
CREATE TABLE notify.enrollments (
    enrollment_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    journey_id     text NOT NULL REFERENCES notify.journeys,
    version        int NOT NULL,
    device_id      text,
    arm            text NOT NULL CHECK (arm IN ('treatment', 'control')),
    store_id       text,              -- where it entered: zone events and branches are read there
    entry_event_id bigint NOT NULL,
    entered_at     timestamptz NOT NULL,
    step           text NOT NULL,
    ran            boolean NOT NULL DEFAULT false,
    wake_at        timestamptz,
    awaiting       text,
    seen           text[] NOT NULL DEFAULT '{}',  -- event types the device had since it entered (had_event)
    granted        text[] NOT NULL DEFAULT '{}',  -- of the purposes the journey needs, those granted (a withdrawal exits)
    goal_until     timestamptz,                   -- the goal's window ends
    converted_at   timestamptz,
    exited_at      timestamptz,
    exit_reason    text CHECK (exit_reason IN ('completed', 'exit_event', 'consent_withdrawn', 'journey_ended', 'erased')),
    CHECK ((exited_at IS NULL) = (exit_reason IS NULL))
);
-- Never twice in a journey at once, whatever races (two replicas, two entry events).
CREATE UNIQUE INDEX enrollments_live ON notify.enrollments (journey_id, device_id) WHERE exited_at IS NULL;
CREATE INDEX enrollments_due ON notify.enrollments (wake_at) WHERE exited_at IS NULL;
CREATE INDEX enrollments_device ON notify.enrollments (device_id, entered_at);
CREATE INDEX enrollments_journey ON notify.enrollments (journey_id, entered_at);

-- The steps each enrollment got to (results count them), once each.
CREATE TABLE notify.enrollment_steps (
    enrollment_id bigint NOT NULL REFERENCES notify.enrollments ON DELETE CASCADE,
    step          text NOT NULL,
    reached_at    timestamptz NOT NULL,
    PRIMARY KEY (enrollment_id, step)
);

-- A journey's message is logged with its journey and step, and decided once per enrollment and step:
-- the (event, device, campaign) key of the other messages does not apply to it (two journeys, or a
-- journey and a pickup update, may answer the same event).
ALTER TABLE notify.messages
    ADD COLUMN journey_id    text,
    ADD COLUMN journey_step  text,
    ADD COLUMN enrollment_id bigint;
CREATE UNIQUE INDEX messages_event_device_campaign ON notify.messages (event_id, device_id, campaign_id)
    WHERE enrollment_id IS NULL;
ALTER TABLE notify.messages DROP CONSTRAINT messages_event_id_device_id_campaign_id_key;
CREATE UNIQUE INDEX messages_enrollment_step ON notify.messages (enrollment_id, journey_step)
    WHERE enrollment_id IS NOT NULL;
CREATE INDEX messages_journey ON notify.messages (journey_id) WHERE journey_id IS NOT NULL;
