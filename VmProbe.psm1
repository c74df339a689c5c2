# VmProbe script module: the cmdlets come from bin/VmProbe.dll (NestedModules); this file adds Start-VmProbe,
# the collection loop built from those cmdlets, and closes every perf session when the module is removed.

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

    $configArguments = @{}
    if ($ConfigPath) {
        $configArguments.Path = $ConfigPath
    }

    # Without -ConfigPath, Get-VmProbeConfig reads /etc/vmprobe/config.yaml.
    $config = Get-VmProbeConfig @configArguments -ErrorAction Stop
    # discovery: process scans /proc for QEMU processes (Get-VmDomain -Uri process); libvirt bulk stats need libvirt then.
    $domainUri = if ($config.Discovery -eq [VmProbe.Config.DomainDiscovery]::Process) { 'process' } else { $config.Url }
    $eventNames = @($config.Events | ForEach-Object { $_.CanonicalName })
    $perVcpu = $config.Attribution -eq [VmProbe.Config.PerfAttribution]::Thread
    $interval = [TimeSpan]::FromMilliseconds($config.DelayMs)
    Write-Verbose ("VmProbe: {0} event(s), every {1} ms, to {2}" -f $eventNames.Count, $config.DelayMs, $config.Endpoint)

    # A step that fails terminally (libvirtd gone, an unwritable endpoint) must not end the loop: its error is
    # reported and the cycle goes on, as in the runner. Like the runner, a step reports the same error once, not every
    # cycle for weeks, and says when it works again. Ctrl-C (PipelineStoppedException) still ends the loop.
    $failingSteps = @{}
    function Invoke-VmProbeStep {
        param(
            [string] $Name,

            [scriptblock] $Step
        )

        try {
            & $Step
            if ($failingSteps.ContainsKey($Name)) {
                $failingSteps.Remove($Name)
                Write-Verbose "VmProbe: $Name works again."
            }
        }
        catch [System.Management.Automation.PipelineStoppedException] {
            throw
        }
        catch {
            $message = $_.Exception.Message
            if (-not $failingSteps.ContainsKey($Name) -or $failingSteps[$Name] -ne $message) {
                $failingSteps[$Name] = $message
                Write-Error -ErrorRecord $_ -ErrorAction Continue
            }
        }
    }

    # Perf sessions by domain (UUID, or name when the UUID is unknown), kept in step with the domains that come and go.
    $domainSessions = @{}
    $hostSession = $null
    $lastDomainWarnings = ''
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $tick = 0L
    try {
        while ($true) {
            # Its warnings (libvirt unreachable, domains from a /proc scan instead) are passed on when they change, not
            # every cycle: 3>&1 brings them into the output as WarningRecords.
            $listed = @(Invoke-VmProbeStep -Name 'domains' { Get-VmDomain -Uri $domainUri -ErrorAction Continue 3>&1 })
            $domains = @($listed | Where-Object { $_ -is [VmProbe.VmDomain] })
            $warnings = @($listed | Where-Object { $_ -is [System.Management.Automation.WarningRecord] } | ForEach-Object { $_.Message })
            if (($warnings -join "`n") -ne $lastDomainWarnings) {
                $warnings | ForEach-Object { Write-Warning $_ }
                $lastDomainWarnings = $warnings -join "`n"
            }

            # Get-VmDomain scans /proc when libvirt cannot be reached for a qemu URI: right for discovery auto, while
            # discovery libvirt wants libvirt's domains only (the runner reports the error and lists none).
            $scanned = $domains.Count -gt 0 -and $domains[0].Uri -eq 'process'
            if ($scanned -and $config.Discovery -eq [VmProbe.Config.DomainDiscovery]::Libvirt) {
                $domains = @()
            }

            if ($eventNames.Count -gt 0) {
                if ($null -eq $hostSession) {
                    # percpu: host counts per CPU, as the runner exports them.
                    $hostSession = Invoke-VmProbeStep -Name 'host perf' {
                        Start-VmPerfSession -Event $eventNames -IncludeHost -PerCpu:$config.PerCpu -Attribution $config.Attribution -ErrorAction Continue
                    }
                }

                $current = @{}
                foreach ($domain in $domains) {
                    $key = if ($domain.Uuid -ne [guid]::Empty) { $domain.Uuid.ToString() } else { $domain.Name }
                    $current[$key] = $true
                    if ($domain.Pid -le 0) {
                        continue # no QEMU process to count (inactive, or a test:/// domain)
                    }

                    if (-not $domainSessions.ContainsKey($key)) {
                        $session = Invoke-VmProbeStep -Name "perf of $key" {
                            $domain | Start-VmPerfSession -Event $eventNames -Attribution $config.Attribution -ErrorAction Continue
                        }
                        if ($null -ne $session) {
                            $domainSessions[$key] = $session
                        }
                    }
                }

                foreach ($key in @($domainSessions.Keys)) {
                    if (-not $current.ContainsKey($key)) {
                        Invoke-VmProbeStep -Name "perf of $key" { Stop-VmPerfSession -Session $domainSessions[$key] -Confirm:$false }
                        $domainSessions.Remove($key)
                    }
                }
            }

            if ($Once -and $eventNames.Count -gt 0) {
                # One read session, as vmprobe --once: counters opened just now count for one delay before they are read.
                Start-Sleep -Milliseconds $config.DelayMs
            }

            $samples = [System.Collections.Generic.List[object]]::new()
            foreach ($sample in @(Invoke-VmProbeStep -Name 'host stats' { Read-VmHostStat -ErrorAction Continue })) {
                $samples.Add($sample)
            }

            if ($domains.Count -gt 0) {
                if (-not $scanned) {
                    # libvirt's bulk stats; domains found by a /proc scan have no libvirt to ask.
                    foreach ($sample in @(Invoke-VmProbeStep -Name 'libvirt stats' { $domains | Read-VmDomainStat -Uri $config.Url -ErrorAction Continue })) {
                        $samples.Add($sample)
                    }
                }

                $running = @($domains | Where-Object { $_.Pid -gt 0 })
                if ($running.Count -gt 0) {
                    foreach ($sample in @(Invoke-VmProbeStep -Name 'scheduler stats' { $running | Read-VmSchedStat -Uri $domainUri -ErrorAction Continue })) {
                        $samples.Add($sample)
                    }
                }
            }

            $openSessions = @(@($hostSession) + @($domainSessions.Values) | Where-Object { $null -ne $_ })
            if ($openSessions.Count -gt 0) {
                foreach ($sample in @(Invoke-VmProbeStep -Name 'perf counters' { $openSessions | Read-VmPerfCounter -PerVcpu:$perVcpu -ErrorAction Continue })) {
                    $samples.Add($sample)
                }
            }

            # -Config carries naming: legacy; the same $config object every cycle keeps one legacy transform (perf deltas).
            Invoke-VmProbeStep -Name 'export' {
                Export-PromTextFile -Path $config.Endpoint -InputObject $samples.ToArray() -Prefix $config.Prefix -Config $config -Confirm:$false -ErrorAction Continue
            }

            if ($Once) {
                break
            }

            # Monotonic schedule: tick N is due at N * interval from the start, so a slow cycle does not shift the ones after.
            $tick++
            $wait = [TimeSpan]::FromTicks($interval.Ticks * $tick) - $clock.Elapsed
            if ($wait -le [TimeSpan]::Zero) {
                # Late: run the next cycle now and realign the schedule to the ticks still ahead.
                Write-Warning ("VmProbe: a cycle took longer than the {0} ms delay." -f $config.DelayMs)
                $tick = [long][Math]::Floor($clock.Elapsed.Ticks / $interval.Ticks)
                continue
            }

            Start-Sleep -Milliseconds ([int][Math]::Ceiling($wait.TotalMilliseconds))
        }
    }
    finally {
        # Runs on Ctrl-C and on errors too: never leave perf fds open.
        foreach ($session in @($domainSessions.Values) + @($hostSession)) {
            if ($null -ne $session) {
                [void] $session.Close()
            }
        }
    }
}

$ExecutionContext.SessionState.Module.OnRemove = {
    [void] [VmProbe.VmPerfSession]::CloseAll()
}

Export-ModuleMember -Function 'Start-VmProbe' -Cmdlet '*' -Alias 'Read-VmPerfCounters'
