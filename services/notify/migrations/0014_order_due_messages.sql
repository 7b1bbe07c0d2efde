-- The senders claim due messages oldest first, a batch at a time: the index now gives them in that
-- order (the id breaks ties), so a claim reads its batch off the index instead of sorting every
-- message that is due, which made each claim cost as much as the whole backlog.
DROP INDEX notify.messages_due;
CREATE INDEX messages_due ON notify.messages (next_attempt_at, id) WHERE status = 'pending';
