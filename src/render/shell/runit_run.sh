# ---- run: the daemon replaces this script (chpst drops to the user; a user's own runsvdir runs it as the user already) ----
exec 2>&1
ik_instance_load
ik_prepare || exit 1
ik_exec
