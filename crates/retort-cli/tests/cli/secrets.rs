//! Database passwords never reach the terminal: every command, for every
//! shape of URL that once leaked one, given through `-d`, `DATABASE_URL`,
//! retort.toml and a `${VAR}` in retort.toml. The URLs point at the test
//! servers' ports with a user that does not exist, so a URL that parses
//! gets as far as the server's refusal (or a refused connection where no
//! server runs) and never changes a database.

use crate::binary;
use retort_test_support::{RunResult, TempProject};

/// Each URL holds its own password, `Zq<n>Secret`.
const URLS: &[(&str, &str)] = &[
    // An unencoded `/` or `?` in the password ends the host part early.
    (
        "postgres://nobody:ab/Zq1Secret@127.0.0.1:5432/test",
        "Zq1Secret",
    ),
    (
        "postgres://nobody:ab?Zq2Secret@127.0.0.1:5432/test",
        "Zq2Secret",
    ),
    // … and where the part before it reads as a port, the URL parses.
    (
        "postgres://nobody:12/Zq3Secret@127.0.0.1:5432/test",
        "Zq3Secret",
    ),
    (
        "mysql://nobody:34?Zq4Secret@127.0.0.1:3306/test",
        "Zq4Secret",
    ),
    // Password query parameters.
    (
        "postgres://nobody@127.0.0.1:5432/test?sslpassword=Zq5Secret",
        "Zq5Secret",
    ),
    (
        "postgres://nobody@127.0.0.1:5432/test?password=Zq6Secret",
        "Zq6Secret",
    ),
    (
        "mysql://nobody@127.0.0.1:3306/test?password=Zq7Secret",
        "Zq7Secret",
    ),
    // No `//`.
    ("postgres:Zq8Secret@127.0.0.1/test", "Zq8Secret"),
    // Plain user-info passwords.
    (
        "postgres://nobody:Zq9Secret@127.0.0.1:5432/test",
        "Zq9Secret",
    ),
    (
        "mysql://nobody:Zq10Secret@127.0.0.1:3306/test",
        "Zq10Secret",
    ),
    (
        "mariadb://nobody:Zq11Secret@127.0.0.1:3306/test",
        "Zq11Secret",
    ),
];

/// Every subcommand that reads the configuration, with the arguments it
/// needs to get as far as the database.
const COMMANDS: &[&[&str]] = &[
    &["diff"],
    &["check"],
    &["autogen", "-m", "next"],
    &["autogen", "--verify", "-m", "next"],
    &["revision", "-m", "next"],
    &["revision", "--autogenerate", "-m", "next"],
    &["lint"],
    &["upgrade"],
    &["upgrade", "--sql"],
    &["downgrade", "base", "--accept-data-loss"],
    &["downgrade", "-1"],
    &["current"],
    &["history"],
    &["heads"],
    &["show", "head"],
    &["stamp", "head"],
    &["merge", "-m", "next"],
    &["inspect"],
];

const MODELS: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n";

fn config(url_line: &str) -> String {
    format!(
        "[database]\n{url_line}\n\n[models]\npaths = [\"schema.sql\"]\n\n[migrations]\ndir = \"migrations\"\n"
    )
}

fn assert_clean(run: &RunResult, secret: &str, what: &str) {
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "{what} printed the password {secret}\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn no_command_prints_a_database_password() {
    let project = TempProject::sqlite(binary(), MODELS);
    // One revision, so that upgrade, downgrade, show and stamp have work.
    project
        .retort(&["autogen", "-m", "create users"])
        .success("autogen on SQLite");
    let sqlite_config = project.read("retort.toml");
    let mut runs = 0;
    for (url, secret) in URLS {
        assert!(url.contains(secret), "{url}");
        for args in COMMANDS {
            let flag: Vec<&str> = ["-d", url].iter().chain(args.iter()).copied().collect();
            project.write("retort.toml", &sqlite_config);
            let run = project.retort(&flag);
            assert_clean(&run, secret, &format!("-d {url} {}", args.join(" ")));

            let env = [("DATABASE_URL", *url)];
            let run = project.retort_with_env(args, &env);
            assert_clean(
                &run,
                secret,
                &format!("DATABASE_URL={url} {}", args.join(" ")),
            );

            project.write("retort.toml", &config(&format!("url = \"{url}\"")));
            let run = project.retort(args);
            assert_clean(
                &run,
                secret,
                &format!("retort.toml url = {url}, {}", args.join(" ")),
            );

            project.write("retort.toml", &config("url = \"${RETORT_SECRET_URL}\""));
            let env = [("RETORT_SECRET_URL", *url)];
            let run = project.retort_with_env(args, &env);
            assert_clean(
                &run,
                secret,
                &format!("${{RETORT_SECRET_URL}}={url}, {}", args.join(" ")),
            );

            // A syntax error on the `url =` line: toml would quote it.
            project.write("retort.toml", &config(&format!("url = \"{url}\" x")));
            let run = project.retort(args);
            assert_clean(
                &run,
                secret,
                &format!("bad retort.toml line with {url}, {}", args.join(" ")),
            );
            assert!(
                run.code == 2 && run.stderr.contains("retort.toml:2:"),
                "the TOML error keeps its line: {}",
                run.stderr
            );
            runs += 5;
        }
    }
    assert_eq!(runs, URLS.len() * COMMANDS.len() * 5);
}

#[test]
fn a_refused_url_says_what_to_fix() {
    let project = TempProject::sqlite(binary(), MODELS);
    let run = project
        .retort(&[
            "-d",
            "postgres://nobody:ab/Zq1Secret@127.0.0.1:5432/test",
            "diff",
        ])
        .expect_code(2, "unencoded slash");
    assert!(run.stderr.contains("percent-encode"), "{}", run.stderr);
    let run = project
        .retort(&["-d", "postgres:Zq8Secret@127.0.0.1/test", "diff"])
        .expect_code(2, "no slashes");
    assert!(
        run.stderr.contains("must start with `postgres://`"),
        "{}",
        run.stderr
    );
    // A URL that is accepted names the server with the password hidden.
    let run = project
        .retort(&[
            "-d",
            "postgres://nobody:Zq9Secret@127.0.0.1:5432/test",
            "diff",
        ])
        .expect_code(2, "unknown user");
    assert!(
        run.stderr
            .contains("postgres://nobody:***@127.0.0.1:5432/test"),
        "{}",
        run.stderr
    );
}

#[test]
fn sqlite_urls_work_as_before() {
    for url in ["sqlite:app.db", "sqlite://app.db", "sqlite:app.db?mode=rwc"] {
        let project = TempProject::sqlite(binary(), MODELS);
        project
            .retort(&["-d", url, "autogen", "-m", "create users"])
            .success(url);
        project.retort(&["-d", url, "upgrade"]).success(url);
        project
            .retort(&["check"])
            .success("the file retort.toml names");
    }
}
