# gomig completion for zsh (needs compinit): gomig itself completes the word under the cursor
# (clap_complete's engine, with installed toolchains from the store and releases from the
# cached index).
_gomig() {
    local _CLAP_COMPLETE_INDEX=$(( CURRENT - 1 ))
    local _CLAP_IFS=$'\n'
    local -a completions
    completions=("${(@f)$( \
        _CLAP_IFS="$_CLAP_IFS" \
        _CLAP_COMPLETE_INDEX="$_CLAP_COMPLETE_INDEX" \
        _GOMIG_COMPLETE=zsh \
        '__GOMIG_EXE__' -- "${words[@]}" 2>/dev/null \
    )}")
    if [[ -n $completions ]]; then
        local -a dirs=() other=()
        local completion value
        for completion in $completions; do
            value="${completion%%:*}"
            if [[ "$value" == */ ]]; then
                if [[ "$completion" == *:* ]]; then
                    dirs+=("${value%/}:${completion#*:}")
                else
                    dirs+=("${value%/}")
                fi
            else
                other+=("$completion")
            fi
        done
        [[ -n $dirs ]] && _describe -V 'values' dirs -S '/' -r '/'
        [[ -n $other ]] && _describe -V 'values' other
    fi
}
compdef _gomig gomig
