//! Groups and the life of a message in our page, in headless Debian Chromium (playwright-core)
//! against the real binary, with three users in three browser contexts: group creation, live
//! messages to all, reactions, an edit, deletes (own and an admin's), a reply, a pin, ticks from
//! ✓ to «leído por 2 de 2», a removal (the removed user's page shows it and can no longer send),
//! rename, add, admin role, leaving, the same conversation after a reload, and a fourth user
//! whose page has no socket (REST polling) delivering, reading and noticing his removal
//! (`tests/clients/navegador_grupos.mjs`). Screenshots go to `$TEST_OUTPUT/navegador_grupos`.

mod common;

use common::{TestApp, TestDb, Variante};

/// The scenario on the store the harness picks, over a database with `sql/grupos.sql`.
async fn tres_usuarios() {
    let db = TestDb::completa(Variante::Live).await;
    let app = TestApp::sobre(db, Variante::Live, &[]).await;
    let salida = common::carpeta_de_salida("navegador_grupos");
    common::ejecutar(
        "node",
        &["navegador_grupos.mjs", &app.base, salida.to_str().unwrap()],
    );
}

#[tokio::test]
async fn three_users_run_a_group_end_to_end_in_chromium() {
    tres_usuarios().await;
}

#[tokio::test]
async fn three_users_run_a_group_end_to_end_in_chromium_on_the_postgrest_store() {
    common::en_postgrest(tres_usuarios()).await;
}
