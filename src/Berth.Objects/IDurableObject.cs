namespace Berth.Objects;

/// <summary>
/// The grain interface every durable object implements. Declare your own interface deriving from it with
/// your RPC methods (each returning <see cref="Task"/> or <see cref="ValueTask"/>), and implement it on a
/// class deriving from <see cref="DurableObject"/>.
/// </summary>
public interface IDurableObject : IGrainWithStringKey
{
    /// <summary>Handles an HTTP request sent to the object. The default answers 501 Not Implemented.</summary>
    Task<FetchResponse> FetchAsync(FetchRequest request, CancellationToken cancellationToken = default);
}

/// <summary>The silo's alarm scheduler wakes an object through this interface.</summary>
internal interface IAlarmReceiver : IGrainWithStringKey
{
    Task DeliverAlarmAsync(CancellationToken cancellationToken);
}
