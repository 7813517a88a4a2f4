# ---- control/t: pre-stop steps within their budgets, then the recipe's stop signal ----
# runsv runs this before it would send TERM; exit 0 means "done, do not send it".
ik_instance_load
# shellcheck disable=SC2034 # where the pre-stop steps log, when the recipe has any
console_log=$RUNIT_LOG
read -r pid <supervise/pid 2>/dev/null || exit 1
case $pid in ''|*[!0-9]*) exit 1 ;; esac
# runsv waits for this script before it reaps: a daemon that exits meanwhile
# stays a zombie, which ends the steps' waits.
# shellcheck disable=SC2034 # read by the steps' polls, when the recipe has any
ik_main_pid=$pid
ik_before_stop
kill -s "$STOP_SIGNAL" "$pid" || exit 1
exit 0
