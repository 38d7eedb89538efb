# Everyday recipes: one-line wrappers over cargo. The README's commands do
# not need just.

# Autogenerate and apply a revision for the example TodoApp models (SQLite)
demo:
    cargo run -p retort-cli --example todoapp

# Run every test
test:
    cargo test --workspace

# Clippy with warnings as errors, and the format check
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Format the code
fmt:
    cargo fmt --all

# Run the tests, then review changed snapshots
snap:
    cargo insta test --workspace --review

# Run one differ fixture end to end, e.g. `just fixture add_column_nullable`
fixture case:
    RETORT_FIXTURE={{case}} cargo test -p retort-cli --test cli fixtures

# What CI runs
ci:
    bash .ci/run
