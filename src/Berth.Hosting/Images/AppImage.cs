using System.Diagnostics;
using Berth.Runtime;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

/// <summary>The image a container class runs.</summary>
/// <param name="ClassName">The container class.</param>
/// <param name="Reference">Image reference to create containers from.</param>
/// <param name="Version">Value of the <see cref="BerthLabels.Version"/> label: the content hash for built images, the short image ID otherwise.</param>
/// <param name="Built"><see langword="true"/> when this call built the image; <see langword="false"/> on a cache hit or for a referenced image.</param>
public sealed record AppImage(string ClassName, string Reference, string Version, bool Built);
