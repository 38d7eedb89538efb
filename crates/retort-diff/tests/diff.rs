//! The differ's tests: one binary, one module per area.

mod diff {
    pub mod support;

    mod compare;
    mod hazards;
    mod order;
    mod property;
}
