//! Send times for every peer, kept by one thread that sleeps to the microsecond.
//!
//! Why not a tokio interval per peer: tokio's timer rounds each deadline up to the next
//! millisecond and wakes through `epoll_wait`'s millisecond timeout, so sends left about
//! 1 ms late (p50) and 2 ms late (p99), and since latency counts from the scheduled time, the
//! generator's own timer was a third of every latency it reported. This thread sleeps to each
//! deadline with the kernel's high-resolution timer and hands the peer its scheduled instant.
//!
//! A late tick is still delivered with its scheduled instant, and ticks due while a peer is
//! disconnected wait in its channel and go out at once when it is back (a burst): latency
//! keeps counting whatever held the send up.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::time::Instant;

enum Command {
    Start { peer: u32, first: Instant, period: Duration, ticks: UnboundedSender<Instant> },
    Stop { peer: u32 },
}

/// A handle on the schedule thread; the thread ends when every handle is gone.
#[derive(Clone)]
pub struct Schedule {
    commands: mpsc::Sender<Command>,
}

impl Schedule {
    pub fn start() -> Self {
        let (commands, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("tzload-schedule".into())
            .spawn(move || run(rx))
            .expect("spawn the schedule thread");
        Self { commands }
    }

    /// Ticks for `peer` every `period` from `first`, until [`Schedule::stop`] or until the
    /// receiver is dropped. Starting a peer again replaces its earlier schedule.
    pub fn every(&self, peer: u32, first: Instant, period: Duration) -> UnboundedReceiver<Instant> {
        let (ticks, rx) = unbounded_channel();
        let _ = self.commands.send(Command::Start { peer, first, period, ticks });
        rx
    }

    pub fn stop(&self, peer: u32) {
        let _ = self.commands.send(Command::Stop { peer });
    }
}

fn run(commands: mpsc::Receiver<Command>) {
    // Deadlines by peer; a peer's generation tells a live entry from one left by an earlier
    // start, so restarting never doubles a peer's rate.
    let mut due: BinaryHeap<Reverse<(Instant, u32, u64)>> = BinaryHeap::new();
    let mut peers: HashMap<u32, (u64, Duration, UnboundedSender<Instant>)> = HashMap::new();
    let mut generation = 0u64;
    loop {
        let command = match due.peek() {
            None => match commands.recv() {
                Ok(c) => Some(c),
                Err(_) => return,
            },
            Some(Reverse((at, _, _))) => match commands.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(c) => Some(c),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            },
        };
        match command {
            Some(Command::Start { peer, first, period, ticks }) => {
                generation += 1;
                peers.insert(peer, (generation, period, ticks));
                due.push(Reverse((first, peer, generation)));
            }
            Some(Command::Stop { peer }) => {
                peers.remove(&peer);
            }
            None => {}
        }
        let now = Instant::now();
        while let Some(&Reverse((at, peer, gen))) = due.peek() {
            if at > now {
                break;
            }
            due.pop();
            let Some((live, period, ticks)) = peers.get(&peer) else { continue };
            if *live != gen {
                continue;
            }
            if ticks.send(at).is_err() {
                peers.remove(&peer);
                continue;
            }
            due.push(Reverse((at + *period, peer, gen)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(ticks: &mut UnboundedReceiver<Instant>) -> Vec<Instant> {
        std::iter::from_fn(|| ticks.try_recv().ok()).collect()
    }

    #[tokio::test]
    async fn ticks_on_schedule_never_early_and_stop() {
        let schedule = Schedule::start();
        let first = Instant::now() + Duration::from_millis(5);
        let period = Duration::from_millis(3);
        let mut ticks = schedule.every(7, first, period);
        for k in 0..5u32 {
            let at = ticks.recv().await.unwrap();
            assert_eq!(at, first + period * k);
            assert!(Instant::now() >= at, "a tick never comes early");
        }
        schedule.stop(7);
        // A pass already under way when the stop was sent may still hand some over; after
        // it, nothing.
        tokio::time::sleep(Duration::from_millis(100)).await;
        drain(&mut ticks);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(drain(&mut ticks), vec![], "ticks after the stop");
    }

    #[tokio::test]
    async fn a_restart_replaces_the_earlier_schedule() {
        let schedule = Schedule::start();
        let period = Duration::from_millis(2);
        let mut old = schedule.every(1, Instant::now(), period);
        let first = Instant::now() + Duration::from_millis(1);
        let mut new = schedule.every(1, first, period);
        // At least five ticks, however slowly a loaded machine hands them over.
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while got.len() < 5 {
            assert!(Instant::now() < deadline, "{} ticks in 10 s", got.len());
            tokio::time::sleep(Duration::from_millis(5)).await;
            got.extend(drain(&mut new));
        }
        // Only the new schedule's instants, each once: the old one is not running beside it.
        let expected: Vec<Instant> = (0..got.len() as u32).map(|k| first + period * k).collect();
        assert_eq!(got, expected);
        drain(&mut old);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(drain(&mut old).is_empty(), "the replaced schedule still ticks");
    }
}
