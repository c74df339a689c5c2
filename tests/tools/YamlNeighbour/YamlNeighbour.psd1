@{
    RootModule        = 'YamlNeighbour.dll'
    ModuleVersion     = '1.0.0'
    GUID              = '0f6f7e52-8d1f-4c1e-9a8e-2b7f1e0c4a11'
    Author            = 'VmProbe tests'
    Description       = 'A module with its own YamlDotNet, loaded in the same session as VmProbe by tests/VmProbe.Isolation.Tests.ps1.'
    PowerShellVersion = '7.4'
    # Loaded at import, into the default load context: as a module that ships YamlDotNet usually does.
    RequiredAssemblies = @('YamlDotNet.dll')
    CmdletsToExport   = @('ConvertFrom-NeighbourYaml')
    FunctionsToExport = @()
    AliasesToExport   = @()
    VariablesToExport = @()
}
