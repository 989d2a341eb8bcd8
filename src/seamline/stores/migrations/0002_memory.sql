-- 2: memory: artifacts, their full-text index and the read audit (SQLite schema 2).

-- seq numbers rows in commit order (commits that write artifacts serialize on an advisory
-- lock), so a reader topping up its vector index from "after row N" never misses a row.
-- words is the tsvector the store builds from text (see seamline.stores._pg_words).
-- Vectors are float32 bytes searched in numpy, as on SQLite; pgvector is not required.
CREATE TABLE artifacts (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    correlation_id text NOT NULL,
    tenant text,
    key text NOT NULL,
    version integer NOT NULL,
    kind text NOT NULL,
    value text NOT NULL,
    text text NOT NULL,
    words tsvector NOT NULL,
    producer text NOT NULL,
    producer_version text NOT NULL,
    step integer NOT NULL,
    handoff_id text NOT NULL,
    contract text NOT NULL,
    created_at timestamptz NOT NULL,
    embedder text,
    vector bytea,
    UNIQUE (correlation_id, key, version)
);
CREATE INDEX artifacts_by_tenant ON artifacts (tenant, key) WHERE tenant IS NOT NULL;
CREATE INDEX artifacts_by_words ON artifacts USING gin (words);
CREATE TRIGGER artifacts_append_only BEFORE UPDATE OR DELETE ON artifacts
    FOR EACH ROW EXECUTE FUNCTION refuse_change('artifacts are append-only: write a new version');
CREATE TRIGGER artifacts_not_truncated BEFORE TRUNCATE ON artifacts
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('artifacts are append-only');

CREATE TABLE memory_reads (
    seq bigint GENERATED ALWAYS AS IDENTITY,
    id text PRIMARY KEY,
    correlation_id text NOT NULL,
    handoff_id text NOT NULL,
    agent text NOT NULL,
    agent_version text NOT NULL,
    operation text NOT NULL,
    query text NOT NULL,
    returned text NOT NULL,
    at timestamptz NOT NULL,
    trace_id text,
    span_id text
);
CREATE INDEX memory_reads_by_workflow ON memory_reads (correlation_id, seq);
CREATE TRIGGER memory_reads_append_only BEFORE UPDATE OR DELETE ON memory_reads
    FOR EACH ROW EXECUTE FUNCTION refuse_change('the read audit is append-only');
CREATE TRIGGER memory_reads_not_truncated BEFORE TRUNCATE ON memory_reads
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('the read audit is append-only');
