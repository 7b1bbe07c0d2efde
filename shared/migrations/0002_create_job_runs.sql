-- Scheduled jobs run once per tick across every replica: the first replica to insert the tick's
-- row runs it, the others see the conflict and skip. The rows double as the jobs' history.

CREATE TABLE bus.job_runs (
    job         text NOT NULL,
    tick        timestamptz NOT NULL,
    owner       text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    rows        integer,
    error       text,
    PRIMARY KEY (job, tick)
);
