# VmProbe script module: the cmdlets come from bin/VmProbe.dll (NestedModules; removing the module releases what they
# hold); this file adds Start-VmProbe, the collection loop composed from Open-VmProbe, Invoke-VmProbeCycle and Close-VmProbe.

Set-StrictMode -Version 3.0

New-Alias -Name Read-VmPerfCounters -Value Read-VmPerfCounter -Force

function Start-VmProbe {
    # .ExternalHelp VmProbe-help.xml
    [CmdletBinding()]
    [OutputType([System.Management.Automation.Job])]
    param(
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string] $ConfigPath,

        [switch] $Once,

        [switch] $AsJob
    )

    if ($AsJob) {
        $manifestPath = Join-Path -Path $PSScriptRoot -ChildPath 'VmProbe.psd1'
        $resolvedConfig = $null
        if ($ConfigPath) {
            $resolvedConfig = (Resolve-Path -LiteralPath $ConfigPath -ErrorAction Stop).ProviderPath
        }

        $jobBody = {
            param($ModuleManifest, $JobConfigPath, $JobOnce)
            Import-Module -Name $ModuleManifest -ErrorAction Stop
            $arguments = @{ Once = $JobOnce }
            if ($JobConfigPath) {
                $arguments.ConfigPath = $JobConfigPath
            }

            Start-VmProbe @arguments
        }
        $jobArguments = @($manifestPath, $resolvedConfig, $Once.IsPresent)
        if (Get-Command -Name Start-ThreadJob -ErrorAction Ignore) {
            return Start-ThreadJob -Name 'VmProbe' -ScriptBlock $jobBody -ArgumentList $jobArguments
        }

        return Start-Job -Name 'VmProbe' -ScriptBlock $jobBody -ArgumentList $jobArguments
    }

    $openArguments = @{}
    if ($ConfigPath) {
        $openArguments.ConfigPath = $ConfigPath
    }

    # The loop is the engine's, the same the vmprobe runner runs: its schedule, source health, error de-duplication,
    # discovery fallback and perf bookkeeping live in the probe. This function only steps it, one cycle per
    # Invoke-VmProbeCycle, and closes it however the loop ends (Ctrl+C, Stop-Job, an error): no perf fd, libvirt
    # connection or temporary file outlives it. Without -ConfigPath, /etc/vmprobe/config.yaml is read.
    $probe = Open-VmProbe @openArguments -ErrorAction Stop
    Write-Verbose ("VmProbe: sources {0}, every {1} ms, to {2}" -f ($probe.Sources -join ', '), $probe.Config.DelayMs, $probe.Endpoint)
    try {
        do {
            $cycle = $probe | Invoke-VmProbeCycle
            if ($null -ne $cycle) {
                Write-Verbose ("VmProbe: cycle {0}: {1} domain(s) in {2:N0} ms" -f $cycle.Cycle, $cycle.Domains, $cycle.Duration.TotalMilliseconds)
            }
        } until ($Once -or $null -eq $cycle)
    }
    finally {
        # A method call, not Close-VmProbe: after Ctrl+C or Stop-Job the pipeline is stopping and refuses new commands.
        [void] $probe.Close()
    }
}

Export-ModuleMember -Function 'Start-VmProbe' -Cmdlet '*' -Alias 'Read-VmPerfCounters'
