@{
    RootModule           = 'VmProbe.psm1'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '5d7f0c8e-3b9a-4a51-9a57-6c2e3f1d8b42'
    Author               = 'VmProbe contributors'
    CompanyName          = 'VmProbe'
    Copyright            = '(c) VmProbe contributors. MIT License.'
    Description          = 'perf_event, libvirt and procfs metrics of a Linux KVM host and its domains, written as a Prometheus node_exporter textfile.'
    PowerShellVersion    = '7.4'
    # VmProbe.Loader first: its initializer makes bin/lib/ (VmProbe.Core, YamlDotNet) load in the module's own
    # AssemblyLoadContext before PowerShell reflects over the cmdlets of bin/VmProbe.dll.
    NestedModules        = @('bin/VmProbe.Loader.dll', 'bin/VmProbe.dll')
    FormatsToProcess     = @('VmProbe.Format.ps1xml')
    FunctionsToExport    = @('Start-VmProbe')
    CmdletsToExport      = @(
        'Close-VmProbe'
        'ConvertTo-PromText'
        'Export-PromTextFile'
        'Get-VmDomain'
        'Get-VmPerfEvent'
        'Get-VmProbeConfig'
        'Invoke-VmProbeCycle'
        'Measure-VmKvmExit'
        'Open-VmProbe'
        'Read-VmDomainStat'
        'Read-VmHostStat'
        'Read-VmKvmStat'
        'Read-VmPerfCounter'
        'Read-VmPower'
        'Read-VmSchedStat'
        'Start-VmPerfSession'
        'Stop-VmPerfSession'
        'Watch-VmDomain'
    )
    AliasesToExport      = @('Read-VmPerfCounters')
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('KVM', 'libvirt', 'perf', 'Prometheus', 'Linux', 'monitoring')
            # The project's public repository; LICENSE is at its root. PowerShell Gallery packages need both URIs.
            LicenseUri   = 'https://github.com/vmprobe/vmprobe/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/vmprobe/vmprobe'
            ReleaseNotes = 'Initial release: binary cmdlets for perf_event counters, libvirt domain statistics and procfs/cgroup scheduler data of KVM domains, Prometheus textfile export, and the Start-VmProbe collection loop.'
        }
    }
}
