# gomig shell integration for bash and zsh: eval "$(gomig init bash)" or eval "$(gomig init zsh)"
# Puts gomig's shims first on PATH (exactly once, moving them to the front if something was
# put before them), and wraps `gomig` so `gomig shell` can change this shell. No prompt or cd
# hook: the `go` shim resolves the version on every call.
__gomig_shims='__GOMIG_SHIMS__'
__gomig_path=":${PATH-}:"
while :; do
  case $__gomig_path in
    *:"$__gomig_shims":*)
      __gomig_path="${__gomig_path%%:"$__gomig_shims":*}:${__gomig_path#*:"$__gomig_shims":}" ;;
    *) break ;;
  esac
done
__gomig_path=${__gomig_path#:}
__gomig_path=${__gomig_path%:}
export PATH="$__gomig_shims${__gomig_path:+:$__gomig_path}"
unset __gomig_shims __gomig_path
export GOMIG_SHELL=__GOMIG_SHELL__
gomig() {
  # The subcommand is the first word that is not an option (`gomig -q shell 1.22`); help
  # always goes straight to the terminal.
  local __gomig_arg __gomig_sub=
  for __gomig_arg in "$@"; do
    case $__gomig_arg in
      -h|--help) __gomig_sub=; break ;;
      -*) ;;
      *) [ -n "$__gomig_sub" ] || __gomig_sub=$__gomig_arg ;;
    esac
  done
  if [ "$__gomig_sub" = shell ]; then
    local __gomig_out
    __gomig_out="$(GOMIG_SHELL_EVAL=1 command '__GOMIG_EXE__' "$@")" || return
    eval "$__gomig_out"
  else
    command '__GOMIG_EXE__' "$@"
  fi
}
