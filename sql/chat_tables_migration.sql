-- Variant "*_chat": the tables as the original migration (seed document 004) names them, with
-- uuid ids, timestamps without time zone, and a read marker that is a timestamp.
-- Used for local runs and tests; production databases already have them.
CREATE TABLE IF NOT EXISTS conversaciones_chat (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    nombre               varchar(100),
    es_grupal            boolean DEFAULT false,
    creado_por           varchar(20) REFERENCES usuarios (rut_usuario),
    fecha_creacion       timestamp DEFAULT now(),
    ultima_actualizacion timestamp DEFAULT now()           -- kept current on every send
);

CREATE TABLE IF NOT EXISTS participantes_chat (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversacion_id      uuid NOT NULL REFERENCES conversaciones_chat (id) ON DELETE CASCADE,
    usuario_id           varchar(20) NOT NULL REFERENCES usuarios (rut_usuario),
    ultimo_mensaje_leido timestamp                         -- read marker: fecha_envio of the last read message
);

CREATE TABLE IF NOT EXISTS mensajes_chat (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversacion_id uuid NOT NULL REFERENCES conversaciones_chat (id) ON DELETE CASCADE,
    usuario_id      varchar(20) NOT NULL REFERENCES usuarios (rut_usuario),
    contenido       text NOT NULL,
    fecha_envio     timestamp DEFAULT now(),
    editado         boolean DEFAULT false,
    eliminado       boolean DEFAULT false
);
