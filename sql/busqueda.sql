-- Message search (additive, optional): accent folding for the Spanish full-text search and the
-- conversation mute flag. Applied by `scripts/migrate` and the demo; safe to run twice. The
-- search index itself is `sql/busqueda_indice.sql` (CREATE INDEX CONCURRENTLY cannot run in a
-- transaction, so it is a file of its own). Without this file search still works, without
-- accent folding; without the index it works, slower. The server logs which at start-up.
--   * extension unaccent (PostgreSQL contrib; Debian's postgresql package ships it);
--   * weigence_unaccent(text): unaccent() is only STABLE (its dictionary could change), so an
--     index expression needs this IMMUTABLE wrapper with the dictionary named explicitly;
--   * <participants>.silenciado: per-user, per-conversation mute (notifications and badges).
CREATE EXTENSION IF NOT EXISTS unaccent;

-- The function and its dictionary are named with the extension's schema (public here,
-- `extensions` on Supabase): the index expression is evaluated under the search_path of whoever
-- writes a message, and the PostgREST send functions run with an empty one.
DO $$
DECLARE
    ext text;
BEGIN
    SELECT n.nspname INTO ext FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'unaccent';
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION weigence_unaccent(texto text) RETURNS text
             LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
             AS $f$ SELECT %I.unaccent(%L::regdictionary, texto) $f$',
        ext, format('%I.unaccent', ext));
END $$;

DO $$
DECLARE
    v text;
BEGIN
    FOREACH v IN ARRAY ARRAY['chat_participantes', 'participantes_chat'] LOOP
        IF to_regclass(v) IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %I ADD COLUMN IF NOT EXISTS silenciado boolean NOT NULL DEFAULT false', v);
        END IF;
    END LOOP;
END $$;
