//! Group commit without a timer: requests queue while the batches in flight run, and each
//! finished batch makes room for the next one, formed from everything queued by then. A lone
//! request therefore goes at once, and under load the batches grow by themselves (up to a cap).
//!
//! Each request names exclusion keys (its conversation, its author's client key): two requests
//! sharing a key are never in the same batch nor in two batches at once, and they go in
//! arrival order. That keeps the order of a conversation's messages and leaves at most one row
//! per conversation and per client key in a statement.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

/// One queued request: its data, its exclusion keys and where its result goes.
struct Pedido<P, R> {
    datos: P,
    claves: Vec<String>,
    respuesta: oneshot::Sender<R>,
}

/// Runs one batch; returns one result per request, in the batch's order.
type Ejecutor<P, R> =
    Arc<dyn Fn(Vec<P>) -> std::pin::Pin<Box<dyn Future<Output = Vec<R>> + Send>> + Send + Sync>;

/// The queue of a group-committing operation, served by one dispatcher task.
pub(super) struct Lotes<P, R> {
    cola: mpsc::UnboundedSender<Pedido<P, R>>,
}

impl<P: Send + 'static, R: Send + 'static> Lotes<P, R> {
    /// Spawns the dispatcher: at most `en_vuelo` batches run at once (each on its own pooled
    /// connection), each of at most `tamano` requests. Needs a Tokio runtime.
    pub(super) fn new<F, Fut>(en_vuelo: usize, tamano: usize, ejecutar: F) -> Self
    where
        F: Fn(Vec<P>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<R>> + Send + 'static,
    {
        let (cola, entrada) = mpsc::unbounded_channel();
        let ejecutor: Ejecutor<P, R> = Arc::new(move |lote| Box::pin(ejecutar(lote)));
        tokio::spawn(despachar(entrada, ejecutor, en_vuelo.max(1), tamano.max(1)));
        Lotes { cola }
    }

    /// Queues a request now; its result arrives once its batch has run (an error when the
    /// batch panicked or the dispatcher is gone).
    pub(super) fn encolar(&self, datos: P, claves: Vec<String>) -> oneshot::Receiver<R> {
        let (respuesta, recibir) = oneshot::channel();
        // A closed queue drops the sender: the receiver then reports the error.
        let _ = self.cola.send(Pedido {
            datos,
            claves,
            respuesta,
        });
        recibir
    }
}

/// The dispatcher: forms batches from the queue whenever fewer than `en_vuelo` run.
async fn despachar<P: Send + 'static, R: Send + 'static>(
    mut entrada: mpsc::UnboundedReceiver<Pedido<P, R>>,
    ejecutor: Ejecutor<P, R>,
    en_vuelo: usize,
    tamano: usize,
) {
    let mut pendientes: VecDeque<Pedido<P, R>> = VecDeque::new();
    // Keys of the batches in flight, and which batch holds which.
    let mut ocupadas: HashSet<String> = HashSet::new();
    let mut de_lote: HashMap<tokio::task::Id, Vec<String>> = HashMap::new();
    let mut lotes: JoinSet<()> = JoinSet::new();
    let mut abierta = true;
    loop {
        while let Ok(p) = entrada.try_recv() {
            pendientes.push_back(p);
        }
        while lotes.len() < en_vuelo {
            let lote = formar(&mut pendientes, &ocupadas, tamano);
            if lote.is_empty() {
                break;
            }
            let claves: Vec<String> = lote.iter().flat_map(|p| p.claves.clone()).collect();
            ocupadas.extend(claves.iter().cloned());
            let ejecutor = ejecutor.clone();
            let tarea = lotes.spawn(async move {
                let (datos, respuestas): (Vec<P>, Vec<oneshot::Sender<R>>) =
                    lote.into_iter().map(|p| (p.datos, p.respuesta)).unzip();
                let resultados = ejecutor(datos).await;
                for (respuesta, resultado) in respuestas.into_iter().zip(resultados) {
                    // The caller may have given up (timeout): nothing to tell.
                    let _ = respuesta.send(resultado);
                }
            });
            de_lote.insert(tarea.id(), claves);
        }
        if !abierta && pendientes.is_empty() && lotes.is_empty() {
            return;
        }
        tokio::select! {
            p = entrada.recv(), if abierta => match p {
                Some(p) => pendientes.push_back(p),
                None => abierta = false,
            },
            Some(hecho) = lotes.join_next_with_id(), if !lotes.is_empty() => {
                let id = match hecho {
                    Ok((id, ())) => id,
                    Err(e) => {
                        tracing::error!(error = %e, "un lote de escrituras terminó con pánico");
                        e.id()
                    }
                };
                for clave in de_lote.remove(&id).unwrap_or_default() {
                    ocupadas.remove(&clave);
                }
            },
            else => return,
        }
    }
}

/// Takes the next batch off the queue, in arrival order: up to `tamano` requests whose keys
/// are neither in flight nor taken by an earlier request (in the batch or still waiting).
/// Requests whose caller has gone are dropped.
fn formar<P, R>(
    pendientes: &mut VecDeque<Pedido<P, R>>,
    ocupadas: &HashSet<String>,
    tamano: usize,
) -> Vec<Pedido<P, R>> {
    let mut lote = Vec::new();
    let mut vistas: HashSet<String> = HashSet::new();
    let mut quedan = VecDeque::with_capacity(pendientes.len());
    while let Some(p) = pendientes.pop_front() {
        if p.respuesta.is_closed() {
            // Its caller gave up (timed out) before it was sent: it is never written.
            continue;
        }
        let libre = lote.len() < tamano
            && p.claves
                .iter()
                .all(|c| !ocupadas.contains(c) && !vistas.contains(c));
        // A request that waits still holds its keys against later ones: per key, arrival
        // order is kept.
        vistas.extend(p.claves.iter().cloned());
        if libre {
            lote.push(p);
        } else {
            quedan.push_back(p);
        }
        if lote.len() == tamano {
            quedan.extend(pendientes.drain(..));
        }
    }
    *pendientes = quedan;
    lote
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tokio::sync::Semaphore;

    /// A fake executor: records each batch, tells the test it started, and finishes only
    /// when the test hands it a permit.
    struct Banco {
        lotes: Mutex<Vec<Vec<u32>>>,
        empezados: mpsc::UnboundedSender<usize>,
        permisos: Semaphore,
    }

    fn banco(
        en_vuelo: usize,
        tamano: usize,
    ) -> (Lotes<u32, u32>, Arc<Banco>, mpsc::UnboundedReceiver<usize>) {
        let (empezados, avisos) = mpsc::unbounded_channel();
        let b = Arc::new(Banco {
            lotes: Mutex::new(Vec::new()),
            empezados,
            permisos: Semaphore::new(0),
        });
        let b2 = b.clone();
        let lotes = Lotes::new(en_vuelo, tamano, move |lote: Vec<u32>| {
            let b = b2.clone();
            async move {
                let n = {
                    let mut l = b.lotes.lock().unwrap();
                    l.push(lote.clone());
                    l.len()
                };
                let _ = b.empezados.send(n);
                b.permisos.acquire().await.unwrap().forget();
                if lote.contains(&666) {
                    panic!("fallo de prueba");
                }
                lote.iter().map(|x| x * 10).collect()
            }
        });
        (lotes, b, avisos)
    }

    fn claves(c: &str) -> Vec<String> {
        vec![c.to_owned()]
    }

    #[tokio::test]
    async fn a_lone_request_goes_at_once() {
        let (lotes, b, mut avisos) = banco(1, 256);
        let r = lotes.encolar(7, claves("a"));
        assert_eq!(
            avisos.recv().await,
            Some(1),
            "runs without waiting for company"
        );
        b.permisos.add_permits(1);
        assert_eq!(r.await.unwrap(), 70);
        assert_eq!(*b.lotes.lock().unwrap(), vec![vec![7]]);
    }

    #[tokio::test]
    async fn requests_queued_during_a_commit_form_the_next_batch_in_arrival_order() {
        let (lotes, b, mut avisos) = banco(1, 256);
        let primero = lotes.encolar(1, claves("a"));
        avisos.recv().await;
        let resto: Vec<_> = (2..=6)
            .map(|i| lotes.encolar(i, claves(&format!("c{i}"))))
            .collect();
        b.permisos.add_permits(2);
        assert_eq!(primero.await.unwrap(), 10);
        for (r, i) in resto.into_iter().zip(2..) {
            assert_eq!(r.await.unwrap(), i * 10, "each caller gets its own result");
        }
        assert_eq!(*b.lotes.lock().unwrap(), vec![vec![1], vec![2, 3, 4, 5, 6]]);
    }

    #[tokio::test]
    async fn batches_are_capped() {
        let (lotes, b, mut avisos) = banco(1, 3);
        let primero = lotes.encolar(0, claves("x"));
        avisos.recv().await;
        let resto: Vec<_> = (1..=7)
            .map(|i| lotes.encolar(i, claves(&format!("c{i}"))))
            .collect();
        b.permisos.add_permits(4);
        primero.await.unwrap();
        for r in resto {
            r.await.unwrap();
        }
        assert_eq!(
            *b.lotes.lock().unwrap(),
            vec![vec![0], vec![1, 2, 3], vec![4, 5, 6], vec![7]]
        );
    }

    #[tokio::test]
    async fn a_key_is_never_twice_in_a_batch_nor_in_two_batches_at_once() {
        let (lotes, b, mut avisos) = banco(2, 256);
        let a1 = lotes.encolar(1, claves("a"));
        avisos.recv().await;
        // "a" is in flight: a2 waits although a second batch could run; b1 goes meanwhile.
        let a2 = lotes.encolar(2, claves("a"));
        let b1 = lotes.encolar(3, vec!["b".into(), "k".into()]);
        assert_eq!(avisos.recv().await, Some(2));
        // Queued behind: a3 after a2 (same key), b2 shares the key "k" with b1.
        let a3 = lotes.encolar(4, claves("a"));
        let b2 = lotes.encolar(5, vec!["z".into(), "k".into()]);
        let c1 = lotes.encolar(6, claves("c"));
        b.permisos.add_permits(1);
        // Whichever of the two finishes first frees its keys; run everything to the end.
        b.permisos.add_permits(10);
        for r in [a1, a2, b1, a3, b2, c1] {
            r.await.unwrap();
        }
        let hechos = b.lotes.lock().unwrap().clone();
        let posicion = |x: u32| hechos.iter().position(|l| l.contains(&x)).unwrap();
        for lote in &hechos {
            let de_a = lote.iter().filter(|x| [1, 2, 4].contains(*x)).count();
            assert!(de_a <= 1, "one request per key in a batch: {hechos:?}");
            assert!(
                !(lote.contains(&3) && lote.contains(&5)),
                "a shared second key separates them too: {hechos:?}"
            );
        }
        assert!(
            posicion(1) < posicion(2) && posicion(2) < posicion(4),
            "{hechos:?}"
        );
        assert!(posicion(3) < posicion(5), "{hechos:?}");
    }

    #[tokio::test]
    async fn no_more_batches_in_flight_than_allowed() {
        let (lotes, b, mut avisos) = banco(2, 1);
        let rs: Vec<_> = (0..4)
            .map(|i| lotes.encolar(i, claves(&format!("c{i}"))))
            .collect();
        assert_eq!(avisos.recv().await, Some(1));
        assert_eq!(avisos.recv().await, Some(2));
        assert!(avisos.try_recv().is_err(), "a third waits for a free slot");
        assert_eq!(b.lotes.lock().unwrap().len(), 2);
        b.permisos.add_permits(4);
        for r in rs {
            r.await.unwrap();
        }
        assert_eq!(b.lotes.lock().unwrap().len(), 4);
    }

    #[tokio::test]
    async fn a_panicking_batch_fails_its_callers_and_frees_its_keys() {
        let (lotes, b, mut avisos) = banco(1, 256);
        let malo = lotes.encolar(666, claves("a"));
        avisos.recv().await;
        let despues = lotes.encolar(1, claves("a"));
        b.permisos.add_permits(2);
        assert!(malo.await.is_err());
        assert_eq!(despues.await.unwrap(), 10, "the key was released");
    }
}
