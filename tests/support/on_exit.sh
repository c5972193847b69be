# shellcheck shell=bash
# on_exit COMMAND: run COMMAND when this shell exits, and only in this shell (sourced by the
# test and bench scripts; install it in place of `trap COMMAND EXIT`).
#
# Why not a plain EXIT trap: bash (5.2 here) runs an inherited EXIT trap in a subshell that a
# signal kills before the subshell has reset its traps. A watchdog `( sleep 60 && kill ... ) &`
# killed right after it was forked (its guarded command had already ended) then ran the test's
# cleanup: it killed the receiver, removed the namespaces and deleted the work directory under
# the running test, and bash printed "wait_for: No record of process N". The guard compares
# BASHPID with the pid of the shell that installed the trap.
on_exit()
{
	# shellcheck disable=SC2064 # expanded now on purpose: the installing shell's pid
	trap "[[ \$BASHPID != $BASHPID ]] || { $1
}" EXIT
}
