//! Faults drawn from the seed: partitions (one node isolated, minority /
//! majority splits, the leader cut off), heals, message delay and loss,
//! crashes and restarts (the leader, any node, or briefly a majority).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::node::SimNode;
use crate::types::NodeId;
use crate::world::{lock, World};

/// Crashes node `id` if it is up: its durable state is frozen, it is cut off.
pub fn crash(world: &Arc<World>, id: NodeId) {
    let Some(node) = lock(&world.nodes).remove(&id) else { return };
    let image = node.crash();
    lock(&world.frozen).insert(id, image);
    lock(&world.net).down.insert(id);
    lock(&world.stats).crashes += 1;
    world.trace(format_args!("fault crash node {id}"));
}

/// Restarts node `id` from its frozen durable state, if it is down.
pub async fn restart(world: &Arc<World>, id: NodeId) {
    let Some(durable) = lock(&world.frozen).remove(&id) else { return };
    let inc = {
        let mut incs = lock(&world.incarnations);
        let inc = incs.entry(id).or_insert(0);
        *inc += 1;
        *inc
    };
    match SimNode::start(world.clone(), id, inc, durable).await {
        Ok(node) => {
            lock(&world.nodes).insert(id, node);
            lock(&world.net).down.remove(&id);
        }
        Err(e) => world.violation(format!("node {id} cannot restart: {e}")),
    }
}

/// A member whose consensus stopped on its own exits; its supervisor starts
/// it again a second later (from what its disk kept).
pub fn supervisor_restart(world: &Arc<World>, id: NodeId) {
    let world = world.clone();
    tokio::spawn(async move {
        crash(&world, id);
        restart_later(&world, id, Duration::from_secs(1));
    });
}

/// Restarts `id` after `after`, unless something restarted it already.
fn restart_later(world: &Arc<World>, id: NodeId, after: Duration) {
    let world = world.clone();
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        restart(&world, id).await;
    });
}

/// The current leader, as the nodes that are up see it.
pub fn leader(world: &World) -> Option<NodeId> {
    lock(&world.nodes).values().find(|n| n.is_leader()).map(|n| n.id)
}

/// Puts every node in one partition group.
pub fn heal(world: &World) {
    lock(&world.net).group.clear();
    world.trace("fault heal");
}

/// Draws a random subset of `k` nodes.
fn pick(world: &World, k: usize) -> Vec<NodeId> {
    let mut ids = world.voter_ids();
    let mut out = Vec::new();
    for _ in 0..k.min(ids.len()) {
        let i = world.rand_range(0..ids.len() as u64) as usize;
        out.push(ids.remove(i));
    }
    out
}

/// Splits the nodes: `side` in group 1, the rest in group 0.
fn split(world: &World, side: &[NodeId]) {
    let mut net = lock(&world.net);
    net.group.clear();
    for id in side {
        net.group.insert(*id, 1);
    }
    drop(net);
    world.trace(format_args!("fault partition {side:?} | rest"));
}

/// One random fault.
async fn one_fault(world: &Arc<World>) {
    let n = world.cfg.nodes;
    let roll = world.rand_range(0..100);
    lock(&world.stats).faults += 1;
    match roll {
        0..=11 => {
            let victim = if world.chance(0.5) { leader(world) } else { None };
            let victim = victim.unwrap_or_else(|| pick(world, 1)[0]);
            split(world, &[victim]);
        }
        12..=23 => {
            let k = world.rand_range(1..(n as u64 / 2 + 1)) as usize;
            split(world, &pick(world, k));
        }
        24..=29 => {
            // The leader with a minority.
            let k = world.rand_range(1..(n as u64 / 2 + 1)) as usize;
            let mut side = pick(world, k);
            if let Some(l) = leader(world) {
                if !side.contains(&l) {
                    side[0] = l;
                }
            }
            split(world, &side);
        }
        30..=44 => heal(world),
        45..=59 => {
            let delay = [0, 1, 5, 20, 50][world.rand_range(0..5) as usize];
            let loss = [0.0, 0.0, 0.01, 0.05, 0.1][world.rand_range(0..5) as usize];
            let mut net = lock(&world.net);
            net.max_delay_ms = delay;
            net.loss = loss;
            drop(net);
            world.trace(format_args!("fault network delay<={delay}ms loss={loss}"));
        }
        60..=79 => {
            let victim = if world.chance(0.5) { leader(world) } else { None };
            let victim = victim.unwrap_or_else(|| pick(world, 1)[0]);
            crash(world, victim);
            restart_later(world, victim, Duration::from_millis(world.rand_range(200..3_000)));
        }
        80..=86 => {
            // Briefly a majority (the leader among them if there is one).
            let mut victims = pick(world, n / 2 + 1);
            if let Some(l) = leader(world) {
                if !victims.contains(&l) {
                    victims[0] = l;
                }
            }
            for v in &victims {
                crash(world, *v);
            }
            for v in victims {
                restart_later(world, v, Duration::from_millis(world.rand_range(200..1_500)));
            }
        }
        _ => {
            let down: Vec<NodeId> = lock(&world.net).down.iter().copied().collect();
            for id in down {
                restart(world, id).await;
            }
        }
    }
}

/// Injects faults until told to stop.
pub async fn run(world: Arc<World>, stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        let pause = world.rand_range(300..2_500);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        if *stop.borrow() {
            break;
        }
        one_fault(&world).await;
    }
}

/// Ends every fault: restarts every crashed node, heals, and calms the network.
pub async fn heal_all(world: &Arc<World>) {
    heal(world);
    {
        let mut net = lock(&world.net);
        net.max_delay_ms = 1;
        net.loss = 0.0;
    }
    let down: Vec<NodeId> = world.voter_ids();
    for id in down {
        restart(world, id).await;
    }
}
