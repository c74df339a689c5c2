namespace VmProbe.Prometheus;

/// <summary>What one write produced: families and series written, and what was dropped to keep the file valid.</summary>
public readonly record struct PromWriteResult(int Families, int Series, int DuplicateSeriesDropped, int ClashingFamiliesDropped);
