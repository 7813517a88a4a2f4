# ---- check: ready when the recipe's readiness test passes ----
ik_instance_load
ik_ready
