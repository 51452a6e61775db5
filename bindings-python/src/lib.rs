//! `corral._corral`, the native half of the `corral` Python package: thin
//! wrappers over the `corral` crate, mirroring its modules. The public,
//! typed API lives in the package (`python/corral/`); nothing here decides
//! coordination behaviour.

#![allow(clippy::redundant_closure)]

mod aio;
mod client;
mod convert;
mod embedded;
mod error;
mod events;
mod recipes;
mod runtime;

use corral::proto::{perms, Acl};
use pyo3::prelude::*;

/// The digest identity of `user:password` (`user:base64(sha1(user:password))`).
#[pyfunction]
fn digest_id(user_password: &str) -> String {
    corral::client::digest_id(user_password)
}

#[pymodule]
fn _corral(m: &Bound<'_, PyModule>) -> PyResult<()> {
    error::register(m)?;
    m.add_class::<client::SyncClient>()?;
    m.add_class::<aio::AsyncClient>()?;
    m.add_class::<aio::Watch>()?;
    m.add_class::<aio::WatchStream>()?;
    m.add_class::<aio::StateStream>()?;
    m.add_class::<embedded::EmbeddedServer>()?;
    m.add_class::<embedded::TestCluster>()?;
    m.add_class::<embedded::FaultRelay>()?;
    recipes::register(m)?;
    m.add_function(wrap_pyfunction!(digest_id, m)?)?;
    // Core's permission bits and well-known ACLs, so Python never restates them.
    m.add(
        "PERMS",
        [
            ("READ", perms::READ),
            ("WRITE", perms::WRITE),
            ("CREATE", perms::CREATE),
            ("DELETE", perms::DELETE),
            ("ADMIN", perms::ADMIN),
            ("ALL", perms::ALL),
        ],
    )?;
    m.add("OPEN_ACL_UNSAFE", convert::acls_to(Acl::open_unsafe()))?;
    m.add("READ_ACL_UNSAFE", convert::acls_to(Acl::read_unsafe()))?;
    m.add("CREATOR_ALL_ACL", convert::acls_to(Acl::creator_all()))?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
