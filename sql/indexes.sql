-- Optional, additive indexes (never required: the service works without them). Apply them to a
-- real database with `scripts/migrate`. Each statement detects the table variant by itself.
DO $$
DECLARE
    v text;
BEGIN
    FOREACH v IN ARRAY ARRAY['chat_mensajes', 'mensajes_chat'] LOOP
        IF to_regclass(v) IS NOT NULL THEN
            -- History pages and the "last message" of each conversation read in this order.
            EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (conversacion_id, fecha_envio DESC, id DESC)',
                           v || '_conv_fecha_idx', v);
        END IF;
    END LOOP;
    FOREACH v IN ARRAY ARRAY['chat_participantes', 'participantes_chat'] LOOP
        IF to_regclass(v) IS NOT NULL THEN
            -- "My conversations" and participant checks.
            EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (usuario_id, conversacion_id)', v || '_usuario_idx', v);
            EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (conversacion_id)', v || '_conv_idx', v);
            -- The other members of each conversation in the conversation list, read from the
            -- index alone (index-only scan) in rut order.
            EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (conversacion_id, usuario_id)', v || '_conv_usuario_idx', v);
        END IF;
    END LOOP;
END $$;
-- Login looks users up by rut, e-mail or name in one query.
CREATE INDEX IF NOT EXISTS usuarios_nombre_idx ON usuarios (nombre);
