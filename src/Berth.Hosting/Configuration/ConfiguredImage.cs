using System.Collections.Frozen;

namespace Berth.Hosting;

/// <summary>Where a container class's image comes from.</summary>
public abstract record ConfiguredImage;
