# Sourced first by the bench scripts of loadtest/: strict mode, this checkout's settings
# (scripts/env.sh) with the checkout as working directory, BENCH_DIR (this folder), and say
# and die that name the script:  source "$(dirname "${BASH_SOURCE[0]}")/bench/prologue.sh" NAME
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$BENCH_DIR/../../scripts/env.sh"
cd "$QUICKSELL_ROOT"
BENCH_SCRIPT_NAME=$1
say() { echo "$BENCH_SCRIPT_NAME: $*" >&2; }
die() { say "error: $*"; exit 1; }

# Sets each VARIABLE of a table on stdin ("VARIABLE KNOB DEFAULT" lines) to the environment
# variable KNOB when it is set and not empty, else to DEFAULT (the rest of the line).
read_knobs() {
    local variable knob default
    while read -r variable knob default; do printf -v "$variable" '%s' "${!knob:-$default}"; done
}

# MODE from the environment variable MODE_KNOB (full or short; full when unset), then each
# SETTING of a table on stdin ("SETTING FULL SHORT KNOB" lines) to its FULL or SHORT default;
# the environment variable KNOB wins when set and not empty ("-": no knob).
read_mode_settings() { # mode_knob
    local setting full short knob value
    MODE="${!1:-full}"
    [ "$MODE" = full ] || [ "$MODE" = short ] || die "$1 must be full or short, got '$MODE'"
    while read -r setting full short knob; do
        value=$full
        if [ "$MODE" = short ]; then value=$short; fi
        if [ "$knob" != - ]; then value="${!knob:-$value}"; fi
        printf -v "$setting" '%s' "$value"
    done
}
