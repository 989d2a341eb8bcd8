-- 4: the HTTP API's access (SQLite schema 3): tokens mapped to teams, of which only a hash of
-- each secret is kept, and the append-only audit log of every decision and change made
-- through the API. A token row changes once, when it is revoked; names are unique among the
-- tokens still active, so a name can be reused after its token is revoked.
CREATE TABLE api_tokens (
    id text PRIMARY KEY,
    name text NOT NULL,
    team text NOT NULL,
    admin boolean NOT NULL,
    secret_sha256 text NOT NULL,
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    revoked_at timestamptz,
    revoked_by text
);
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

CREATE FUNCTION refuse_token_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
        OR (NEW.id, NEW.name, NEW.team, NEW.admin, NEW.secret_sha256)
            IS DISTINCT FROM (OLD.id, OLD.name, OLD.team, OLD.admin, OLD.secret_sha256) THEN
        RAISE EXCEPTION 'a token is only ever revoked' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER api_tokens_only_revoked BEFORE UPDATE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION refuse_token_change();
CREATE TRIGGER api_tokens_no_delete BEFORE DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION refuse_change('a token is revoked, never deleted');

CREATE TABLE api_audit (
    seq bigint GENERATED ALWAYS AS IDENTITY,
    id text PRIMARY KEY,
    at timestamptz NOT NULL,
    team text,
    actor text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    outcome text NOT NULL,
    detail text NOT NULL
);
CREATE INDEX api_audit_by_team ON api_audit (team, seq);
CREATE TRIGGER api_audit_append_only BEFORE UPDATE OR DELETE ON api_audit
    FOR EACH ROW EXECUTE FUNCTION refuse_change('the audit log is append-only');
CREATE TRIGGER api_audit_not_truncated BEFORE TRUNCATE ON api_audit
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('the audit log is append-only');
