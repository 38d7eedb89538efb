//! The differ's tests: one binary, one module per area.

pub mod support;

mod compare;
mod hazards;
mod order;
mod property;
