# Sourced by the build scripts. `with_progress WHAT CMD...` runs CMD and prints
# "<progress_tag>:   ... WHAT still running (N s)" to stderr every 30 s meanwhile,
# so a CI log shows a long build is alive. Callers set progress_tag and declare
# `ticker=""`, and kill "$ticker" in their EXIT trap.
with_progress() {
  local what="$1"
  shift
  local t0=$SECONDS
  (
    # $$ is the calling script: the ticker ends with it even if it is killed. The
    # sleep must not hold stdout, or a pipe reading the script's output would stay
    # open for up to 30 s after the ticker is killed.
    while sleep 30 >/dev/null 2>&1 && kill -0 $$ 2>/dev/null; do
      echo "${progress_tag:-build}:   ... $what still running ($((SECONDS - t0)) s)" >&2
    done
  ) &
  ticker=$!
  local rc=0
  "$@" || rc=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  ticker=""
  return "$rc"
}
