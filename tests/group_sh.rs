//! The shell library's `ik_group_left`, run under sh (dash on Debian): a
//! process group with a live member is seen, whatever its size, and one with
//! none left is not. What a stop's clean-up of orphans relies on.

use std::process::Command;

use initkit::render::shell;

fn library(names: &[&str]) -> String {
    shell::library().into_iter().filter(|(n, _)| names.contains(&n.as_str())).map(|(_, body)| body + "\n").collect()
}

#[test]
fn a_group_with_a_live_process_is_seen_and_an_empty_one_is_not() {
    let lib = library(&["ik_stat", "ik_stat_fields", "ik_group_left"]);
    assert!(lib.contains("ik_group_left()") && lib.contains("ik_stat()"));
    // A group of its own (setsid), its leader gone and a child left: the orphan
    // a stop must find. Then the child is killed and reaped by init.
    let script = format!(
        "{lib}\n\
         setsid sh -c 'sleep 30 & echo $$ > \"$1\"; exit 0' sh \"$1/pgid\" &\n\
         wait\n\
         g=$(cat \"$1/pgid\")\n\
         sleep 0.2\n\
         if ik_group_left \"$g\"; then echo live; else echo none; fi\n\
         kill -s KILL -- \"-$g\"\n\
         i=0; while kill -s 0 -- \"-$g\" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done\n\
         if ik_group_left \"$g\"; then echo live; else echo none; fi\n\
         if ik_group_left 999999999; then echo live; else echo none; fi\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new("sh").arg("-c").arg(script).arg("sh").arg(dir.path()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "live\nnone\nnone\n", "{}", String::from_utf8_lossy(&o.stderr));
}
