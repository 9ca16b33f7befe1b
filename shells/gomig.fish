# gomig shell integration for fish: gomig init fish | source
# Puts gomig's shims first on PATH (once), and wraps `gomig` so `gomig shell` can change this
# shell. No prompt or cd hook: the `go` shim resolves the version on every call.
if not contains -- '__GOMIG_SHIMS__' $PATH
    set -gx PATH '__GOMIG_SHIMS__' $PATH
end
set -gx GOMIG_SHELL fish
function gomig --description 'Go toolchain manager'
    if contains -- -h $argv; or contains -- --help $argv
        command '__GOMIG_EXE__' $argv
        return
    end
    if test "$argv[1]" = shell
        set -l out (command '__GOMIG_EXE__' $argv); or return
        printf '%s\n' $out | source
    else
        command '__GOMIG_EXE__' $argv
    end
end
