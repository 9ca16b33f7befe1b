# gomig shell integration for fish: gomig init fish | source
# Puts gomig's shims first on PATH (exactly once, moving them to the front if something was
# put before them), and wraps `gomig` so `gomig shell` can change this shell. No prompt or cd
# hook: the `go` shim resolves the version on every call.
while contains -- '__GOMIG_SHIMS__' $PATH
    set -e PATH[(contains -i -- '__GOMIG_SHIMS__' $PATH)]
end
set -gx PATH '__GOMIG_SHIMS__' $PATH
set -gx GOMIG_SHELL fish
function gomig --description 'Go toolchain manager'
    # The subcommand is the first word that is not an option (`gomig -q shell 1.22`); help
    # always goes straight to the terminal.
    set -l sub
    for arg in $argv
        switch $arg
            case -h --help
                set sub
                break
            case '-*'
            case '*'
                test -n "$sub"; or set sub $arg
        end
    end
    if test "$sub" = shell
        # A pipe, not a command substitution: fish does not apply the function's stderr
        # redirection (`gomig shell 1.22 2>/dev/null`) to a command substitution.
        GOMIG_SHELL_EVAL=1 command '__GOMIG_EXE__' $argv | read -lz out
        set -l st $pipestatus[1]
        test $st -eq 0; or return $st
        printf '%s' $out | source
    else
        command '__GOMIG_EXE__' $argv
    end
end
