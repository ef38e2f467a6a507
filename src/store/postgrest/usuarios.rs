//! The `usuarios` table: login lookups, password re-hashing, user lists. One request each.

use serde_json::json;

use super::PostgrestStore;
use super::filas;
use super::peticion::citar;
use crate::dominio::{Credenciales, Usuario};
use crate::store::StoreResult;

impl PostgrestStore {
    /// `rut_usuario` plus the display columns the table has.
    fn select_usuario(&self, e: &super::Esquema) -> String {
        format!("rut_usuario,{}", e.columnas_usuario())
    }

    pub(super) async fn leer_credenciales(&self, login: &str) -> StoreResult<Vec<Credenciales>> {
        let e = self.esquema().await?;
        let mut select = self.select_usuario(e);
        for c in ["password_hash", "Contraseña"] {
            if e.tiene("usuarios", c) {
                select.push(',');
                select.push_str(c);
            }
        }
        let busqueda: Vec<String> = ["rut_usuario", "correo", "nombre"]
            .into_iter()
            .filter(|c| *c == "rut_usuario" || e.tiene("usuarios", c))
            .map(|c| format!("{c}.eq.{}", citar(login)))
            .collect();
        let peticion = self
            .cliente
            .tabla("usuarios")
            .select(select)
            .or(busqueda.join(","))
            .build()
            .query(&[("limit", "5")]);
        let respuesta = self.cliente.json("credenciales", peticion).await?;
        filas::filas(&respuesta)?
            .iter()
            .map(|f| {
                Ok(Credenciales {
                    usuario: filas::usuario_fila(f)?,
                    password_hash: filas::texto(&f["password_hash"]),
                    password_plano: filas::texto(&f["Contraseña"]),
                })
            })
            .collect()
    }

    pub(super) async fn escribir_hash(&self, rut: &str, hash: &str) -> StoreResult<()> {
        let e = self.esquema().await?;
        if !e.tiene("usuarios", "password_hash") {
            return Ok(());
        }
        let peticion = self
            .cliente
            .tabla("usuarios")
            .eq("rut_usuario", rut)
            .update(json!({ "password_hash": hash }).to_string())
            .build();
        self.cliente.json("guardar_hash", peticion).await?;
        Ok(())
    }

    pub(super) async fn leer_usuario(&self, rut: &str) -> StoreResult<Option<Usuario>> {
        let e = self.esquema().await?;
        let peticion = self
            .cliente
            .tabla("usuarios")
            .select(self.select_usuario(e))
            .eq("rut_usuario", rut)
            .build();
        let respuesta = self.cliente.json("usuario", peticion).await?;
        filas::filas(&respuesta)?
            .first()
            .map(filas::usuario_fila)
            .transpose()
    }

    pub(super) async fn leer_usuarios_excepto(&self, rut: &str) -> StoreResult<Vec<Usuario>> {
        let e = self.esquema().await?;
        let orden = if e.tiene("usuarios", "nombre") {
            "nombre.asc,rut_usuario.asc"
        } else {
            "rut_usuario.asc"
        };
        let peticion = self
            .cliente
            .tabla("usuarios")
            .select(self.select_usuario(e))
            .neq("rut_usuario", rut)
            .order(orden)
            .build();
        let respuesta = self.cliente.json("usuarios_excepto", peticion).await?;
        filas::filas(&respuesta)?
            .iter()
            .map(filas::usuario_fila)
            .collect()
    }
}
