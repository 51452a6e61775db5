//! `Party` and `ShallowParty` (core's `party` module) behind one class.

use corral::client::Result;
use corral::recipes::party::{Party as CoreParty, ShallowParty as CoreShallowParty};
use pyo3::prelude::*;

use super::{core_client, into};
use crate::runtime::{awaitable_py, block_on};

/// The core value one `Party` wraps (both are cheap to clone).
#[derive(Clone)]
enum Member {
    /// Identifier in the node's data (kazoo's Party).
    Deep(CoreParty),
    /// Identifier in the node's name (kazoo's ShallowParty).
    Shallow(CoreShallowParty),
}

impl Member {
    async fn join(self) -> Result<()> {
        match self {
            Member::Deep(p) => p.join().await,
            Member::Shallow(p) => p.join().await,
        }
    }

    async fn leave(self) -> Result<bool> {
        match self {
            Member::Deep(p) => p.leave().await,
            Member::Shallow(p) => p.leave().await,
        }
    }

    async fn members(self) -> Result<Vec<String>> {
        match self {
            Member::Deep(p) => p.members().await,
            Member::Shallow(p) => p.members().await,
        }
    }
}

/// A member of a party (group membership).
#[pyclass(module = "corral._corral", frozen)]
pub struct Party {
    member: Member,
}

#[pymethods]
impl Party {
    /// A member of the party at `path` with `identifier`; `shallow` keeps
    /// the identifier in the node's name (kazoo's ShallowParty).
    #[new]
    #[pyo3(signature = (client, path, identifier, shallow=false))]
    fn new(client: &Bound<'_, PyAny>, path: &str, identifier: &str, shallow: bool) -> PyResult<Party> {
        let c = core_client(client)?;
        let member = if shallow {
            Member::Shallow(CoreShallowParty::new(&c, path, identifier))
        } else {
            Member::Deep(CoreParty::new(&c, path, identifier))
        };
        Ok(Party { member })
    }

    /// This member's node path (kazoo's `Party.create_path`).
    #[getter]
    fn create_path(&self) -> String {
        match &self.member {
            Member::Deep(p) => p.node_path(),
            Member::Shallow(p) => p.node_path(),
        }
    }

    /// Joins (creates this member's node, and the party's path if needed).
    fn join(&self, py: Python<'_>) -> PyResult<()> {
        block_on(py, self.member.clone().join())
    }

    /// `join` as an awaitable.
    fn join_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable_py(py, self.member.clone().join(), |py, ()| Ok(py.None()))
    }

    /// Leaves; whether this member was in the party.
    fn leave(&self, py: Python<'_>) -> PyResult<bool> {
        block_on(py, self.member.clone().leave())
    }

    /// `leave` as an awaitable.
    fn leave_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable_py(py, self.member.clone().leave(), |py, v| into(py, v))
    }

    /// The members' identifiers, sorted.
    fn members(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        block_on(py, self.member.clone().members())
    }

    /// `members` as an awaitable.
    fn members_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable_py(py, self.member.clone().members(), |py, v| into(py, v))
    }
}
