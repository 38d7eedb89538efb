//! Test helpers for retort (placeholder until the CLI tests land).
