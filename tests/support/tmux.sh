# shellcheck shell=bash
# offrx-view driven through tmux (sourced by the viewer and demo tests): needs $VIEW,
# $WORK and $TMUX_SESSION; the caller kills the session at exit.
# tmux: the viewer in a detached 160x50 terminal
view_start() { # view_start ARGS...
	tmux kill-session -t "$TMUX_SESSION" 2>/dev/null || true
	tmux new-session -d -s "$TMUX_SESSION" -x 160 -y 50 \
		"env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 $VIEW $* 2>$WORK/view.err; echo \"exit=\$?\" >$WORK/view.exit; sleep 30"
}
keys() { tmux send-keys -t "$TMUX_SESSION" "$@"; }
screen() { tmux capture-pane -p -t "$TMUX_SESSION"; }
# wait_screen PATTERN [SECONDS]: until the screen shows PATTERN (extended regex)
wait_screen() {
	local i
	for i in $(seq $((${2:-10} * 10))); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
# wait_screen_gone PATTERN [SECONDS]: until the screen no longer shows PATTERN
wait_screen_gone() {
	local i
	for i in $(seq $((${2:-10} * 10))); do
		screen | grep -Eq -- "$1" || return 0
		sleep 0.1
	done
	return 1
}
# wait_exit [SECONDS]: until the viewer has exited; its status in $VIEW_RC
wait_exit() {
	local i
	for i in $(seq $((${1:-5} * 10))); do
		if [[ -s "$WORK/view.exit" ]]; then
			VIEW_RC=$(sed -n 's/^exit=//p' "$WORK/view.exit")
			return 0
		fi
		sleep 0.1
	done
	return 1
}
