# gomig shell integration for zsh: eval "$(gomig init zsh)"
# Puts gomig's shims first on PATH (once), and wraps `gomig` so `gomig shell` can change this
# shell. No prompt or cd hook: the `go` shim resolves the version on every call.
case ":${PATH}:" in
  *:'__GOMIG_SHIMS__':*) ;;
  *) export PATH='__GOMIG_SHIMS__'"${PATH:+:${PATH}}" ;;
esac
export GOMIG_SHELL=zsh
gomig() {
  case " $* " in
    *" -h "*|*" --help "*) command '__GOMIG_EXE__' "$@"; return ;;
  esac
  if [[ "${1-}" == shell ]]; then
    local __gomig_out
    __gomig_out="$(command '__GOMIG_EXE__' "$@")" || return
    eval "$__gomig_out"
  else
    command '__GOMIG_EXE__' "$@"
  fi
}
