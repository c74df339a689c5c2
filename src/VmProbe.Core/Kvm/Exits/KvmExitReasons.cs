using System.Collections.Frozen;
using System.Globalization;

namespace VmProbe.Kvm.Exits;

/// <summary>The instruction set of a <c>kvm:kvm_exit</c> event (its <c>isa</c> field: KVM_ISA_VMX 1, KVM_ISA_SVM 2).</summary>
public enum KvmExitIsa
{
    Unknown = 0,
    Vmx = 1,
    Svm = 2,
}

/// <summary>
/// Exit reason names as the kernel prints them in the <c>kvm:kvm_exit</c> tracepoint (VMX_EXIT_REASONS in
/// arch/x86/include/uapi/asm/vmx.h, SVM_EXIT_REASONS in svm.h; the tables kvm_stat uses) and the userspace exit reasons
/// of <c>kvm:kvm_userspace_exit</c> (KVM_EXIT_* of include/uapi/linux/kvm.h). A number no table knows is kept as the
/// number, printed as the kernel prints it (<c>0x4d</c>), so a newer kernel's reason is still a stable label.
/// </summary>
public static class KvmExitReasons
{
    // VMX: the basic exit reason (low 16 bits); bit 31 is the FAILED_VMENTRY flag, which the tracepoint prints after the name.
    private static readonly FrozenDictionary<uint, string> Vmx = new Dictionary<uint, string>
    {
        [0] = "EXCEPTION_NMI", [1] = "EXTERNAL_INTERRUPT", [2] = "TRIPLE_FAULT", [3] = "INIT_SIGNAL", [4] = "SIPI_SIGNAL",
        [7] = "INTERRUPT_WINDOW", [8] = "NMI_WINDOW", [9] = "TASK_SWITCH", [10] = "CPUID", [12] = "HLT", [13] = "INVD",
        [14] = "INVLPG", [15] = "RDPMC", [16] = "RDTSC", [18] = "VMCALL", [19] = "VMCLEAR", [20] = "VMLAUNCH",
        [21] = "VMPTRLD", [22] = "VMPTRST", [23] = "VMREAD", [24] = "VMRESUME", [25] = "VMWRITE", [26] = "VMOFF",
        [27] = "VMON", [28] = "CR_ACCESS", [29] = "DR_ACCESS", [30] = "IO_INSTRUCTION", [31] = "MSR_READ",
        [32] = "MSR_WRITE", [33] = "INVALID_STATE", [34] = "MSR_LOAD_FAIL", [36] = "MWAIT_INSTRUCTION",
        [37] = "MONITOR_TRAP_FLAG", [39] = "MONITOR_INSTRUCTION", [40] = "PAUSE_INSTRUCTION", [41] = "MCE_DURING_VMENTRY",
        [43] = "TPR_BELOW_THRESHOLD", [44] = "APIC_ACCESS", [45] = "EOI_INDUCED", [46] = "GDTR_IDTR", [47] = "LDTR_TR",
        [48] = "EPT_VIOLATION", [49] = "EPT_MISCONFIG", [50] = "INVEPT", [51] = "RDTSCP", [52] = "PREEMPTION_TIMER",
        [53] = "INVVPID", [54] = "WBINVD", [55] = "XSETBV", [56] = "APIC_WRITE", [57] = "RDRAND", [58] = "INVPCID",
        [59] = "VMFUNC", [60] = "ENCLS", [61] = "RDSEED", [62] = "PML_FULL", [63] = "XSAVES", [64] = "XRSTORS",
        [67] = "UMWAIT", [68] = "TPAUSE", [74] = "BUS_LOCK", [75] = "NOTIFY", [77] = "TDCALL", [84] = "MSR_READ_IMM",
        [85] = "MSR_WRITE_IMM",
    }.ToFrozenDictionary();

    private const uint VmxFailedVmEntry = 0x80000000;

    private static readonly FrozenDictionary<uint, string> Svm = BuildSvm();

    private static readonly FrozenDictionary<uint, string> Userspace = new[]
    {
        "UNKNOWN", "EXCEPTION", "IO", "HYPERCALL", "DEBUG", "HLT", "MMIO", "IRQ_WINDOW_OPEN", "SHUTDOWN", "FAIL_ENTRY",
        "INTR", "SET_TPR", "TPR_ACCESS", "S390_SIEIC", "S390_RESET", "DCR", "NMI", "INTERNAL_ERROR", "OSI", "PAPR_HCALL",
        "S390_UCONTROL", "WATCHDOG", "S390_TSCH", "EPR", "SYSTEM_EVENT", "S390_STSI", "IOAPIC_EOI", "HYPERV", "ARM_NISV",
        "X86_RDMSR", "X86_WRMSR", "DIRTY_RING_FULL", "AP_RESET_HOLD", "X86_BUS_LOCK", "XEN", "RISCV_SBI", "RISCV_CSR",
        "NOTIFY", "LOONGARCH_IOCSR", "MEMORY_FAULT", "TDX",
    }.Select((name, number) => (name, number)).ToFrozenDictionary(e => (uint)e.number, e => e.name);

    /// <summary>The name the kvm_exit tracepoint prints for <paramref name="reason"/> under <paramref name="isa"/>.</summary>
    public static string Name(KvmExitIsa isa, uint reason) => isa switch
    {
        KvmExitIsa.Vmx => VmxName(reason),
        KvmExitIsa.Svm => Svm.TryGetValue(reason, out var svm) ? svm : Number(reason),
        _ => Number(reason),
    };

    /// <summary>The KVM_EXIT_* name (without the prefix) of a userspace exit, as kvm_userspace_exit prints it.</summary>
    public static string UserspaceName(uint reason) => Userspace.TryGetValue(reason, out var name) ? name : Number(reason);

    /// <summary>The exit reason number of <paramref name="name"/> (a table name, case-sensitive as printed, or a number
    /// in decimal or 0x hex); false when neither.</summary>
    public static bool TryParse(KvmExitIsa isa, string name, out uint reason)
    {
        ArgumentNullException.ThrowIfNull(name);
        var table = isa == KvmExitIsa.Svm ? Svm : Vmx;
        foreach (var (number, known) in table)
        {
            if (string.Equals(known, name, StringComparison.Ordinal))
            {
                reason = number;
                return true;
            }
        }

        return name.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(name.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out reason)
            : uint.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out reason);
    }

    /// <summary>Every known reason of <paramref name="isa"/>, by number.</summary>
    public static IReadOnlyDictionary<uint, string> Table(KvmExitIsa isa) => isa == KvmExitIsa.Svm ? Svm : Vmx;

    /// <summary>The ISA of this host's CPU (/proc/cpuinfo flags vmx or svm, else the vendor), Unknown when neither says.</summary>
    public static KvmExitIsa HostIsa(string cpuinfoPath = "/proc/cpuinfo")
    {
        try
        {
            foreach (var line in File.ReadLines(cpuinfoPath))
            {
                if (line.StartsWith("flags", StringComparison.Ordinal))
                {
                    var flags = line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return flags.Contains("vmx") ? KvmExitIsa.Vmx : flags.Contains("svm") ? KvmExitIsa.Svm : KvmExitIsa.Unknown;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return KvmExitIsa.Unknown;
    }

    private static string VmxName(uint reason)
    {
        var basic = reason & 0xffff;
        var name = Vmx.TryGetValue(basic, out var known) ? known : Number(basic);
        return (reason & VmxFailedVmEntry) != 0 ? name + " FAILED_VMENTRY" : name; // the tracepoint prints the flag after the name
    }

    private static string Number(uint reason) => "0x" + reason.ToString("x", CultureInfo.InvariantCulture);

    private static FrozenDictionary<uint, string> BuildSvm()
    {
        var table = new Dictionary<uint, string>();
        foreach (var cr in new[] { 0, 2, 3, 4, 8 })
        {
            table[(uint)cr] = $"read_cr{cr}";
            table[(uint)(0x10 + cr)] = $"write_cr{cr}";
        }

        for (var dr = 0; dr < 8; dr++)
        {
            table[(uint)(0x20 + dr)] = $"read_dr{dr}";
            table[(uint)(0x30 + dr)] = $"write_dr{dr}";
        }

        // Exception intercepts: SVM_EXIT_EXCP_BASE (0x40) + vector, printed with the vector's mnemonic.
        foreach (var (vector, mnemonic) in new[] { (0, "DE"), (1, "DB"), (3, "BP"), (4, "OF"), (5, "BR"), (6, "UD"), (7, "NM"),
                     (8, "DF"), (10, "TS"), (11, "NP"), (12, "SS"), (13, "GP"), (14, "PF"), (16, "MF"), (17, "AC"), (18, "MC"), (19, "XF") })
        {
            table[(uint)(0x40 + vector)] = mnemonic + " excp";
        }

        var named = new (uint Code, string Name)[]
        {
            (0x060, "interrupt"), (0x061, "nmi"), (0x062, "smi"), (0x063, "init"), (0x064, "vintr"), (0x065, "cr0_sel_write"),
            (0x066, "read_idtr"), (0x067, "read_gdtr"), (0x068, "read_ldtr"), (0x069, "read_rt"), (0x06a, "write_idtr"),
            (0x06b, "write_gdtr"), (0x06c, "write_ldtr"), (0x06d, "write_rt"), (0x06e, "rdtsc"), (0x06f, "rdpmc"),
            (0x070, "pushf"), (0x071, "popf"), (0x072, "cpuid"), (0x073, "rsm"), (0x074, "iret"), (0x075, "swint"),
            (0x076, "invd"), (0x077, "pause"), (0x078, "hlt"), (0x079, "invlpg"), (0x07a, "invlpga"), (0x07b, "io"),
            (0x07c, "msr"), (0x07d, "task_switch"), (0x07e, "ferr_freeze"), (0x07f, "shutdown"), (0x080, "vmrun"),
            (0x081, "hypercall"), (0x082, "vmload"), (0x083, "vmsave"), (0x084, "stgi"), (0x085, "clgi"), (0x086, "skinit"),
            (0x087, "rdtscp"), (0x088, "icebp"), (0x089, "wbinvd"), (0x08a, "monitor"), (0x08b, "mwait"), (0x08d, "xsetbv"),
            (0x08f, "write_efer_trap"), (0x090, "write_cr0_trap"), (0x094, "write_cr4_trap"), (0x098, "write_cr8_trap"),
            (0x0a2, "invpcid"), (0x0a5, "buslock"), (0x0a6, "idle-halt"), (0x400, "npf"),
            (0x401, "avic_incomplete_ipi"), (0x402, "avic_unaccelerated_access"), (0x403, "vmgexit"),
            (0x80000001, "vmgexit_mmio_read"), (0x80000002, "vmgexit_mmio_write"), (0x80000003, "vmgexit_nmi_complete"),
            (0x80000004, "vmgexit_ap_hlt_loop"), (0x80000005, "vmgexit_ap_jump_table"), (0x80000010, "vmgexit_page_state_change"),
            (0x80000011, "vmgexit_guest_request"), (0x80000012, "vmgexit_ext_guest_request"), (0x80000013, "vmgexit_ap_creation"),
            (0x8000fffd, "vmgexit_hypervisor_feature"), (0xffffffff, "invalid_guest_state"),
        };
        foreach (var (code, name) in named)
        {
            table[code] = name;
        }

        return table.ToFrozenDictionary();
    }
}
