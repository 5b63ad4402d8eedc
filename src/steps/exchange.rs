//! The setups of one multi-environment run meet here to share what they read: each environment
//! runs its own operation (its own client, limits and pacer), and the ones started with the same
//! group id hand each other small lists of values in rounds, each round complete when every
//! member has shared (or ended). The group also bounds how many members work at once: a member
//! holds a turn while it reads and writes and gives it up while it waits for a round, so members
//! waiting for the others never keep the others from their turn.

use crate::documents::GroupSpec;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// Every member starts its operation within moments of the others (joining is the first thing
/// the operation does, before any request): a member missing after this long was never started.
const JOIN_WITHIN: Duration = Duration::from_secs(30);
/// Rounds every member goes through (every member goes through all, sharing nothing when it has
/// nothing to share, so members can never disagree on how many there are).
pub const ROUNDS: usize = 2;

/// What one member shared in a round.
#[derive(Debug, Clone, PartialEq)]
pub struct Shared {
    pub environment: String,
    pub values: Vec<String>,
}

struct Group {
    environments: usize,
    turns: Arc<Semaphore>,
    created: Instant,
    state: Mutex<State>,
    /// Bumped on every change of `state`; waiters look again.
    changed: watch::Sender<u64>,
}

#[derive(Default)]
struct State {
    joined: usize,
    /// Per round: what was shared, and how many members ended without sharing.
    shared: [Vec<Shared>; ROUNDS],
    gone: [usize; ROUNDS],
}

impl Group {
    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
        self.changed.send_modify(|n| *n += 1);
    }
}

/// The open groups. The registry keeps each one until every member has joined and ended (a member
/// that fails before another one has even started must still count as gone for it), or, when
/// some member never came, until it has been unused for [`FORGOTTEN_AFTER`].
static GROUPS: LazyLock<Mutex<HashMap<String, Arc<Group>>>> = LazyLock::new(Mutex::default);
const FORGOTTEN_AFTER: Duration = Duration::from_secs(600);

impl Group {
    /// No member holds it any more (only the registry does), and none will come.
    fn finished(self: &Arc<Self>) -> bool {
        let joined = self.state.lock().unwrap_or_else(|p| p.into_inner()).joined;
        Arc::strong_count(self) == 1 && (joined >= self.environments || self.created.elapsed() >= FORGOTTEN_AFTER)
    }
}

/// One operation's place in its group. Dropped (the operation ended, failed or was cancelled)
/// before the last round, it counts as gone for the rounds it did not share in.
pub struct Member {
    group: Arc<Group>,
    environment: String,
    round: usize,
    turn: Option<OwnedSemaphorePermit>,
}

impl Member {
    /// Joins (or opens) the group, then waits for a turn to work.
    pub async fn join(spec: &GroupSpec) -> Result<Member> {
        if spec.group.trim().is_empty() || spec.environments < 2 {
            return Err(Error::invalid("ownership needs a group id and at least two environments."));
        }
        let group = {
            let mut groups = GROUPS.lock().unwrap_or_else(|p| p.into_inner());
            groups.retain(|_, g| !g.finished());
            match groups.get(&spec.group) {
                Some(group) => group.clone(),
                None => {
                    let group = Arc::new(Group {
                        environments: spec.environments,
                        turns: Arc::new(Semaphore::new(spec.at_once.unwrap_or(spec.environments).clamp(1, spec.environments))),
                        created: Instant::now(),
                        state: Mutex::default(),
                        changed: watch::channel(0).0,
                    });
                    groups.insert(spec.group.clone(), group.clone());
                    group
                }
            }
        };
        // Checked and counted under one lock: two members joining at once cannot both be last.
        let refused = {
            let mut state = group.state.lock().unwrap_or_else(|p| p.into_inner());
            let full = group.environments != spec.environments || state.joined >= group.environments;
            if !full {
                state.joined += 1;
            }
            full.then_some(state.joined)
        };
        if let Some(joined) = refused {
            return Err(Error::invalid(format!(
                "The group '{}' has {} environments, and {joined} have joined: every environment of one run gives the same count, and a new run uses a new group id.",
                spec.group, group.environments
            )));
        }
        group.changed.send_modify(|n| *n += 1);
        let mut member = Member { group, environment: spec.environment.clone(), round: 0, turn: None };
        member.take_turn().await?;
        Ok(member)
    }

    async fn take_turn(&mut self) -> Result<()> {
        let turn = self.group.turns.clone().acquire_owned().await.map_err(|_| Error::cancelled())?;
        self.turn = Some(turn);
        Ok(())
    }

    /// Shares `values` in the next round, gives up the turn until every member has shared (or
    /// ended), and returns what the others shared.
    pub async fn share(&mut self, values: Vec<String>) -> Result<Vec<Shared>> {
        let round = self.round;
        if round >= ROUNDS {
            return Err(Error::internal("a member shared in more rounds than the group has"));
        }
        self.turn = None;
        let mut changes = self.group.changed.subscribe();
        let environment = self.environment.clone();
        self.group.update(|s| s.shared[round].push(Shared { environment, values }));
        self.round += 1;
        loop {
            let complete = {
                let state = self.group.state.lock().unwrap_or_else(|p| p.into_inner());
                if state.shared[round].len() + state.gone[round] >= self.group.environments {
                    Some(state.shared[round].iter().filter(|s| s.environment != self.environment).cloned().collect::<Vec<_>>())
                } else if state.joined < self.group.environments && self.group.created.elapsed() >= JOIN_WITHIN {
                    return Err(Error::invalid(format!(
                        "Only {} of the {} environments of this run started: their mailboxes could not be compared, so nothing more was changed here.",
                        state.joined, self.group.environments
                    ))
                    .with_remedy("Start one operation per environment of the group, at the same time; without a group the environments are set up without comparing their mailboxes."));
                } else {
                    None
                }
            };
            if let Some(others) = complete {
                self.take_turn().await?;
                return Ok(others);
            }
            // Woken by a change, or soon enough to notice a member that never joined.
            let _ = tokio::time::timeout(Duration::from_secs(1), changes.changed()).await;
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let from = self.round;
        self.group.update(|s| s.gone.iter_mut().skip(from).for_each(|n| *n += 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(group: &str, environment: &str, environments: usize, at_once: Option<usize>) -> GroupSpec {
        GroupSpec { group: group.into(), environment: environment.into(), environments, at_once }
    }

    #[tokio::test]
    async fn each_member_gets_what_the_others_shared_once_all_have() {
        let group = uuid::Uuid::new_v4().to_string();
        let tasks: Vec<_> = ["a", "b", "c"]
            .into_iter()
            .map(|name| {
                let spec = spec(&group, name, 3, Some(1));
                tokio::spawn(async move {
                    let mut member = Member::join(&spec).await?;
                    let first = member.share(vec![format!("{name}1")]).await?;
                    let second = member.share(vec![]).await?;
                    Ok::<_, Error>((first, second))
                })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            let (first, second) = task.await.unwrap().unwrap();
            let mut got: Vec<String> = first.iter().flat_map(|s| s.values.clone()).collect();
            got.sort();
            let expected: Vec<String> =
                ["a1", "b1", "c1"].iter().enumerate().filter(|(j, _)| *j != i).map(|(_, v)| v.to_string()).collect();
            assert_eq!(got, expected);
            assert_eq!(second.len(), 2);
        }
    }

    #[tokio::test]
    async fn a_member_that_ends_early_does_not_keep_the_others_waiting() {
        let group = uuid::Uuid::new_v4().to_string();
        let failing = Member::join(&spec(&group, "a", 2, None)).await.unwrap();
        let waiting = tokio::spawn({
            let spec = spec(&group, "b", 2, None);
            async move { Member::join(&spec).await?.share(vec!["x".into()]).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(failing);
        let others = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("not left waiting").unwrap().unwrap();
        assert!(others.is_empty());
    }

    #[tokio::test]
    async fn a_member_that_ended_before_the_other_joined_still_counts_as_gone() {
        let group = uuid::Uuid::new_v4().to_string();
        drop(Member::join(&spec(&group, "a", 2, None)).await.unwrap());
        let mut late = Member::join(&spec(&group, "b", 2, None)).await.unwrap();
        let others = tokio::time::timeout(Duration::from_secs(5), late.share(vec!["x".into()])).await.expect("not left waiting").unwrap();
        assert!(others.is_empty());
    }

    #[tokio::test]
    async fn a_group_refuses_a_member_beyond_its_count_or_with_another_count() {
        let group = uuid::Uuid::new_v4().to_string();
        let _a = Member::join(&spec(&group, "a", 2, None)).await.unwrap();
        assert!(Member::join(&spec(&group, "b", 3, None)).await.is_err());
        let _b = Member::join(&spec(&group, "b", 2, None)).await.unwrap();
        let err = Member::join(&spec(&group, "c", 2, None)).await.err().unwrap();
        assert!(err.message.contains("new group id"), "{}", err.message);
        assert!(Member::join(&spec("", "c", 2, None)).await.is_err());
    }
}
