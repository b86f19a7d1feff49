//! The commands of the `tessera` binary, one file per command or per
//! capability (`admin/` holds one file per administered thing), so a new
//! command lands in one obvious place.

pub(crate) mod admin;
pub(crate) mod keys;
pub(crate) mod migrate;
pub(crate) mod serve;
