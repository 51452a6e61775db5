//! Faults drawn from the seed: partitions (one node isolated, minority /
//! majority splits, the leader cut off), heals, message delay and loss,
//! crashes and restarts (the leader, any node, or briefly a majority),
//! membership changes (voters become observers and back).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use corral::replication::Member;

use tokio::sync::watch;

use crate::node::SimNode;
use crate::types::NodeId;
use crate::wire::peer_addr_string;
use crate::world::{lock, World};

/// Crashes node `id` if it is up: its disk keeps what was durable (and
/// maybe a torn tail), its connections break.
pub fn crash(world: &Arc<World>, id: NodeId) {
    let Some(node) = lock(&world.nodes).remove(&id) else { return };
    lock(&world.net).down.insert(id);
    node.crash();
    lock(&world.stats).crashes += 1;
    world.trace(format_args!("fault crash node {id}"));
}

/// Restarts node `id` from what its disk kept, if it is down.
pub async fn restart(world: &Arc<World>, id: NodeId) {
    if !lock(&world.net).down.contains(&id) || lock(&world.restarting).contains(&id) {
        return;
    }
    lock(&world.restarting).insert(id);
    let inc = {
        let mut incs = lock(&world.incarnations);
        let inc = incs.entry(id).or_insert(0);
        *inc += 1;
        *inc
    };
    lock(&world.net).down.remove(&id);
    match SimNode::start(world.clone(), id, inc).await {
        Ok(node) => {
            lock(&world.nodes).insert(id, node);
        }
        Err(e) => {
            lock(&world.net).down.insert(id);
            if world.disk(id).failed() {
                // As a supervisor would: try again once the disk answers.
                world.trace(format_args!("node {id} did not start on a failing disk; restarting it"));
                lock(&world.restarting).remove(&id);
                restart_later(world, id, Duration::from_secs(1));
                return;
            }
            world.violation(format!("node {id} cannot restart: {e}"));
        }
    }
    lock(&world.restarting).remove(&id);
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
    let mut ids = world.member_ids();
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
    let n = world.members();
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
        87..=92 => reconfigure(world),
        _ => {
            let down: Vec<NodeId> = lock(&world.net).down.iter().copied().collect();
            for id in down {
                restart_later(world, id, Duration::ZERO);
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
    restart_all(world).await;
}

/// How long a reconfig may take before the fault loop stops waiting for it.
const RECONFIG_WAIT: Duration = Duration::from_secs(5);

/// ZooKeeper's reconfig, through whichever member is up: a new set of
/// voters (at least two) among the configured members; the others stay
/// members as observers (learners). Every member keeps replicating, so the
/// end-of-run convergence checks still apply to all of them.
fn reconfigure(world: &Arc<World>) {
    let ids = world.member_ids();
    let k = world.rand_range(2..ids.len() as u64 + 1) as usize;
    let voters = pick(world, k);
    let up: Vec<NodeId> = lock(&world.nodes).keys().copied().collect();
    let Some(via) = (!up.is_empty()).then(|| up[world.rand_range(0..up.len() as u64) as usize]) else {
        return;
    };
    let Some(node) = world.live_node(via) else { return };
    let members: BTreeMap<u64, Member> =
        ids.iter().map(|id| (*id, Member { addr: peer_addr_string(*id), voter: voters.contains(id) })).collect();
    world.trace(format_args!("fault reconfig voters {voters:?} via node {via}"));
    lock(&world.stats).reconfigs += 1;
    let world = world.clone();
    tokio::spawn(async move {
        match tokio::time::timeout(RECONFIG_WAIT, node.replica.change_members(members)).await {
            Ok(Ok(index)) => world.trace(format_args!("reconfig committed at {index}")),
            Ok(Err(e)) => world.trace(format_args!("reconfig failed: {e}")),
            Err(_) => world.trace("reconfig: no answer in time"),
        }
    });
}

/// Restarts every member that is down, concurrently (a member waits for a
/// leader before it serves, and a leader may need the others) and, like
/// processes, not at the same instant; waits until each start returned.
pub async fn restart_all(world: &Arc<World>) {
    let starting: Vec<_> = world
        .member_ids()
        .into_iter()
        .map(|id| {
            let world = world.clone();
            let after = Duration::from_millis(world.rand_range(0..300));
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                restart(&world, id).await
            })
        })
        .collect();
    for s in starting {
        let _ = s.await;
    }
}
