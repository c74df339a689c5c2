using VmProbe.Native;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Native;

public class ThreadAffinityTests
{
    [SkippableFact]
    public void PinsTheCallingThreadToOneCpuAndGivesBackWhatItHad()
    {
        ThreadCpus.OnOwnThread(() =>
        {
            var before = ThreadAffinity.TryCapture();
            Assert.NotNull(before);
            var allowed = ThreadCpus.Allowed();
            Skip.If(allowed.Count < 2, $"this thread may run on {allowed.Count} CPU: pinning cannot be told from not moving");
            foreach (var cpu in allowed)
            {
                Assert.True(before!.TryPin(cpu), $"pin to CPU {cpu}");
                Assert.Equal(cpu, ThreadCpus.Current());
                Assert.Equal(new[] { cpu }, ThreadCpus.Allowed());
            }

            Assert.False(before!.TryPin(-1));
            before.Restore();
            Assert.Equal(allowed, ThreadCpus.Allowed());
            return 0;
        });
    }
}
