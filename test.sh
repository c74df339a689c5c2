#!/usr/bin/env bash
# The README's test command: builds and runs every test (xunit, then the Pester suite in a real pwsh) and prints,
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

# pwsh and Pester for the Pester suite, installed when missing (a .NET global tool and a NuGet download). Not there
# afterwards is a failure of the run, never a silent skip.
export PATH="${DOTNET_CLI_HOME:-$HOME}/.dotnet/tools:$PATH"
pwsh_ready=1
scripts/install-pwsh.sh || pwsh_ready=0

# The module folder (output/VmProbe/<version>/) is packaged before the xunit run, whose real-pwsh tests import it, and
# is what the Pester suite tests.
packaged=0
if [ "$pwsh_ready" -eq 1 ]; then
    if pwsh -NoProfile -NonInteractive -File build.ps1 -Task Package </dev/null; then
        packaged=1
    else
        echo "build.ps1 -Task Package failed: the Pester suite cannot run"
    fi
fi

extra_failures=0
set +e
dotnet test VmProbe.sln -c Release --logger trx --results-directory "$results" </dev/null
dotnet_status=$?
set -e

pester_passed=0 pester_failed=0 pester_skipped=0
if [ "$packaged" -eq 1 ]; then
    # Pester runs against the module packaged above; its counts join the final line.
    summary="$results/pester-summary.txt"
    mkdir -p "$results"
    set +e
    pwsh -NoProfile -NonInteractive -File build.ps1 -Task Pester -PesterSummaryPath "$summary" </dev/null
    pester_status=$?
    set -e
    if [ -f "$summary" ]; then
        read -r pester_passed pester_failed pester_skipped < "$summary" || true
    else
        echo "Pester (build.ps1 -Task Pester) wrote no summary: Pester did not run"
    fi
    if [ "$pester_status" -ne 0 ] && [ "${pester_failed:-0}" -eq 0 ]; then
        echo "Pester (build.ps1 -Task Pester) failed with exit code $pester_status"
        extra_failures=$((extra_failures + 1))
    fi
elif [ "$pwsh_ready" -eq 1 ]; then
    echo "Pester tests not run: build.ps1 -Task Package failed (see above)"
    extra_failures=$((extra_failures + 1))
else
    echo "Pester tests not run: scripts/install-pwsh.sh could not provide pwsh 7.4+ and Pester 5.5+ (see above)"
    extra_failures=$((extra_failures + 1))
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

# Failed tests and their first message lines, last so that a log's tail shows them.
if [ "$failed" -gt 0 ]; then
    echo
    echo "Failed tests:"
    for trx in "${trx_files[@]}"; do
        awk '
            /<UnitTestResult / && /outcome="Failed"/ {
                name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name); inresult = 1; msg = ""
            }
            inresult && /<Message>/ { inmsg = 1 }
            inmsg { msg = msg $0 " " }
            inmsg && /<\/Message>/ { inmsg = 0 }
            inresult && /<\/UnitTestResult>/ {
                gsub(/.*<Message>|<\/Message>.*/, "", msg); gsub(/[[:space:]]+/, " ", msg)
                printf "  FAILED %s: %s\n", name, substr(msg, 1, 600); inresult = 0
            }
        ' "$trx"
    done | sed -e 's/&quot;/"/g' -e "s/&apos;/'/g" -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&#xA;/ /g' -e 's/&amp;/\&/g'
fi

if [ -s "$results/pester-summary.txt.failed" ]; then
    echo
    echo "Failed Pester tests:"
    cat "$results/pester-summary.txt.failed"
fi

# A failed build or crashed test host leaves no failed test in any TRX: count it as one failure so it shows.
if [ "$dotnet_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    echo "dotnet test failed with exit code $dotnet_status and no failed test was recorded (build failure or test host crash)"
    extra_failures=$((extra_failures + 1))
fi
passed=$((passed + pester_passed))
skipped=$((skipped + pester_skipped))
failed=$((failed + extra_failures + pester_failed))

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
