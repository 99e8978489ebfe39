namespace Berth.Runtime;

/// <summary>
/// Measures a container's writable layer, for engines whose storage driver cannot bound it
/// (overlay2 on ext4 has no project quota, so the engine's <c>--storage-opt size</c> is refused).
/// A driver implements it next to <see cref="IContainerOperations"/>; Berth's disk watch uses it when
/// <see cref="SupportsDiskLimitsAsync"/> is <see langword="false"/>.
/// </summary>
public interface IContainerDiskUsage
{
    /// <summary>
    /// Whether the engine itself bounds a container's writable layer to its instance type's disk.
    /// When it does, no measuring is needed.
    /// </summary>
    Task<bool> SupportsDiskLimitsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The size, in bytes, of the files the container wrote or changed in its writable layer (the engine's <c>SizeRw</c>;
    /// tmpfs mounts and volumes are not in it), or <see langword="null"/> when the container does not exist.
    /// </summary>
    /// <exception cref="ContainerRuntimeException">The engine could not be asked.</exception>
    Task<long?> GetWritableLayerBytesAsync(string containerId, CancellationToken cancellationToken = default);
}
