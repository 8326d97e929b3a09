#!/usr/bin/env bash
# Runs each cargo-fuzz target (fuzz/fuzz_targets/) for a bounded time and fails if any of
# them finds a crash; the input that crashed is left in fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default: 60 s, every target
#
# An input that takes over 10 s counts as a crash. Needs the nightly toolchain (rustup
# toolchain install nightly); installs cargo-fuzz if it is missing. HERALD_FUZZ_SANITIZER
# picks the sanitizer (default none: herald's code is safe Rust and runs faster without one;
# `address` works too).
set -euo pipefail

seconds="${1:-60}"
if [[ $# -gt 0 ]]; then shift; fi
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi
sanitizer="${HERALD_FUZZ_SANITIZER:-none}"

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "cargo-fuzz needs the nightly toolchain: rustup toolchain install nightly" >&2
    exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

crashed=()
for target in "${targets[@]}"; do
    echo "== $target: ${seconds} s" >&2
    # The first folder collects new inputs (not committed); the seeds are read only.
    mkdir -p "fuzz/corpus/$target"
    options=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1)
    if [[ -f "fuzz/dicts/$target.dict" ]]; then
        options+=(-dict="fuzz/dicts/$target.dict")
    fi
    if ! cargo +nightly fuzz run --sanitizer "$sanitizer" "$target" \
        "fuzz/corpus/$target" "fuzz/seeds/$target" -- "${options[@]}"; then
        crashed+=("$target")
    fi
done

if [[ ${#crashed[@]} -gt 0 ]]; then
    echo "crashed: ${crashed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "no crash in ${targets[*]} (${seconds} s each)" >&2
