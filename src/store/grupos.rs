//! Groups and the life of a message (`sql/grupos.sql`). Every write, and the reads that decide
//! rights, is one SQL function of that file: the same call for both stores (the PostgreSQL store
//! runs `SELECT f(...)`, the PostgREST store posts `/rpc/f`) through [`ChatStore::funcion`].
//! This module builds those calls and reads their answers, so each rule and each parse lives once.
//! A function refuses with `{"error": code}` and changes nothing; that comes back as [`Rechazo`].

use serde_json::Value;

use super::{ChatStore, StoreError, StoreResult};
use crate::dominio::{
    Cita, Entrega, ExtrasMensaje, Grupo, Id, IdKind, IdKinds, Mensaje, Miembro, Reaccion, Usuario,
};

/// The file that installs these functions (named by 503 answers when it is missing).
pub const ARCHIVO: &str = "sql/grupos.sql";

/// One argument of a function call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Argumento {
    /// `text` (null when `None`).
    Texto(Option<String>),
    /// `text[]`.
    Textos(Vec<String>),
    /// `int`.
    Entero(i32),
    /// `boolean`.
    Logico(bool),
}

/// A call of one function of `sql/grupos.sql` with named arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Llamada {
    /// The function's name.
    pub funcion: &'static str,
    /// Its arguments, by parameter name.
    pub argumentos: Vec<(&'static str, Argumento)>,
}

impl Llamada {
    fn new(funcion: &'static str) -> Llamada {
        Llamada {
            funcion,
            argumentos: Vec::new(),
        }
    }

    fn texto(mut self, nombre: &'static str, valor: impl Into<String>) -> Llamada {
        self.argumentos
            .push((nombre, Argumento::Texto(Some(valor.into()))));
        self
    }

    fn opcional(mut self, nombre: &'static str, valor: Option<&Id>) -> Llamada {
        self.argumentos.push((
            nombre,
            Argumento::Texto(valor.map(|v| v.as_str().to_owned())),
        ));
        self
    }

    fn con(mut self, nombre: &'static str, valor: Argumento) -> Llamada {
        self.argumentos.push((nombre, valor));
        self
    }

    /// The arguments as a JSON object (PostgREST's `/rpc` body).
    pub fn cuerpo_json(&self) -> Value {
        let mut cuerpo = serde_json::Map::new();
        for (nombre, valor) in &self.argumentos {
            let v = match valor {
                Argumento::Texto(t) => t.clone().map(Value::from).unwrap_or(Value::Null),
                Argumento::Textos(ts) => Value::from(ts.clone()),
                Argumento::Entero(n) => Value::from(*n),
                Argumento::Logico(b) => Value::from(*b),
            };
            cuerpo.insert((*nombre).to_owned(), v);
        }
        Value::Object(cuerpo)
    }
}

/// Why a function refused (nothing was changed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rechazo {
    /// The conversation or message does not exist (or the message was deleted).
    NoExiste,
    /// The conversation is not a group.
    NoGrupo,
    /// The actor is not a member.
    SinAcceso,
    /// Only a group admin may do this.
    NoAdmin,
    /// A named user does not exist.
    UsuarioNoEncontrado,
    /// The user is already a member.
    YaMiembro,
    /// The user is not a member.
    NoMiembro,
    /// The creator cannot be removed or demoted by others.
    EsCreador,
    /// Only the author may do this.
    NoAutor,
    /// System messages cannot be edited.
    NoEditable,
    /// The edit window has passed.
    FueraDePlazo,
    /// Too many pins.
    Demasiados,
}

impl Rechazo {
    fn de(codigo: &str) -> StoreResult<Rechazo> {
        Ok(match codigo {
            "no_existe" => Rechazo::NoExiste,
            "no_grupo" => Rechazo::NoGrupo,
            "sin_acceso" => Rechazo::SinAcceso,
            "no_admin" => Rechazo::NoAdmin,
            "usuario_no_encontrado" => Rechazo::UsuarioNoEncontrado,
            "ya_miembro" => Rechazo::YaMiembro,
            "no_miembro" => Rechazo::NoMiembro,
            "es_creador" => Rechazo::EsCreador,
            "no_autor" => Rechazo::NoAutor,
            "no_editable" => Rechazo::NoEditable,
            "fuera_de_plazo" => Rechazo::FueraDePlazo,
            "demasiados" => Rechazo::Demasiados,
            otro => {
                return Err(StoreError::Other(format!(
                    "unknown refusal {otro:?} from {ARCHIVO}"
                )));
            }
        })
    }
}

/// A function's outcome: done, or refused with nothing changed.
pub type Hecho<T> = StoreResult<Result<T, Rechazo>>;

/// A membership change: the system message that tells it and the members afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CambioGrupo {
    /// The system message stored with the change.
    pub mensaje: Mensaje,
    /// The members after the change.
    pub miembros: Vec<String>,
    /// Who became admin because the last admin left, if anyone.
    pub nuevo_admin: Option<String>,
}

/// A message's reactions after a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reacciones {
    /// The message's conversation.
    pub conversacion: Id,
    /// Whether the emoji is now set by the actor.
    pub puesta: bool,
    /// Every reaction, oldest first.
    pub lista: Vec<Reaccion>,
}

/// A conversation's pins after a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fijados {
    /// The conversation.
    pub conversacion: Id,
    /// Whether anything changed.
    pub cambio: bool,
    /// The pinned messages, in pin order.
    pub mensajes: Vec<Mensaje>,
}

/// How a reaction changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModoReaccion {
    /// Toggle this emoji of the actor (several per user: our API).
    Alternar,
    /// The actor's only reaction becomes this one (Weigence v2).
    Reemplazar,
    /// Remove every reaction of the actor.
    Quitar,
}

/// The calls of `sql/grupos.sql` over one store.
pub struct Grupos<'a> {
    store: &'a dyn ChatStore,
    kinds: IdKinds,
}

impl<'a> Grupos<'a> {
    /// The calls over `store`, whose id types are `kinds`.
    pub fn new(store: &'a dyn ChatStore, kinds: IdKinds) -> Self {
        Grupos { store, kinds }
    }

    /// The id types its answers are read with.
    pub fn kinds(&self) -> IdKinds {
        self.kinds
    }

    async fn llamar(&self, llamada: Llamada) -> Hecho<Value> {
        let r = self.store.funcion(&llamada).await?;
        match r.get("error").and_then(Value::as_str) {
            Some(codigo) => Ok(Err(Rechazo::de(codigo)?)),
            None => Ok(Ok(r)),
        }
    }

    /// Creates a group of `creador` and `miembros` named `nombre`.
    pub async fn crear(
        &self,
        creador: &str,
        nombre: &str,
        miembros: &[String],
    ) -> Hecho<(Id, CambioGrupo)> {
        let llamada = Llamada::new("weigence_grupo_crear")
            .texto("p_creador", creador)
            .texto("p_nombre", nombre)
            .con("p_miembros", Argumento::Textos(miembros.to_vec()));
        let r = match self.llamar(llamada).await? {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let id = id(&r["conversacion_id"], self.kinds.conversacion)?;
        Ok(Ok((id, self.cambio(&r)?)))
    }

    /// Renames a group.
    pub async fn renombrar(&self, conv: &Id, actor: &str, nombre: &str) -> Hecho<CambioGrupo> {
        let llamada = Llamada::new("weigence_grupo_renombrar")
            .texto("p_conv", conv.as_str())
            .texto("p_actor", actor)
            .texto("p_nombre", nombre);
        self.con_cambio(llamada).await
    }

    /// Adds `usuario` to a group.
    pub async fn agregar(&self, conv: &Id, actor: &str, usuario: &str) -> Hecho<CambioGrupo> {
        let llamada = Llamada::new("weigence_grupo_agregar")
            .texto("p_conv", conv.as_str())
            .texto("p_actor", actor)
            .texto("p_usuario", usuario);
        self.con_cambio(llamada).await
    }

    /// Removes `usuario` from a group (leaving, when it is the actor).
    pub async fn quitar(&self, conv: &Id, actor: &str, usuario: &str) -> Hecho<CambioGrupo> {
        let llamada = Llamada::new("weigence_grupo_quitar")
            .texto("p_conv", conv.as_str())
            .texto("p_actor", actor)
            .texto("p_usuario", usuario);
        self.con_cambio(llamada).await
    }

    /// Grants or revokes a member's admin role.
    pub async fn admin(
        &self,
        conv: &Id,
        actor: &str,
        usuario: &str,
        admin: bool,
    ) -> Hecho<CambioGrupo> {
        let llamada = Llamada::new("weigence_grupo_admin")
            .texto("p_conv", conv.as_str())
            .texto("p_actor", actor)
            .texto("p_usuario", usuario)
            .con("p_admin", Argumento::Logico(admin));
        self.con_cambio(llamada).await
    }

    /// A conversation's members and group data, when the actor is a member.
    pub async fn grupo(&self, conv: &Id, actor: &str) -> Hecho<Grupo> {
        let llamada = Llamada::new("weigence_grupo")
            .texto("p_conv", conv.as_str())
            .texto("p_actor", actor);
        let r = match self.llamar(llamada).await? {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let miembros = r["miembros"]
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|m| {
                        let u = Usuario::from_columns(
                            texto(&m["usuario_id"]).unwrap_or_default(),
                            texto(&m["nombre"]),
                            None,
                            None,
                        );
                        Miembro {
                            rut: u.rut,
                            nombre: u.nombre,
                            es_admin: m["es_admin"].as_bool().unwrap_or(false),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Ok(Grupo {
            id: id(&r["conversacion_id"], self.kinds.conversacion)?,
            nombre: texto(&r["nombre"]),
            es_grupal: r["es_grupal"].as_bool().unwrap_or(false),
            creado_por: texto(&r["creado_por"]),
            miembros,
        }))
    }

    /// Edits a message of the actor within `ventana` seconds of sending it.
    pub async fn editar(
        &self,
        mensaje: &Id,
        actor: &str,
        contenido: &str,
        ventana: i32,
    ) -> Hecho<Mensaje> {
        let llamada = Llamada::new("weigence_editar")
            .texto("p_mensaje", mensaje.as_str())
            .texto("p_actor", actor)
            .texto("p_contenido", contenido)
            .con("p_ventana", Argumento::Entero(ventana));
        let r = match self.llamar(llamada).await? {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(mensaje_json(&r["mensaje"], self.kinds)?))
    }

    /// Changes the actor's reactions to a message.
    pub async fn reaccionar(
        &self,
        mensaje: &Id,
        actor: &str,
        emoji: Option<&str>,
        modo: ModoReaccion,
    ) -> Hecho<Reacciones> {
        let modo = match modo {
            ModoReaccion::Alternar => "alternar",
            ModoReaccion::Reemplazar => "reemplazar",
            ModoReaccion::Quitar => "quitar",
        };
        let llamada = Llamada::new("weigence_reaccion")
            .texto("p_mensaje", mensaje.as_str())
            .texto("p_actor", actor)
            .con("p_emoji", Argumento::Texto(emoji.map(str::to_owned)))
            .texto("p_modo", modo);
        let r = match self.llamar(llamada).await? {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(Reacciones {
            conversacion: id(&r["conversacion_id"], self.kinds.conversacion)?,
            puesta: r["puesta"].as_bool().unwrap_or(false),
            lista: reacciones(&r["reacciones"]),
        }))
    }

    /// Pins (`fijar`) or unpins a message.
    pub async fn fijar(&self, mensaje: &Id, actor: &str, fijar: bool) -> Hecho<Fijados> {
        let llamada = Llamada::new("weigence_fijar")
            .texto("p_mensaje", mensaje.as_str())
            .texto("p_actor", actor)
            .con("p_fijar", Argumento::Logico(fijar));
        let r = match self.llamar(llamada).await? {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(Fijados {
            conversacion: id(&r["conversacion_id"], self.kinds.conversacion)?,
            cambio: r["cambio"].as_bool().unwrap_or(false),
            mensajes: self.mensajes(&r["fijados"])?,
        }))
    }

    /// A conversation's pinned messages, in pin order.
    pub async fn fijados(&self, conv: &Id, actor: &str) -> Hecho<Vec<Mensaje>> {
        let llamada = Llamada::new("weigence_fijados")
            .texto("p_conv", conv.as_str())
            .texto("p_actor", actor);
        let r = match self.llamar(llamada).await? {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(self.mensajes(&r["fijados"])?))
    }

    /// Moves the actor's delivered marker forward (to `hasta`, or the newest message); the new
    /// marker when it moved.
    pub async fn marcar_entregado(
        &self,
        conv: &Id,
        actor: &str,
        hasta: Option<&Id>,
    ) -> Hecho<Option<Id>> {
        let llamada = Llamada::new("weigence_marcar_entregado")
            .texto("p_conv", conv.as_str())
            .texto("p_actor", actor)
            .opcional("p_hasta", hasta);
        let r = match self.llamar(llamada).await? {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        if r["movido"].as_bool() != Some(true) {
            return Ok(Ok(None));
        }
        Ok(Ok(Id::from_json(&r["ultimo"], self.kinds.mensaje)))
    }

    /// Who received and read each of `ids` (messages of `conv`). One statement even for no
    /// ids, so a route costs the same number whatever the data.
    pub async fn entregas(&self, conv: &Id, ids: &[Id]) -> StoreResult<Vec<Entrega>> {
        let llamada = Llamada::new("weigence_entregas")
            .texto("p_conv", conv.as_str())
            .con(
                "p_ids",
                Argumento::Textos(ids.iter().map(|i| i.as_str().to_owned()).collect()),
            );
        let r = self.store.funcion(&llamada).await?;
        let Some(lista) = r.as_array() else {
            return Err(StoreError::Other(format!("weigence_entregas answered {r}")));
        };
        lista
            .iter()
            .map(|e| {
                Ok(Entrega {
                    mensaje_id: id(&e["mensaje_id"], self.kinds.mensaje)?,
                    destinatarios: e["destinatarios"].as_i64().unwrap_or(0),
                    entregado_a: ruts(&e["entregado_a"]),
                    leido_por: ruts(&e["leido_por"]),
                })
            })
            .collect()
    }

    async fn con_cambio(&self, llamada: Llamada) -> Hecho<CambioGrupo> {
        match self.llamar(llamada).await? {
            Ok(r) => Ok(Ok(self.cambio(&r)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn cambio(&self, r: &Value) -> StoreResult<CambioGrupo> {
        Ok(CambioGrupo {
            mensaje: mensaje_json(&r["mensaje"], self.kinds)?,
            miembros: ruts(&r["miembros"]),
            nuevo_admin: texto(&r["nuevo_admin"]),
        })
    }

    fn mensajes(&self, lista: &Value) -> StoreResult<Vec<Mensaje>> {
        lista
            .as_array()
            .map(|l| l.iter().map(|m| mensaje_json(m, self.kinds)).collect())
            .unwrap_or_else(|| Ok(Vec::new()))
    }
}

/// An id column's value (a JSON number or string) of `kind`.
pub fn id(valor: &Value, kind: IdKind) -> StoreResult<Id> {
    Id::from_json(valor, kind)
        .ok_or_else(|| StoreError::Other(format!("unexpected id {valor} from the database")))
}

/// A text value, `None` when null or absent.
pub fn texto(valor: &Value) -> Option<String> {
    valor.as_str().map(str::to_owned)
}

fn ruts(valor: &Value) -> Vec<String> {
    valor
        .as_array()
        .map(|l| l.iter().filter_map(texto).collect())
        .unwrap_or_default()
}

fn reacciones(valor: &Value) -> Vec<Reaccion> {
    valor
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|r| {
                    Some(Reaccion {
                        usuario_id: texto(&r["usuario_id"])?,
                        emoji: texto(&r["emoji"])?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A message row as JSON (a PostgREST row, or `to_jsonb` of the row in a function's answer)
/// with its author embedded as `usuarios` (null when the row is gone): the reply's id and the
/// system flag; the quote and the reactions, when the JSON carries them as `cita` and
/// `reacciones`.
pub fn mensaje_json(fila: &Value, kinds: IdKinds) -> StoreResult<Mensaje> {
    let autor = texto(&fila["usuario_id"]).unwrap_or_default();
    let cita = fila.get("cita").filter(|c| c.is_object()).map(|c| {
        let u = Usuario::from_columns(
            texto(&c["usuario_id"]).unwrap_or_default(),
            texto(&c["nombre"]),
            None,
            None,
        );
        Cita {
            contenido: texto(&c["contenido"]).unwrap_or_default(),
            usuario_id: u.rut,
            usuario_nombre: u.nombre,
        }
    });
    Ok(Mensaje {
        id: id(&fila["id"], kinds.mensaje)?,
        conversacion_id: id(&fila["conversacion_id"], kinds.conversacion)?,
        contenido: texto(&fila["contenido"]).unwrap_or_default(),
        fecha_envio: texto(&fila["fecha_envio"]).unwrap_or_default(),
        editado: fila["editado"].as_bool().unwrap_or(false),
        eliminado: fila["eliminado"].as_bool().unwrap_or(false),
        autor: Usuario::from_columns(
            autor.clone(),
            texto(&fila["usuarios"]["nombre"]),
            texto(&fila["usuarios"]["correo"]),
            texto(&fila["usuarios"]["rol"]),
        ),
        usuario_id: autor,
        extras: ExtrasMensaje {
            responde_a: Id::from_json(&fila["reply_to"], kinds.mensaje),
            cita,
            reacciones: reacciones(&fila["reacciones"]),
            sistema: fila["tipo"].as_str() == Some("sistema"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KINDS: IdKinds = IdKinds {
        conversacion: IdKind::Integer,
        mensaje: IdKind::Integer,
    };

    #[test]
    fn calls_carry_their_arguments_by_name() {
        let l = Llamada::new("weigence_x")
            .texto("p_a", "1")
            .opcional("p_b", None)
            .con("p_c", Argumento::Textos(vec!["x".into()]))
            .con("p_d", Argumento::Entero(9))
            .con("p_e", Argumento::Logico(true));
        assert_eq!(
            l.cuerpo_json(),
            json!({"p_a": "1", "p_b": null, "p_c": ["x"], "p_d": 9, "p_e": true})
        );
    }

    #[test]
    fn function_messages_read_the_system_flag_and_the_author() {
        let m = mensaje_json(
            &json!({"id": 7, "conversacion_id": 3, "usuario_id": "1-9", "contenido": "Ana agregó a Luis",
                    "fecha_envio": "2026-12-02T04:00:00+00:00", "editado": false, "eliminado": false,
                    "tipo": "sistema", "reply_to": null,
                    "usuarios": {"rut_usuario": "1-9", "nombre": "Ana", "correo": null, "rol": null}}),
            KINDS,
        )
        .unwrap();
        assert!(m.extras.sistema);
        assert_eq!(m.autor.nombre, "Ana");
        assert_eq!(m.id.as_str(), "7");
        let sin_autor = mensaje_json(
            &json!({"id": 8, "conversacion_id": 3, "usuarios": null}),
            KINDS,
        )
        .unwrap();
        assert_eq!(sin_autor.autor.nombre, "Usuario");
        assert!(!sin_autor.extras.sistema);
    }

    #[test]
    fn unknown_refusals_are_errors_not_silence() {
        assert_eq!(Rechazo::de("ya_miembro").unwrap(), Rechazo::YaMiembro);
        assert!(Rechazo::de("nuevo").is_err());
    }
}
