# gomig completion for fish: gomig itself completes the word under the cursor (clap_complete's
# engine, with installed toolchains from the store and releases from the cached index).
function __gomig_complete
    set -l words (commandline --current-process --tokenize --cut-at-cursor) "$(commandline --current-token)"
    _GOMIG_COMPLETE=fish command '__GOMIG_EXE__' -- $words 2>/dev/null
end
complete --erase --command gomig
complete --keep-order --exclusive --command gomig --arguments '(__gomig_complete)'
