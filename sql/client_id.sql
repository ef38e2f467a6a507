-- Optional, additive: a client-generated key per message, unique per author, so a send retried
-- with the same `client_id` / `Idempotency-Key` returns the first message instead of storing
-- it twice, across restarts and instances. Without it the service still de-duplicates retries
-- in memory (per instance, 15 minutes). Applied only by `scripts/migrate`.
DO $$
DECLARE
    v text;
BEGIN
    FOREACH v IN ARRAY ARRAY['chat_mensajes', 'mensajes_chat'] LOOP
        IF to_regclass(v) IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %I ADD COLUMN IF NOT EXISTS client_id text', v);
            EXECUTE format('CREATE UNIQUE INDEX IF NOT EXISTS %I ON %I (usuario_id, client_id) WHERE client_id IS NOT NULL',
                           v || '_client_id_key', v);
        END IF;
    END LOOP;
END $$;
