#!/usr/bin/env bash
# The README's test command: builds and runs every test (xunit, then Pester when pwsh is present) and prints,
# as its last line, "N passed, N failed, N skipped". Skipped tests are listed with their reasons first.
# Exit status is non-zero when a test failed or the build failed.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

results=TestResults

# The Debian packages the tests use for real (libvirtd + QEMU/TCG, promtool, node_exporter, perf): installed when missing.
scripts/install-packages.sh test

# The PowerShell syntax tests parse every .ps1/.psm1/.psd1 with tree-sitter-powershell (npm). Without node the
# tests skip with that reason; a failed install is shown here and the tests skip saying node_modules is missing.
if command -v npm >/dev/null 2>&1 && [ ! -d tests/tools/node_modules/tree-sitter-powershell ]; then
    npm ci --prefix tests/tools --no-audit --no-fund </dev/null || echo "npm ci in tests/tools failed: the PowerShell syntax tests will be skipped"
fi
rm -rf "$results"

extra_failures=0
set +e
dotnet test VmProbe.sln -c Release --logger trx --results-directory "$results" </dev/null
dotnet_status=$?
set -e

if command -v pwsh >/dev/null 2>&1 && [ -f build.ps1 ]; then
    set +e
    pwsh -NoProfile -File build.ps1 -Task Test </dev/null
    pester_status=$?
    set -e
    if [ "$pester_status" -ne 0 ]; then
        echo "Pester (build.ps1 -Task Test) failed with exit code $pester_status"
        extra_failures=$((extra_failures + 1))
    fi
fi

passed=0 failed=0 skipped=0
shopt -s nullglob
trx_files=("$results"/*.trx)
counter() { # counter NAME LINE -> the attribute's number, 0 when absent
    local value
    value=$(printf '%s' "$2" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]\+' || true)
    echo "${value:-0}"
}
for trx in "${trx_files[@]}"; do
    line=$(grep -o '<Counters [^>]*>' "$trx" || true)
    [ -n "$line" ] || continue
    total=$(counter total "$line")
    executed=$(counter executed "$line")
    passed=$((passed + $(counter passed "$line")))
    failed=$((failed + $(counter failed "$line") + $(counter error "$line") + $(counter timeout "$line") + $(counter aborted "$line")))
    skipped=$((skipped + total - executed))
done

# Skipped tests and why (xunit writes the Skip reason as the result's ErrorInfo message).
if [ "$skipped" -gt 0 ]; then
    echo
    echo "Skipped tests:"
    for trx in "${trx_files[@]}"; do
        awk '
            /<UnitTestResult / && /outcome="NotExecuted"/ {
                name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name); inresult = 1; msg = ""
            }
            inresult && /<Message>/ { inmsg = 1 }
            inmsg { msg = msg $0 " " }
            inmsg && /<\/Message>/ { inmsg = 0 }
            inresult && (/<\/UnitTestResult>/ || (/<UnitTestResult / && /\/>[[:space:]]*$/)) {
                gsub(/.*<Message>|<\/Message>.*/, "", msg); gsub(/[[:space:]]+/, " ", msg)
                printf "  SKIPPED %s: %s\n", name, msg; inresult = 0
            }
        ' "$trx"
    done | sed -e 's/&quot;/"/g' -e "s/&apos;/'/g" -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&#xA;/ /g' -e 's/&amp;/\&/g'
fi

# A failed build or crashed test host leaves no failed test in any TRX: count it as one failure so it shows.
if [ "$dotnet_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    echo "dotnet test failed with exit code $dotnet_status and no failed test was recorded (build failure or test host crash)"
    extra_failures=$((extra_failures + 1))
fi
failed=$((failed + extra_failures))

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
