//! `--db postgres://…` at the edges (SPEC "Many stores, one database"):
//! a server that cannot be reached, a malformed URL, a database that is not
//! vipctl's, and a password that never reaches the screen.

use crate::workdir::{vipctl, Out, Workdir};
use crate::workdir_db::{pg_server, PgDatabase};

fn run(args: &[&str]) -> Out {
    let out = vipctl().args(args).output().expect("run vipctl");
    Out::of(args, &out)
}

#[test]
fn an_unreachable_server_is_named_without_its_password() {
    // Port 1 on the loopback: nothing listens there.
    let url = "postgres://shop:s3cret-pw@127.0.0.1:1/vip";
    for args in [
        vec!["--db", url, "audit"],
        vec!["--db", url, "init"],
        vec!["--db", url, "member", "show", "C000001"],
    ] {
        let o = run(&args);
        assert_eq!(o.code, 1, "{args:?}: {}", o.stderr);
        assert!(
            o.stderr.contains("postgres://shop:***@127.0.0.1:1/vip"),
            "{args:?}: {}",
            o.stderr
        );
        assert!(!o.stderr.contains("s3cret-pw"), "{args:?}: {}", o.stderr);
        assert!(!o.stdout.contains("s3cret-pw"), "{args:?}: {}", o.stdout);
    }
}

#[test]
fn a_malformed_url_is_refused_with_a_reason() {
    let o = run(&["--db", "postgres://", "audit"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("cannot connect to the database at postgres://"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("host"), "{}", o.stderr);
}

#[test]
fn a_server_database_that_is_not_vipctls_is_never_touched() {
    let Some(server) = pg_server() else {
        eprintln!("needs VIPCTL_TEST_PG");
        return;
    };
    let db = PgDatabase::create(server);
    // Someone else's table in it.
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    c.batch_execute("CREATE TABLE orders (id BIGINT PRIMARY KEY); INSERT INTO orders VALUES (7)")
        .unwrap();
    let o = run(&["--db", &db.url, "init"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("init needs an empty database"),
        "{}",
        o.stderr
    );
    let o = run(&["--db", &db.url, "audit"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("not a vipctl database"), "{}", o.stderr);
    let tables: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "nothing was created beside the other table");
    let n: i64 = c
        .query_one("SELECT COUNT(*) FROM orders", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

#[test]
fn init_twice_on_a_server_refuses_the_second_and_keeps_the_first() {
    let wd = Workdir::setup();
    if !wd.on_pg() {
        eprintln!("needs VIPCTL_TEST_PG");
        return;
    }
    let before = wd.counts();
    let o = wd.run(&["init"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("already exists"), "{}", o.stderr);
    assert_eq!(wd.counts(), before);
    wd.audit_passes();
}
