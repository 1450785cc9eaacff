//! A parallel map whose results are taken in the items' order, as soon as
//! each and those before it are done, with few results held at once.
//!
//! `lcov` folds each unit's coverage into the tracefile: in order, so that
//! the output does not depend on which thread finished first, and soon, so
//! that the coverage of all units is never held at once (memory flat in
//! the number of units). A rayon `par_iter().collect()` holds every result;
//! chunks of one unit per thread hold few but wait at each chunk for its
//! slowest unit, while the other threads idle. Here the workers take the
//! next item as soon as they are free. Each result has a weight (a unit's
//! notes size): past one item per thread ahead of the consumer, a worker
//! starts another only while the results waiting for the consumer weigh
//! less than a budget. So small units flow freely around a large one that
//! holds the consumer up (Lua's lvm.c), and large ones are not piled up.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};

struct State<I, R> {
    items: I,
    /// The index of the next item handed out.
    next: usize,
    /// Results taken by the consumer so far.
    taken: usize,
    /// Results done and not yet taken, by index, with their weights.
    done: BTreeMap<usize, (R, u64)>,
    /// The weight of `done`.
    held: u64,
    /// The consumer stopped (its error), or a worker panicked.
    stop: bool,
}

struct Shared<I, R> {
    state: Mutex<State<I, R>>,
    /// A result was added (or a worker stopped): the consumer looks again.
    ready: Condvar,
    /// A result was taken (or the work stopped): workers look again.
    room: Condvar,
}

impl<I, R> Shared<I, R> {
    fn lock(&self) -> MutexGuard<'_, State<I, R>> {
        // A worker that panicked holds no lock while it works, so the
        // state is consistent even if the mutex was poisoned.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Stops everything when a worker or the consumer unwinds, so that no
/// thread waits for a result or for room that will never come; the scope
/// then re-raises the panic.
struct StopOnPanic<'a, I, R>(&'a Shared<I, R>);

impl<I, R> Drop for StopOnPanic<'_, I, R> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.lock().stop = true;
            self.0.ready.notify_all();
            self.0.room.notify_all();
        }
    }
}

/// Runs `work` on every item on `threads` threads and hands the results to
/// `take` in the items' order, each as soon as it and those before it are
/// done. `work` gives each result a weight: an item more than `threads`
/// past the last result taken is started only while the results done and
/// not taken weigh less than `budget`. The first error of `take` stops the
/// work and is returned.
pub fn map_in_order<T, R, E>(
    items: Vec<T>,
    threads: usize,
    budget: u64,
    work: impl Fn(T) -> (R, u64) + Sync,
    mut take: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
    R: Send,
{
    let n = items.len();
    let shared = Shared {
        state: Mutex::new(State {
            items: items.into_iter(),
            next: 0,
            taken: 0,
            done: BTreeMap::new(),
            held: 0,
            stop: false,
        }),
        ready: Condvar::new(),
        room: Condvar::new(),
    };
    let window = threads.max(1);
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, n.max(1)) {
            s.spawn(|| {
                let _guard = StopOnPanic(&shared);
                let mut st = shared.lock();
                loop {
                    if st.stop {
                        return;
                    }
                    if st.next < st.taken + window || st.held < budget {
                        let Some(item) = st.items.next() else { return };
                        let i = st.next;
                        st.next += 1;
                        drop(st);
                        let (r, weight) = work(item);
                        st = shared.lock();
                        st.held += weight;
                        st.done.insert(i, (r, weight));
                        shared.ready.notify_one();
                        continue;
                    }
                    st = shared.room.wait(st).unwrap_or_else(|e| e.into_inner());
                }
            });
        }
        let stop = |shared: &Shared<_, _>| {
            shared.lock().stop = true;
            shared.room.notify_all();
        };
        // The consumer unwinding (a panic in `take`) must stop the
        // workers too: the scope joins them before the panic goes on, and
        // a worker waiting for room would wait for ever.
        let _guard = StopOnPanic(&shared);
        for i in 0..n {
            let mut st = shared.lock();
            let r = loop {
                if let Some((r, weight)) = st.done.remove(&i) {
                    st.held -= weight;
                    break r;
                }
                if st.stop {
                    // A worker panicked: the scope re-raises it.
                    return Ok(());
                }
                st = shared.ready.wait(st).unwrap_or_else(|e| e.into_inner());
            };
            st.taken = i + 1;
            drop(st);
            shared.room.notify_all();
            if let Err(e) = take(r) {
                stop(&shared);
                return Err(e);
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Results come in the items' order whatever order the workers finish
    /// in (later items are made to finish first), and with a budget no
    /// result can meet, no item starts more than one per thread past the
    /// last result taken.
    #[test]
    fn results_in_order_within_the_window() {
        let taken = AtomicUsize::new(0);
        let mut seen = Vec::new();
        let items: Vec<usize> = (0..200).collect();
        let r: Result<(), ()> = map_in_order(
            items,
            3,
            0,
            |i| {
                // The consumer counts a result just after the window
                // moved past it: one more than `taken` may be in.
                assert!(
                    i < taken.load(Ordering::SeqCst) + 1 + 3,
                    "item {i} started past the window"
                );
                // Earlier items work longer, so that later ones finish first.
                let spin = (200 - i) * 50;
                let mut x = 0u64;
                for k in 0..spin {
                    x = std::hint::black_box(x.wrapping_add(k as u64));
                }
                ((i, x), 1)
            },
            |(i, _)| {
                seen.push(i);
                taken.fetch_add(1, Ordering::SeqCst);
                Ok(())
            },
        );
        assert_eq!(r, Ok(()));
        assert_eq!(seen, (0..200).collect::<Vec<_>>());
    }

    /// The consumer's first error stops the work: it is returned, nothing
    /// after it is taken, and no item runs far past it.
    #[test]
    fn the_first_error_stops() {
        let started = AtomicUsize::new(0);
        let mut seen = Vec::new();
        let r = map_in_order(
            (0..1000).collect::<Vec<usize>>(),
            2,
            0,
            |i| {
                started.fetch_add(1, Ordering::SeqCst);
                (i, 1)
            },
            |i| {
                seen.push(i);
                if i == 10 { Err(i) } else { Ok(()) }
            },
        );
        assert_eq!(r, Err(10));
        assert_eq!(seen, (0..=10).collect::<Vec<_>>());
        assert!(started.load(Ordering::SeqCst) <= 13);
    }

    /// A panicking worker does not leave the consumer waiting: the panic
    /// comes out of the call.
    #[test]
    fn a_worker_panic_is_raised() {
        let r = std::panic::catch_unwind(|| {
            map_in_order(
                (0..50).collect::<Vec<usize>>(),
                2,
                4,
                |i| {
                    if i == 7 {
                        panic!("boom");
                    }
                    (i, 0)
                },
                |_| Ok::<(), ()>(()),
            )
        });
        assert!(r.is_err());
    }

    /// Light results let the workers run ahead of a consumer that holds
    /// back: every item starts while the first result is not yet taken.
    #[test]
    fn the_budget_lets_light_results_run_ahead() {
        let started = AtomicUsize::new(0);
        let r: Result<(), String> = map_in_order(
            (0..20).collect::<Vec<usize>>(),
            2,
            50,
            |i| {
                started.fetch_add(1, Ordering::SeqCst);
                (i, 1)
            },
            |i| {
                if i == 0 {
                    // Held until all have started; a failure, not a hang,
                    // if they never do.
                    let t = std::time::Instant::now();
                    while started.load(Ordering::SeqCst) < 20 {
                        if t.elapsed() > std::time::Duration::from_secs(30) {
                            return Err("light results were held back".into());
                        }
                        std::thread::yield_now();
                    }
                }
                Ok(())
            },
        );
        assert_eq!(r, Ok(()));
    }

    /// Heavy results (past the budget) keep the workers within one item
    /// per thread of the consumer, however slow it is.
    #[test]
    fn heavy_results_do_not_run_ahead() {
        let taken = AtomicUsize::new(0);
        let r: Result<(), ()> = map_in_order(
            (0..50).collect::<Vec<usize>>(),
            2,
            50,
            |i| {
                assert!(
                    i < taken.load(Ordering::SeqCst) + 1 + 2,
                    "item {i} started past the window"
                );
                (i, 100)
            },
            |_| {
                for _ in 0..1000 {
                    std::thread::yield_now();
                }
                taken.fetch_add(1, Ordering::SeqCst);
                Ok(())
            },
        );
        assert_eq!(r, Ok(()));
    }

    /// A panic of the consumer stops the workers waiting for room (the
    /// window is full at once) and comes out of the call; without the
    /// stop, the scope would wait for them for ever.
    #[test]
    fn a_consumer_panic_is_raised() {
        // Run apart, so that a hang is a failure after a while, not a
        // test that never ends.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let r = std::panic::catch_unwind(|| {
                map_in_order(
                    (0..50).collect::<Vec<usize>>(),
                    2,
                    0,
                    |i| (i, 1),
                    |i| {
                        if i == 3 {
                            panic!("consumer");
                        }
                        Ok::<(), ()>(())
                    },
                )
            });
            let _ = tx.send(r.is_err());
        });
        let raised = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("map_in_order hung after the consumer panicked");
        assert!(raised);
    }

    /// No items: nothing taken, no error.
    #[test]
    fn no_items() {
        let r = map_in_order(Vec::<u8>::new(), 2, 2, |i| (i, 0), |_| Err(()));
        assert_eq!(r, Ok(()));
    }
}
