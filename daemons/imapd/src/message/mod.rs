//! Reading parts of a stored message for FETCH and SEARCH.

pub mod envelope;
pub mod sections;
pub mod strings;
pub mod structure;
