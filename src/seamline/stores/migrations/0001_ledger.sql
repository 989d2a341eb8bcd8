-- 1: the ledger, workflows and dead letters (the same tables as SQLite schema 1).
-- Runs with search_path set to the store's schema. Timestamps are timestamptz; JSON stays
-- text, byte for byte as the runtime serialized it.

CREATE TABLE workflows (
    id text PRIMARY KEY,
    name text NOT NULL,
    status text NOT NULL,
    entry text NOT NULL,
    intent_sha256 text NOT NULL,
    max_hops integer NOT NULL,
    app text,
    result text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX workflows_by_status ON workflows (status, id);

-- The append-only log. A handoff's state is a fold over its rows; a later migration can add
-- a small mutable table of ready handoffs (with a partial index) for workers to claim,
-- written in the same transaction as these rows.
CREATE TABLE ledger (
    correlation_id text NOT NULL,
    seq integer NOT NULL,
    handoff_id text NOT NULL,
    kind text NOT NULL,
    at timestamptz NOT NULL,
    data text,
    PRIMARY KEY (correlation_id, seq)
);
CREATE INDEX ledger_by_handoff ON ledger (handoff_id);

-- One guard for every append-only table; the message is the trigger's argument.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION refuse_change('the ledger is append-only');
CREATE TRIGGER ledger_not_truncated BEFORE TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('the ledger is append-only');

CREATE TABLE dead_letters (
    id text PRIMARY KEY,
    correlation_id text NOT NULL,
    reason text NOT NULL,
    message text NOT NULL,
    issues text NOT NULL,
    envelope text NOT NULL,
    path text NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL,
    resolved_at timestamptz,
    resolution text
);
CREATE INDEX dead_letters_by_status ON dead_letters (status, created_at, id);
