# ---- run: the daemon replaces this script (chpst drops to the user; a user's own runsvdir runs it as the user already) ----
exec 2>&1
ik_instance_load
ik_prepare || exit 1
# This process becomes the daemon, and leads its process group (setsid):
# ./finish ends what the daemon leaves in it.
if ik_stat "$$" && ik_private_dir "$PID_DIR"; then
    ik_write_pidfile "$$" "$ik_start"
fi
ik_exec
