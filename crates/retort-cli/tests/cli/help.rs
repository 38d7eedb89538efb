//! `retort --help` and each subcommand's help, snapshotted so that CLI
//! changes show in review.

use crate::{binary, workspace_root};
use retort_test_support::TempProject;

#[test]
fn help_texts() {
    let project = TempProject::empty(binary());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(workspace_root().join("snapshots/cli"));
    settings.set_prepend_module_to_snapshot(false);
    let commands = [
        "",
        "init",
        "autogen",
        "revision",
        "diff",
        "check",
        "lint",
        "upgrade",
        "downgrade",
        "current",
        "history",
        "heads",
        "show",
        "stamp",
        "merge",
        "inspect",
    ];
    for command in commands {
        let mut args: Vec<&str> = Vec::new();
        if !command.is_empty() {
            args.push(command);
        }
        args.push("--help");
        let run = project.retort(&args).success("help");
        let name = if command.is_empty() {
            "retort"
        } else {
            command
        };
        settings.bind(|| insta::assert_snapshot!(format!("help@{name}"), run.stdout));
    }
}
