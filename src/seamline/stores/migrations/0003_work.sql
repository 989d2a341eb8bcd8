-- 3: the work queue. One row per queued workflow while it is running: which agent its open
-- handoff waits for, and who holds it. Written in the same transaction as the ledger rows it
-- follows (enqueued with the first handoff, deleted with the commit that ends the workflow),
-- so the queue can never disagree with the log. The ledger stays append-only; this small
-- table is the only mutable state workers contend on.
CREATE TABLE work (
    workflow_id text PRIMARY KEY REFERENCES workflows (id),
    agent text NOT NULL,
    ready_at timestamptz NOT NULL,
    lease_token text,
    lease_owner text,
    lease_expires_at timestamptz
);
-- What a claim reads: unleased rows for the agents a worker runs, oldest first. Partial, so
-- it holds only the waiting rows however many are in flight.
CREATE INDEX work_ready ON work (agent, ready_at) WHERE lease_token IS NULL;
-- What the reaper reads: leases by expiry.
CREATE INDEX work_leased ON work (lease_expires_at) WHERE lease_token IS NOT NULL;
